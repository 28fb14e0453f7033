import t from 'tap';
import { Redis } from 'ioredis';
import { startGuardedService } from '../guards/guard-harness.ts';
import { APPROVER_TOKEN } from '../support/harness.ts';

// Every kind of run the scenario tests drive, on one service: succeeded, skipped by guards (scope, pause), deduplicated,
// unmatched, resolved, manual, cancelled, retried, approved, rejected, approval expired (escalated). Then the decisions
// kept in Redis are compared with remediator_decisions_total, reason by reason: each decision is counted exactly once.

const kubePlaybook = (name: string, alertname: string) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  triggers: [{ matchers: ['alertname="${alertname}"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - id: restart
      action: kube.rolloutRestart
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
`;
const longPlaybook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: long }
spec:
  triggers: [{ matchers: ['alertname="LongDown"'] }]
  steps:
    - id: hold
      action: wait
      with: { duration: 30s }
`;
const approvalPlaybook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: needs-approval }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  steps:
    - id: risky
      action: log
      with: { message: risky }
      approval: { timeout: 1s }
`;

const svc = await startGuardedService({
  playbooks: {
    'restart.yaml': kubePlaybook('restart', 'ServiceDown'),
    'paused.yaml': kubePlaybook('paused-restart', 'PausedDown'),
    'long.yaml': longPlaybook,
    'approval.yaml': approvalPlaybook,
  },
  guards: {
    ineffective: { window: 0 },
    storm: { targets: 100 },
    scope: { namespaces: ['ai-ninja', 'default'], excludeNamespaces: ['default'] },
  },
});

let minute = 0;
const startsAt = () => new Date(Date.parse('2026-05-01T08:00:00Z') + ++minute * 60_000).toISOString();
const manual = async (playbook: string, reason: string) =>
  (await svc.api('POST', `/v1/playbooks/${playbook}/runs`, { reason })).body.id as string;
const status = (s: string) => (r: any) => r.status === s;

/** Every decision kept in Redis, by reason: each run's list, plus the episode decisions that belong to no run. */
async function storedDecisions(): Promise<Record<string, number>> {
  const redis = new Redis(svc.redis!.url);
  try {
    const prefix = svc.config.redis.prefix;
    const out: Record<string, number> = {};
    const add = (json: string) => {
      const d = JSON.parse(json) as { reason: string };
      out[d.reason] = (out[d.reason] ?? 0) + 1;
    };
    for (const key of await redis.keys(`${prefix}:run:*:decisions`)) for (const d of await redis.lrange(key, 0, -1)) add(d);
    for (const key of await redis.keys(`${prefix}:episode:*:decisions`))
      for (const d of await redis.lrange(key, 0, -1)) if (!JSON.parse(d).runId) add(d);
    return out;
  } finally {
    redis.disconnect();
  }
}

/** remediator_decisions_total summed over playbooks, by reason. */
async function countedDecisions(): Promise<Record<string, number>> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^remediator_decisions_total\{([^}]*)\} (\S+)$/gm)) {
    const reason = /reason="([^"]*)"/.exec(m[1]!)![1]!;
    out[reason] = (out[reason] ?? 0) + Number(m[2]);
  }
  return out;
}

t.test('the decisions counted are the decisions recorded, reason by reason', async (t) => {
  // Succeeded, then the same alert again (deduplicated), then resolved.
  const at = startsAt();
  const [ok] = await svc.fire(['phone-gateway'], at);
  t.equal((await svc.ended(ok!)).status, 'completed');
  await svc.fire(['phone-gateway'], at);
  const body = svc.alerts(['phone-gateway'], at) as any;
  body.status = 'resolved';
  body.alerts[0].status = 'resolved';
  body.alerts[0].endsAt = new Date().toISOString();
  t.equal((await svc.post(body)).status, 202);

  // Skipped by the guards: out of scope, and paused.
  const [outOfScope] = await svc.fire(['web'], startsAt(), 'default');
  t.equal((await svc.ended(outOfScope!)).status, 'skipped');
  t.equal(
    (await svc.api('POST', '/v1/pause', { scope: 'playbook', value: 'paused-restart', reason: 'hands off for the test' })).status,
    201,
  );
  const [paused] = await svc.fire(['realtime-processor'], startsAt(), 'ai-ninja', 'PausedDown');
  t.equal((await svc.ended(paused!)).status, 'skipped');

  // No playbook for this alert.
  await svc.fire(['conversation-engine'], startsAt(), 'ai-ninja', 'NobodyCares');

  // Cancelled twice: a run started by an alert, then its retry.
  const [long] = await svc.fire(['profile-analytics'], startsAt(), 'ai-ninja', 'LongDown');
  await svc.waitForRun(long!, status('waiting'));
  t.equal((await svc.api('POST', `/v1/runs/${long}/cancel`, { reason: 'fixed by hand' })).status, 202);
  t.equal((await svc.ended(long!)).status, 'cancelled');
  const retry = (await svc.api('POST', `/v1/runs/${long}/retry`, { reason: 'once more' })).body.id as string;
  await svc.waitForRun(retry, status('waiting'));
  await svc.api('POST', `/v1/runs/${retry}/cancel`, { reason: 'enough' });
  t.equal((await svc.ended(retry)).status, 'cancelled');

  // Approved, rejected, and an approval left to expire (escalated).
  const approved = await manual('needs-approval', 'approve me');
  await svc.waitForRun(approved, status('awaiting_approval'));
  await svc.api('POST', `/v1/runs/${approved}/approve`, { reason: 'looks right' }, APPROVER_TOKEN);
  const rejected = await manual('needs-approval', 'reject me');
  await svc.waitForRun(rejected, status('awaiting_approval'));
  await svc.api('POST', `/v1/runs/${rejected}/reject`, { reason: 'not now' }, APPROVER_TOKEN);
  const expired = await manual('needs-approval', 'let it expire');
  t.equal((await svc.ended(approved)).status, 'completed');
  t.equal((await svc.ended(rejected)).status, 'skipped');
  t.equal((await svc.ended(expired)).status, 'escalated');

  const stored = await storedDecisions();
  const counted = await countedDecisions();
  for (const reason of [
    'started',
    'deduplicated',
    'resolved',
    'out_of_scope',
    'paused',
    'unmatched',
    'manual',
    'retried',
    'cancelled',
    'awaiting_approval',
    'approved',
    'rejected',
    'approval_expired',
    'escalated',
    'succeeded',
    'skipped',
  ]) {
    t.ok(stored[reason], `the runs recorded a "${reason}" decision`);
  }
  t.equal(stored.cancelled, 2, 'two cancels, two cancelled decisions');
  t.same(counted, stored, 'remediator_decisions_total equals the decisions recorded, reason by reason');
});

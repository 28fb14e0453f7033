import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startTestService } from '../support/harness.ts';
import { redisForTest } from '../support/redis.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';
import { RunFence } from '../../src/queue/run-fence.ts';
import { RunStore } from '../../src/store/run-store.ts';
import { initialRunState, type RunState } from '../../src/engine/run-state.ts';
import { newRunId } from '../../src/store/run-id.ts';
import type { RunRecord } from '../../src/store/run-record.ts';

// A worker killed between recording that a run waits for approval and adding the job that tells the approvers: the
// wait is in Redis, the notice job is not. The sweeper of a live process adds it, the approvers are told once, and
// however many sweeps follow, never again.

const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);
const redis = await redisForTest();
const prefix = `t${randomBytes(3).toString('hex')}`;
const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: needs-approval }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  steps:
    - { id: risky, action: log, with: { message: "risky" }, approval: { timeout: 10m } }
`;
const svc = await startTestService({
  playbooks: { 'approval.yaml': playbook },
  redis,
  overrides: (c) => {
    c.redis.prefix = prefix;
    c.runs = { ...c.runs, sweepInterval: '200ms' };
    c.escalation = {
      targets: { hook: { type: 'webhook', url: rx.webhook.url, secret: secrets.webhookSecret } },
      delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
    };
  },
});
const direct = new Redis(redis.url, { maxRetriesPerRequest: 1 });
t.teardown(() => direct.disconnect());
// The dead worker's view of Redis: the same keys, and nobody told of its decisions (it dies before adding the job).
const deadStore = new RunStore(direct, prefix, { retentionMs: 86_400_000 });
const fence = new RunFence(direct, deadStore.keys);

const noticesOf = (runId: string) =>
  rx.webhook.requests.filter((q) => JSON.stringify(q.body).includes(runId) && /Waiting for approval/.test(JSON.stringify(q.body)));

/** Exactly what a worker leaves when SIGKILLed after the wait is recorded and saved, before the notice job is added. */
async function crashWhileWaiting(t: Test, options: { thenEnded?: boolean } = {}): Promise<string> {
  const at = Date.now() - 60_000;
  const runId = newRunId(at);
  const record: RunRecord = {
    id: runId,
    playbook: 'needs-approval',
    createdAt: new Date(at).toISOString(),
    trigger: 'manual',
    alert: {
      status: 'firing',
      labels: { alertname: 'manual:needs-approval' },
      annotations: { summary: 'crash test' },
      startsAt: new Date(at).toISOString(),
      fingerprint: 'manual',
    },
    params: {},
    dryRun: false,
    operator: 'alice',
    reason: 'crash test',
  };
  await deadStore.createRun(record);
  const owner = `dead-worker-${randomBytes(4).toString('hex')}`;
  t.equal(await fence.claim(runId, owner, Date.now() + 600_000), 'claimed', 'the doomed worker claims the run');
  const expiresAt = new Date(Date.now() + 600_000).toISOString();
  await deadStore.recordDecision({
    at: new Date(at + 10).toISOString(),
    reason: 'awaiting_approval',
    runId,
    playbook: 'needs-approval',
    message: 'step "risky" waits for approval',
  });
  const waiting: RunState = {
    ...initialRunState(),
    status: 'awaiting_approval',
    approval: {
      stepId: 'risky',
      planHash: 'a'.repeat(64),
      plan: { step: 'risky', uses: 'log', params: { message: 'risky' }, dryRun: false },
      requestedAt: new Date(at + 10).toISOString(),
      expiresAt,
    },
  };
  // thenEnded: the run ended (its window closed, say) before anything swept: the same record, a final state.
  const state: RunState = options.thenEnded ? { ...waiting, status: 'escalated' } : waiting;
  t.equal(await fence.save(runId, owner, state, at + 20), 'saved', 'and saves the state, then dies');
  return runId;
}

t.test("killed before the approvers' notice was queued: the sweeper queues it, and they are told once", async (t) => {
  const runId = await crashWhileWaiting(t);
  t.not(await direct.zscore(deadStore.keys.approvalsUnannounced(), runId), null, 'the wait is recorded as unannounced with its decision');

  const told = await svc.waitForRun(runId, (r) => r.decisions.some((d: any) => d.reason === 'approval_requested'), 10_000);
  t.equal(told.status, 'awaiting_approval', 'the run still waits');
  t.match(
    told.decisions.find((d: any) => d.reason === 'approval_requested').message,
    /^approvers told on hook: step "risky" waits for approval until/,
  );
  await rx.webhook.waitFor(() => noticesOf(runId).length >= 1);
  t.equal(await direct.zscore(deadStore.keys.approvalsUnannounced(), runId), null, 'nothing left unannounced');

  // Several more sweeps: nothing more is sent or recorded.
  const sweepsLater = Date.now() + 1500;
  while (Date.now() < sweepsLater) await sleep(100);
  t.equal(noticesOf(runId).length, 1, 'the approvers were told exactly once');
  const after = (await svc.api('GET', `/v1/runs/${runId}`)).body;
  t.equal(after.decisions.filter((d: any) => d.reason === 'approval_requested').length, 1, 'one approval_requested decision');
  t.same(rx.webhook.problems(), [], 'every notice met the webhook contract');
  await svc.api('POST', `/v1/runs/${runId}/cancel`, { reason: 'cleanup' });
});

t.test('a run that ended before the sweeper came is not announced, and its entry goes', async (t) => {
  const runId = await crashWhileWaiting(t, { thenEnded: true });
  const deadline = Date.now() + 10_000;
  while ((await direct.zscore(deadStore.keys.approvalsUnannounced(), runId)) !== null && Date.now() < deadline) await sleep(50);
  t.equal(await direct.zscore(deadStore.keys.approvalsUnannounced(), runId), null, 'the entry went');
  const after = (await svc.api('GET', `/v1/runs/${runId}`)).body;
  t.notOk(
    after.decisions.some((d: any) => d.reason === 'approval_requested'),
    'nobody was told of a run that ended',
  );
  t.equal(noticesOf(runId).length, 0);
});

import t from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGuardedService } from '../guards/guard-harness.ts';
import { workerProcesses } from '../support/worker-process.ts';

// A stop reaches the step in flight, across processes: the receiver takes the PagerDuty acknowledge or the API cancel,
// two separate worker processes run the runs, and whichever holds the run interrupts its step at once instead of
// letting it run on (a health check held for minutes, a long wait). The run ends cancelled with `step_interrupted`
// naming the person, and nothing more is written to the simulated cluster.
const signing = `pdsec-${randomBytes(16).toString('hex')}`;

// A health endpoint that never answers: each request is kept until the client gives up on it.
const held: Array<{ req: IncomingMessage; closed: Promise<unknown> }> = [];
let heldArrived: (() => void) | undefined;
const slow = createServer((req) => {
  held.push({ req, closed: once(req.socket, 'close') });
  heldArrived?.();
});
await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
t.teardown(() => {
  slow.closeAllConnections();
  slow.close();
});
const slowUrl = `http://127.0.0.1:${(slow.address() as { port: number }).port}/health`;

const ladder = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: held-check-ladder }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  rungs:
    - name: restart
      steps:
        - { id: restart, action: kube.rolloutRestart, with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" } }
        - { id: health, gate: http.check, with: { url: "${slowUrl}", timeout: 10m }, pollTimeout: 10m, interval: 1s, timeout: 30m, successes: 1 }
    - name: scale-up
      steps:
        - { id: scale, action: kube.scale, with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", replicas: 3 } }
`;
const waiting = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: restart-then-wait }
spec:
  triggers: [{ matchers: ['alertname="SlowRecovery"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - { id: restart, action: kube.rolloutRestart, with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" } }
    - { id: settle, action: wait, with: { duration: 20m } }
    - { id: scale, action: kube.scale, with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", replicas: 3 } }
`;
const escalation = {
  // No step pages here; the target exists because the inbound hooks live beside the escalation targets.
  targets: { pd: { type: 'pagerduty', routingKey: randomBytes(16).toString('hex'), url: 'http://127.0.0.1:9/v2/enqueue' } },
  inbound: { pagerduty: { secrets: [signing] } },
};
const svc = await startGuardedService({
  playbooks: { 'ladder.yaml': ladder, 'wait.yaml': waiting },
  role: 'receiver',
  overrides: (c) => {
    c.escalation = escalation;
  },
});

const dir = await mkdtemp(join(tmpdir(), 'remediator-stop-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const configFile = join(dir, 'config.yaml');
// JSON is YAML: the workers share the receiver's Redis, prefix, playbooks, cluster and escalation settings.
await writeFile(
  configFile,
  JSON.stringify({
    server: { host: '127.0.0.1', port: 0 },
    redis: { url: svc.redis!.url, prefix: svc.config.redis.prefix },
    playbooks: { dir: svc.playbookDir, watch: false },
    kubernetes: { enabled: true, kubeconfig: svc.kubeconfig, requestTimeout: '5s' },
    worker: { concurrency: 2, lockDuration: '5s', stalledInterval: '1s', shutdownGrace: '1s' },
    escalation,
    logging: { level: 'info' },
  }),
);
const pool = workerProcesses(configFile);
await Promise.all([pool.start().ready, pool.start().ready]);

function signed(body: unknown): { raw: string; signature: string } {
  const raw = JSON.stringify(body);
  return { raw, signature: `v1=${createHmac('sha256', signing).update(raw).digest('hex')}` };
}

async function acknowledge(episode: string): Promise<number> {
  const { raw, signature } = signed({
    event: {
      id: `01${randomBytes(6).toString('hex')}`,
      event_type: 'incident.acknowledged',
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: { id: 'PU7', type: 'user_reference', summary: 'Dana Oncall' },
      data: { id: 'Q7', type: 'incident', incident_key: `remediator-${episode}` },
    },
  });
  const res = await fetch(`${svc.url}/v1/hooks/pagerduty`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-pagerduty-signature': signature },
    body: raw,
  });
  return res.status;
}

const scaled = (deployment: string) => svc.writesTo(deployment).filter((w) => w.path.endsWith('/scale') || /"replicas"/.test(w.body));

t.test('a PagerDuty acknowledge interrupts a health check held in flight; the record names the person', async (t) => {
  const arrived = new Promise<void>((r) => {
    heldArrived = r;
  });
  const [runId] = await svc.fire(['phone-gateway'], new Date().toISOString());
  // The gate's request reached the endpoint, which holds it (for up to its 10-minute poll timeout).
  await arrived;
  const request = held.at(-1)!;
  const run = (await svc.api('GET', `/v1/runs/${runId}`)).body;
  t.equal(run.status, 'running', 'the run is in its health gate, its poll in flight');
  const before = svc.writesTo('phone-gateway').length;
  t.ok(before >= 1, 'the restart was written before the gate');

  const ackedAt = Date.now();
  t.equal(await acknowledge(run.episodeId), 202);
  // The worker gives up on the held request: the stop reached the step, not just the run's next step.
  await request.closed;
  t.comment(`the held health request was dropped ${Date.now() - ackedAt} ms after the acknowledge was answered`);
  const ended = await svc.ended(runId!);
  t.equal(ended.status, 'cancelled');
  const health = ended.state.steps.find((s: any) => s.id === 'health');
  t.equal(health.status, 'failed');
  t.equal(health.error.code, 'REM_ERR_STEP_INTERRUPTED');
  t.match(health.error.message, /Dana Oncall stopped the run \(acknowledged in PagerDuty\)/);
  t.equal(ended.decisions.find((d: any) => d.reason === 'human_ack')?.by, 'Dana Oncall');
  const interrupted = ended.decisions.find((d: any) => d.reason === 'step_interrupted');
  t.equal(interrupted?.by, 'Dana Oncall', 'the interruption names who stopped it');
  t.match(interrupted?.message, /step "health" \(http\.check\) was interrupted in flight by Dana Oncall: acknowledged in PagerDuty/);
  t.match(interrupted?.message, /changes made before stay in place: restart \(kube\.rolloutRestart/, 'what was done is said, not undone');
  t.notOk(
    ended.state.steps.some((s: any) => s.id === 'scale'),
    'the scale-up rung never started',
  );
  t.equal(svc.writesTo('phone-gateway').length, before, 'no write to the deployment after the acknowledge');
  t.same(scaled('phone-gateway'), [], 'nothing scaled');
  const report = await svc.api('GET', `/v1/incidents/${run.episodeId}/report`);
  t.equal(report.status, 200);
  t.match(report.body, /step "health" \(http\.check\) was interrupted in flight by Dana Oncall/, 'the incident report tells it');
});

t.test('a cancel from the API stops a run in its wait step, and says so', async (t) => {
  const [runId] = await svc.fire(['realtime-processor'], new Date().toISOString(), 'ai-ninja', 'SlowRecovery');
  const run = await svc.waitForRun(runId!, (r) => r.state?.steps?.some((s: any) => s.id === 'settle' && s.status === 'pending'));
  const before = svc.writesTo('realtime-processor').length;
  const res = await svc.api('POST', `/v1/runs/${runId}/cancel`, { reason: 'rolling back by hand' });
  t.equal(res.status, 202);
  const ended = await svc.ended(runId!);
  t.equal(ended.status, 'cancelled');
  const settle = ended.state.steps.find((s: any) => s.id === 'settle');
  t.equal(settle.error?.code, 'REM_ERR_STEP_INTERRUPTED', 'the wait is recorded as interrupted, not left pending');
  const interrupted = ended.decisions.find((d: any) => d.reason === 'step_interrupted');
  t.equal(interrupted?.by, 'alice');
  t.match(interrupted?.message, /step "settle" \(wait\) was interrupted while it waited between its calls by alice: rolling back by hand/);
  t.equal(svc.writesTo('realtime-processor').length, before, 'nothing written after the cancel');
  t.same(scaled('realtime-processor'), []);
  t.ok(run.episodeId);
});

import t from 'tap';
import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import type { TestService } from '../support/harness.ts';
import { pagedReplicas } from '../support/paged-replicas.ts';

// A run past its maximum duration ends escalated with one `timed_out` decision and one page: whether a worker is
// running it (a gate that never settles) or nobody is (its job was lost), and however many replicas notice.
const down = createServer((_req, res) => {
  res.statusCode = 503;
  res.end('down');
});
await new Promise<void>((r) => down.listen(0, '127.0.0.1', () => r()));
t.teardown(() => down.close());
const health = `http://127.0.0.1:${(down.address() as { port: number }).port}/health`;

const playbooks = {
  // The gate alone would poll for an hour; the playbook allows the run 1.5 s.
  'stuck-gate.yaml': `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: stuck-gate }
spec:
  triggers: [{ matchers: ['alertname="StuckGate"'] }]
  maxDuration: 1500ms
  onExhausted: { targets: [pd] }
  steps:
    - { id: note, action: log, with: { message: "looking at {{ labels.deployment }}" } }
    - { id: health, gate: http.check, with: { url: "${health}" }, interval: 100ms, timeout: 1h }
`,
  // Waits an hour; runs.maxDuration (1 s below) ends it first.
  'long-wait.yaml': `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: long-wait }
spec:
  triggers: [{ matchers: ['alertname="LongWait"'] }]
  onExhausted: { targets: [pd] }
  steps:
    - { id: settle, action: wait, with: { duration: 1h }, deadline: 2h }
    - { id: never, action: log, with: { message: "never reached" } }
`,
};

const {
  redis,
  keys,
  rx,
  start,
  alert: post,
  pagesFor,
} = await pagedReplicas({ playbooks, runs: { maxDuration: '1s', sweepInterval: '200ms' } });
const prefix = keys.prefix;
const a: TestService = await start('all');
// A second replica: its worker and sweeper race the first one's for every run.
await start('worker');
const alert = (alertname: string, deployment: string, startsAt: string) => post(a, alertname, deployment, startsAt);

t.test('a gate that never settles: the run ends escalated at spec.maxDuration, with one timed_out decision and one page', async (t) => {
  const started = Date.now();
  const runId = await alert('StuckGate', 'phone-gateway', '2026-05-01T08:00:00.000Z');
  const run = await a.waitForRun(runId, (r) => r.status === 'escalated' && r.decisions.some((d: any) => d.reason === 'timed_out'), 10_000);
  const took = Date.now() - started;
  t.ok(took >= 1400 && took < 5000, `ended about 1.5 s after it was created, not after the gate's hour (${took} ms)`);
  t.equal(run.decisions.filter((d: any) => d.reason === 'timed_out').length, 1, 'one timed_out decision');
  t.match(run.decisions.find((d: any) => d.reason === 'timed_out').message, /maximum duration of 1\.5s \(it was on step "health"/);
  const gate = run.state.steps.find((s: any) => s.id === 'health');
  t.equal(gate.status, 'failed');
  t.equal(gate.error.code, 'REM_ERR_RUN_DEADLINE');
  t.same(
    run.state.rungs.map((r: any) => r.outcome),
    ['failed'],
    'the open rung is closed as failed',
  );
  await rx.pagerduty.waitFor(() => pagesFor([runId]).length >= 1, 5000);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(pagesFor([runId]).length, 1, 'paged once');
});

t.test('runs whose jobs were lost: the sweepers of two replicas close each one once, and page once', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(await alert('LongWait', `svc-${i}`, `2026-05-01T09:0${i}:00.000Z`));
  for (const id of ids) await a.waitForRun(id, (r) => r.status === 'waiting', 5000);
  // Lose every job: nothing in BullMQ will ever wake these runs again.
  const queue = new Queue('runs', { prefix, connection: { host: '127.0.0.1', port: redis.port } });
  t.teardown(() => queue.close());
  for (const id of ids) t.equal(await queue.remove(id), 1, `job of ${id} removed`);

  for (const id of ids) {
    // The closed state is saved first (that save is what makes the close happen once), the decision right after it.
    const run = await a.waitForRun(id, (r) => r.status === 'escalated' && r.decisions.some((d: any) => d.reason === 'timed_out'), 10_000);
    const timedOut = run.decisions.filter((d: any) => d.reason === 'timed_out');
    t.equal(timedOut.length, 1, `${id}: one timed_out decision`);
    t.match(timedOut[0].message, /maximum duration of 1s \(it was on step "settle".*no worker was running it/);
    t.equal(run.state.steps.at(-1).error.code, 'REM_ERR_RUN_DEADLINE');
    t.notOk(
      run.state.steps.some((s: any) => s.id === 'never'),
      'no further step ran',
    );
  }
  await rx.pagerduty.waitFor(() => pagesFor(ids).length >= ids.length, 5000);
  await new Promise((r) => setTimeout(r, 600));
  for (const id of ids) t.equal(pagesFor([id]).length, 1, `${id} paged once`);
});

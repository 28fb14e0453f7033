import t from 'tap';
import { workerProcesses } from '../support/worker-process.ts';
import { createServer } from 'node:http';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService, fixture } from '../support/harness.ts';
import { redisForTest } from '../support/redis.ts';

// A worker process killed with SIGKILL in the middle of a step: another worker picks the run up, the completed
// steps do not run again, at most the step in flight repeats, and the run finishes once.
const hits = new Map<string, number>();
let onHit: (path: string) => void = () => {};
const target = createServer((req, res) => {
  const path = req.url ?? '';
  hits.set(path, (hits.get(path) ?? 0) + 1);
  onHit(path);
  const delay = path === '/step3' ? 1500 : 0;
  setTimeout(() => res.end('ok'), delay);
});
await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
t.teardown(() => target.close());
const base = `http://127.0.0.1:${(target.address() as { port: number }).port}`;

const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: crashy }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  steps:
    - { id: step1, action: http.request, with: { url: "${base}/step1", method: POST } }
    - { id: step2, action: wait, with: { duration: 300ms } }
    - { id: step3, action: http.request, with: { url: "${base}/step3", method: POST } }
    - { id: step4, action: http.request, with: { url: "${base}/step4", method: POST } }
`;

const redis = await redisForTest();
const receiver = await startTestService({ playbooks: { 'crashy.yaml': playbook }, redis, role: 'receiver' });
const dir = await mkdtemp(join(tmpdir(), 'remediator-crash-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const configFile = join(dir, 'config.yaml');
await writeFile(
  configFile,
  `server: { host: 127.0.0.1, port: 0 }
redis: { url: "${redis.url}", prefix: "${receiver.config.redis.prefix}" }
playbooks: { dir: "${receiver.playbookDir}", watch: false }
kubernetes: { enabled: false }
worker: { concurrency: 2, lockDuration: 2s, stalledInterval: 1s, shutdownGrace: 1s }
logging: { level: warn }
`,
);
const workerPool = workerProcesses(configFile);
const workers = workerPool.all;
const startWorker = () => workerPool.start();

t.test('SIGKILL while a step is in flight: the run finishes once, no completed step repeats', async (t) => {
  const a = startWorker();
  const inFlight = new Promise<void>((resolve) => (onHit = (p) => p === '/step3' && resolve()));
  const res = await receiver.post(await fixture('alertmanager/firing.json'));
  t.equal(res.status, 202);
  const runId = res.body.alerts[0].runs[0].runId;
  await inFlight;
  const exited = new Promise((r) => a.once('exit', r));
  a.kill('SIGKILL');
  await exited;
  startWorker();
  // The final state is saved first, the closing decision right after it: wait for both.
  const run = await receiver.waitForRun(
    runId,
    (r) => r.status === 'completed' && r.decisions.some((d: any) => d.reason === 'succeeded'),
    30_000,
  );
  t.equal(hits.get('/step1'), 1, 'step1 completed before the crash and never ran again');
  t.ok((hits.get('/step3') ?? 0) >= 1 && (hits.get('/step3') ?? 0) <= 2, `the step in flight ran at most twice (${hits.get('/step3')})`);
  t.equal(hits.get('/step4'), 1, 'step4 ran once');
  t.same(
    run.state.steps.map((s: any) => s.id),
    ['step1', 'step2', 'step3', 'step4'],
    'each step recorded once',
  );
  const finals = run.decisions.filter((d: any) => d.reason === 'succeeded');
  t.equal(finals.length, 1, 'the run finished once');
});

t.test('SIGTERM lets the step in flight finish, then the worker exits', async (t) => {
  const w = workers.at(-1)!;
  const exited = new Promise<number | null>((r) => w.once('exit', (code) => r(code)));
  w.kill('SIGTERM');
  t.equal(await exited, 0);
});

import t from 'tap';
import { workerProcesses } from '../support/worker-process.ts';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGuardedService, envFlipPlaybook, remediationMarks } from './guard-harness.ts';

// A worker process holding a target's lock is killed with SIGKILL in the middle of its run. Its lock must not
// block the target forever (it expires after guards.lock.ttl), and once another run has been granted the target the
// crashed run must never write to it again (fencing): the runs' writes never interleave.
const playbook = envFlipPlaybook(1500);
const guards = { lock: { ttl: '1s', retryAfter: '100ms' }, ineffective: { window: 0 } };
const svc = await startGuardedService({ playbooks: { 'flip.yaml': playbook }, role: 'receiver', guards });

const dir = await mkdtemp(join(tmpdir(), 'remediator-guard-crash-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const configFile = join(dir, 'config.yaml');
await writeFile(
  configFile,
  `server: { host: 127.0.0.1, port: 0 }
redis: { url: "${svc.redis!.url}", prefix: "${svc.config.redis.prefix}" }
playbooks: { dir: "${svc.playbookDir}", watch: false }
kubernetes: { enabled: true, kubeconfig: "${svc.kubeconfig}" }
worker: { concurrency: 2, lockDuration: 2s, stalledInterval: 1s, shutdownGrace: 1s }
guards: ${JSON.stringify(guards)}
logging: { level: warn }
`,
);
const workerPool = workerProcesses(configFile);
const startWorker = () => workerPool.start();

/** The run id each write to the deployment carried, in the order the API server received them. */
const writers = () => remediationMarks(svc, 'phone-gateway').map((m) => m.run);

t.test('SIGKILL while holding a lock: the lock expires, and the crashed run never writes after another run', async (t) => {
  const a = startWorker();
  const [runA] = await svc.fire(['phone-gateway'], '2026-05-01T08:00:00.000Z');
  const deadline = Date.now() + 20_000;
  while (writers().length === 0 && Date.now() < deadline) await sleep(20);
  t.same(writers(), [runA], 'run A wrote its first change and now holds the target');
  const exited = new Promise((r) => a.once('exit', r));
  a.kill('SIGKILL');
  await exited;

  const [runB] = await svc.fire(['phone-gateway'], '2026-05-01T08:01:00.000Z');
  startWorker();
  const [endA, endB] = await Promise.all([svc.ended(runA!, 30_000), svc.ended(runB!, 30_000)]);
  t.equal(endB.status, 'completed', 'the other run got the target although the crashed worker never released it');
  const order = writers();
  const blocks = order.filter((id, i) => i === 0 || order[i - 1] !== id);
  t.equal(new Set(blocks).size, blocks.length, `each run's writes are one block, never interleaved (${order.join(', ')})`);
  if (endA.status === 'completed') {
    t.same(blocks, [runA, runB], 'A resumed with its lock (nobody had taken it) before B acted');
  } else {
    t.equal(endA.status, 'escalated', 'A lost the target to B and handed over instead of writing');
    t.match(endA.decisions.find((d: any) => d.reason === 'locked')?.message, /lock on ai-ninja\/Deployment\/phone-gateway expired/);
  }
});

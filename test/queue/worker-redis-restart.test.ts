import t from 'tap';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { workerProcesses } from '../support/worker-process.ts';
import { redisForTest } from '../support/redis.ts';
import { startGuardedService, envFlipPlaybook, FINAL } from '../guards/guard-harness.ts';

// A worker process that was in the middle of runs while Redis was SIGKILLed and restarted (AOF, same port and folder)
// takes runs again afterwards: the runs in flight end without waiting for their maximum duration, and a run posted
// after the restart completes. (test/queue/kill-workers.test.ts does this with workers killed too; this one keeps a
// single worker alive, so a worker that stopped taking jobs after reconnecting could not hide behind a new one.)
t.setTimeout(10 * 60_000);
const redis = await redisForTest({ appendonly: true });
const guards = { lock: { ttl: '1s', retryAfter: '100ms' }, budget: { runs: 100, window: '1h' }, ineffective: { window: 0 } };
const svc = await startGuardedService({ playbooks: { 'flip.yaml': envFlipPlaybook(1000) }, role: 'receiver', guards, redis });
const dir = await mkdtemp(join(tmpdir(), 'remediator-worker-redis-restart-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const configFile = join(dir, 'config.yaml');
await writeFile(
  configFile,
  `server: { host: 127.0.0.1, port: 0 }
redis: { url: "${redis.url}", prefix: "${svc.config.redis.prefix}" }
playbooks: { dir: "${svc.playbookDir}", watch: false }
kubernetes: { enabled: true, kubeconfig: "${svc.kubeconfig}", requestTimeout: 5s }
worker: { concurrency: 4, lockDuration: 1s, stalledInterval: 500ms, shutdownGrace: 1s }
runs: { maxDuration: 2m, sweepInterval: 1s, closingGrace: 1s }
guards: ${JSON.stringify(guards)}
logging: { level: info }
`,
);
const pool = workerProcesses(configFile);
const TARGETS = ['conversation-engine', 'profile-analytics', 'phone-gateway-backup'];

async function fire(deployment: string, startsAt: string): Promise<string> {
  for (;;) {
    const [runId] = await svc.fire([deployment], startsAt).catch(() => []);
    if (runId) return runId;
    await sleep(200);
  }
}

async function final(runId: string): Promise<any> {
  for (;;) {
    const res = await svc.api('GET', `/v1/runs/${runId}`).catch(() => undefined);
    if (res?.status === 200 && FINAL.has(res.body.status)) return res.body;
    await sleep(200);
  }
}

t.test('a worker takes runs again after Redis restarted under it', async (t) => {
  const worker = pool.start();
  await worker.ready;
  const before = await final(await fire('phone-gateway', '2026-05-01T08:00:00Z'));
  t.equal(before.status, 'completed', 'a run before the restart completed');
  // Runs in flight: each has written its begin and holds its target for a second when Redis goes.
  const inFlight = await Promise.all(TARGETS.map((d) => fire(d, '2026-05-01T08:02:00Z')));
  const writes = () => svc.sim.requests.filter((r) => r.method !== 'GET' && !r.path.endsWith('/selfsubjectaccessreviews')).length;
  while (writes() < 2 + inFlight.length) await sleep(20);
  await redis.kill(true);
  await sleep(500);
  await redis.start();
  const started = Date.now();
  const after = await final(await fire('realtime-processor', '2026-05-01T08:03:00Z'));
  t.comment(`the run after the restart ended after ${Date.now() - started} ms`);
  const ended = await Promise.all(inFlight.map(final));
  t.same(
    ended.filter((r) => /maximum duration/.test(r.state?.outcome ?? '')).map((r) => r.id),
    [],
    'no run in flight at the restart waited for its maximum duration',
    { outcomes: ended.map((r) => `${r.status}: ${r.state?.outcome ?? ''}`) },
  );
  t.equal(worker.exitCode, null, 'the same worker process is still running');
  t.equal(after.status, 'completed', 'a run posted after the restart completed', { outcome: after.state?.outcome });
});

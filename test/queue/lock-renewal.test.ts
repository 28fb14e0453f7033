import t from 'tap';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Test } from 'tap';
import { startGuardedService, envFlipPlaybook, remediationMarks } from '../guards/guard-harness.ts';
import { TargetLock } from '../../src/guards/target-lock.ts';
import { Keys } from '../../src/store/keys.ts';

// A run holding a target's lock stays its holder while it is alive, even when what it does between two mutations
// takes far longer than the lock's TTL: a wait done by moving its job to BullMQ's delayed set (no process holds it
// then), or a slow step in a worker. A second run for the same target waits for it instead of taking the target
// and leaving the first to hand over half done.
const HOLD_MS = 4000;
const slow = createServer((_req, res) => setTimeout(() => res.end('ok'), HOLD_MS));
await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
t.teardown(() => slow.close());
const slowUrl = `http://127.0.0.1:${(slow.address() as { port: number }).port}/slow`;

const slowStep = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: env-flip }
spec:
  triggers: [{ matchers: ['alertname="SlowStep"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - { id: begin, action: kube.setEnv, with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", env: { REMEDIATION: "{{ run.id }}-begin" } } }
    - { id: hold, action: http.request, with: { url: "${slowUrl}", method: POST } }
    - { id: end, action: kube.setEnv, with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", env: { REMEDIATION: "{{ run.id }}-end" } } }
`;

// Lock TTL 2 s against 4 s between the two writes of each run. The TTL is also the slack the product allows between
// a sleeping run's wake-up time and its worker taking the job again (and between two heartbeats of a busy worker),
// as `guards.lock.ttl` documents; on a loaded 2-core machine a job can take far more than a few hundred ms to be
// picked up, so a smaller TTL here would test the machine's speed, not the renewal.
const TTL_MS = 2000;
const guards = { lock: { ttl: `${TTL_MS}ms`, retryAfter: '50ms' }, ineffective: { window: 0 }, budget: { runs: 10 } };
const svc = await startGuardedService({
  playbooks: { 'flip.yaml': envFlipPlaybook(HOLD_MS), 'slow.yaml': slowStep.replace('name: env-flip', 'name: slow-step') },
  guards,
});

async function twoRuns(t: Test, deployment: string, alertname: string, day: string) {
  const [first] = await svc.fire([deployment], `${day}T08:00:00.000Z`, 'ai-ninja', alertname);
  const deadline = Date.now() + 30_000;
  while (remediationMarks(svc, deployment).length === 0 && Date.now() < deadline) await sleep(10);
  // Past the TTL since the first write: without renewal the first run's lock is gone by now.
  await sleep(TTL_MS + 500);
  const [second] = await svc.fire([deployment], `${day}T08:01:00.000Z`, 'ai-ninja', alertname);
  const [endA, endB] = await Promise.all([svc.ended(first!, 30_000), svc.ended(second!, 30_000)]);
  t.equal(endA.status, 'completed', 'the first run kept the target to the end');
  t.equal(endB.status, 'completed', 'the second run acted after it');
  t.same(
    remediationMarks(svc, deployment).map((m) => `${m.run === first ? 'A' : m.run === second ? 'B' : '?'}-${m.phase}`),
    ['A-begin', 'A-end', 'B-begin', 'B-end'],
    'the second run wrote only after the first was done',
  );
  t.ok(
    endB.decisions.some((d: any) => d.reason === 'locked'),
    'the second run was told to wait for the lock',
  );
}

t.test('a wait in the delayed set longer than the lock TTL keeps the lock', (t) =>
  twoRuns(t, 'phone-gateway', 'ServiceDown', '2026-05-01'),
);
t.test('a step running in a worker longer than the lock TTL keeps the lock', (t) =>
  twoRuns(t, 'realtime-processor', 'SlowStep', '2026-05-02'),
);

t.test("renewal keeps only a live holder's lock: it never resurrects an expired lock or extends another run's", async (t) => {
  const redis = new Redis(svc.redis!.url, { maxRetriesPerRequest: 1 });
  t.teardown(() => redis.disconnect());
  const lock = new TargetLock(redis, new Keys(`renew${Date.now()}`));
  const claim = (runId: string) =>
    lock.claim({
      runId,
      playbook: 'p',
      target: 'ns/Deployment/x',
      now: Date.now(),
      ttlMs: 200,
      limits: { runs: 10, windowMs: 3_600_000, cooldownMs: 0 },
      countBudget: true,
    });
  t.equal((await claim('a')).kind, 'acquired');
  t.equal(await lock.renew('a', 800), 1, 'the holder renews (a sleep of 600 ms plus the TTL)');
  await sleep(500);
  t.same(await lock.holder('ns/Deployment/x'), { runId: 'a', token: 1 }, 'still held past the 200 ms TTL');
  await sleep(500);
  t.equal(await lock.holder('ns/Deployment/x'), undefined, 'a holder that stops renewing loses the lock when the renewal runs out');
  t.equal(await lock.renew('a', 800), 0, 'renewing an expired lock does not bring it back');
  t.equal(await lock.holder('ns/Deployment/x'), undefined);
  t.equal((await claim('b')).kind, 'acquired');
  t.equal(await lock.renew('a', 60_000), 0, "a cannot extend b's lock");
  t.same(await claim('a'), { kind: 'lost', holder: 'b' }, 'and a stays fenced out');
});

import t from 'tap';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisForTest } from '../support/redis.ts';
import { Keys } from '../../src/store/keys.ts';
import { TargetLock, type ClaimRequest } from '../../src/guards/target-lock.ts';
import { StormBreaker } from '../../src/guards/storm-breaker.ts';
import { Handover } from '../../src/guards/handover.ts';
import { PauseRegistry } from '../../src/guards/pause-registry.ts';
import { budgetVerdict } from '../../src/guards/budget-policy.ts';

// The guard layer's Redis scripts on a real redis-server (with AOF, so a restart keeps the state).
const server = await redisForTest({ appendonly: true });
const connections: Redis[] = [];
const connect = () => {
  const r = new Redis(server.url, { maxRetriesPerRequest: 1 });
  connections.push(r);
  return r;
};
t.teardown(() => {
  for (const c of connections) c.disconnect();
});

const H = 3_600_000;
const t0 = Date.parse('2026-03-01T10:00:00Z');
let n = 0;
const fresh = () => new Keys(`g${++n}`);
const claim = (lock: TargetLock, over: Partial<ClaimRequest>) =>
  lock.claim({
    runId: 'r1',
    playbook: 'restart',
    target: 'ai-ninja/Deployment/web',
    now: t0,
    ttlMs: 60_000,
    limits: { runs: 3, windowMs: H, cooldownMs: 0 },
    countBudget: true,
    ...over,
  });

t.test('of many runs racing for one target from separate connections, exactly one is granted it', async (t) => {
  const keys = fresh();
  const locks = Array.from({ length: 8 }, () => new TargetLock(connect(), keys));
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => claim(locks[i % locks.length]!, { runId: `run-${i}` })));
  const granted = results.filter((r) => r.kind === 'acquired');
  t.equal(granted.length, 1);
  t.equal(results.filter((r) => r.kind === 'locked').length, 39);
  const holder = await locks[0]!.holder('ai-ninja/Deployment/web');
  t.ok(holder && results[Number(holder.runId.slice(4))]!.kind === 'acquired', 'the holder is the run that was granted');
});

t.test('fencing: a run whose lock expired cannot write once another run was granted the target', async (t) => {
  const keys = fresh();
  const redis = connect();
  const lock = new TargetLock(redis, keys);
  // The lock's TTL is long; it is made to expire on purpose (PEXPIRE 1, then wait until the key is gone), so a slow
  // machine cannot let it expire between acquire and renew, and no sleep has to outlast a short TTL.
  const expire = async () => {
    await redis.pexpire(keys.guardLock('ai-ninja/Deployment/web'), 1);
    while ((await redis.exists(keys.guardLock('ai-ninja/Deployment/web'))) === 1) await sleep(5);
  };
  const a = await claim(lock, { runId: 'a' });
  t.same(a, { kind: 'acquired', token: 1 });
  t.same(await claim(lock, { runId: 'a' }), { kind: 'renewed', token: 1 }, 'a later mutation of the same run renews');
  await expire();
  t.same(await claim(lock, { runId: 'a' }), { kind: 'reacquired', token: 1 }, 'expired but nobody took it: the same token comes back');
  await expire();
  t.same(await claim(lock, { runId: 'b' }), { kind: 'acquired', token: 2 }, 'b is granted the expired target with a new token');
  t.same(await claim(lock, { runId: 'a' }), { kind: 'lost', holder: 'b' }, 'a may not write any more');
  await lock.release('a');
  t.same(await lock.holder('ai-ninja/Deployment/web'), { runId: 'b', token: 2 }, "a's release never deletes b's lock");
  t.same(await lock.release('b'), ['ai-ninja/Deployment/web']);
  t.equal(await lock.holder('ai-ninja/Deployment/web'), undefined);
});

t.test('a run counts against the budget only when granted the lock, once', async (t) => {
  const keys = fresh();
  const lock = new TargetLock(connect(), keys);
  t.equal((await claim(lock, { runId: 'a' })).kind, 'acquired');
  t.equal((await claim(lock, { runId: 'b' })).kind, 'locked', 'b waits; it consumed nothing');
  t.equal((await claim(lock, { runId: 'a', now: t0 + 1 })).kind, 'renewed');
  await lock.release('a');
  t.equal((await claim(lock, { runId: 'b', now: t0 + 2 })).kind, 'acquired');
  await lock.release('b');
  t.equal((await claim(lock, { runId: 'c', now: t0 + 3 })).kind, 'acquired');
  await lock.release('c');
  t.same(await claim(lock, { runId: 'd', now: t0 + 4 }), { kind: 'exhausted', freesAt: t0 + H }, 'a, b and c used the budget of 3');
  t.equal((await claim(lock, { runId: 'd', now: t0 + H })).kind, 'acquired', 'free again once a leaves the window');
  await lock.release('d');
  t.equal(
    (await claim(lock, { runId: 'm', now: t0 + H + 1, countBudget: false })).kind,
    'acquired',
    'a manual run is not held to the budget',
  );
});

t.test('a release wakes the runs that waited for the target, oldest first, and only those', async (t) => {
  const keys = fresh();
  const woken: string[][] = [];
  const lock = new TargetLock(connect(), keys, { wake: async (ids) => void woken.push(ids) });
  t.equal((await claim(lock, { runId: 'a' })).kind, 'acquired');
  t.equal((await claim(lock, { runId: 'c', now: t0 + 2 })).kind, 'locked');
  t.equal((await claim(lock, { runId: 'b', now: t0 + 1 })).kind, 'locked');
  t.equal((await claim(lock, { runId: 'c', now: t0 + 3 })).kind, 'locked', 'asking again keeps its place');
  t.equal((await claim(lock, { runId: 's', now: t0 + 4, waits: false })).kind, 'locked', 'a run that does not wait is refused');
  t.equal((await claim(lock, { runId: 'a', target: 'ai-ninja/Deployment/other' })).kind, 'acquired');
  t.equal((await claim(lock, { runId: 'x', target: 'ai-ninja/Deployment/other' })).kind, 'locked');
  await lock.release('a');
  t.same(woken, [['b', 'c', 'x']], 'both targets were freed: their waiters are woken once each, oldest first per target');
  t.equal((await claim(lock, { runId: 'c', now: t0 + 5 })).kind, 'acquired', 'a woken run is granted the free target');
  t.equal((await claim(lock, { runId: 'b', now: t0 + 6 })).kind, 'locked', 'the others wait again');
  await lock.release('c');
  t.same(woken.at(-1), ['b'], 'the next release wakes only who waits now');
  await lock.release('nobody');
  t.equal(woken.length, 2, 'a run that held nothing wakes nobody');
});

t.test('the Lua script decides exactly as the budget policy on a random history', async (t) => {
  const keys = fresh();
  const lock = new TargetLock(connect(), keys);
  const limits = { runs: 3, windowMs: 10 * 60_000, cooldownMs: 2 * 60_000 };
  const counted: Array<{ runId: string; at: number }> = [];
  let lastStart: { runId: string; at: number } | undefined;
  let now = t0;
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  let mismatches = 0;
  for (let i = 0; i < 120; i++) {
    now += Math.floor(rand() * 5 * 60_000);
    const runId = `run-${i}`;
    const expected = budgetVerdict({ counted, lastStart }, runId, now, limits);
    const got = await claim(lock, { runId, now, limits });
    const want = expected.kind === 'admit' ? 'acquired' : expected.kind;
    if (got.kind !== want) mismatches++;
    if (got.kind === 'exhausted' && expected.kind === 'exhausted' && got.freesAt !== expected.freesAt) mismatches++;
    if (got.kind === 'cooldown' && expected.kind === 'cooldown' && got.until !== expected.until) mismatches++;
    if (got.kind === 'acquired') {
      counted.push({ runId, at: now });
      lastStart = { runId, at: now };
      await lock.release(runId);
    }
  }
  t.equal(mismatches, 0);
  t.ok(counted.length > 5 && counted.length < 100, `a mix of grants and refusals (${counted.length} granted of 120)`);
});

t.test('locks and budgets survive a Redis crash and restart (AOF)', async (t) => {
  const keys = fresh();
  const before = connect();
  const lock = new TargetLock(before, keys);
  t.equal((await claim(lock, { runId: 'a', ttlMs: 600_000 })).kind, 'acquired');
  await server.kill(true);
  await server.start();
  const after = new TargetLock(connect(), keys);
  t.same(await after.holder('ai-ninja/Deployment/web'), { runId: 'a', token: 1 });
  t.equal((await claim(after, { runId: 'b', now: t0 + 1 })).kind, 'locked');
  t.equal((await claim(after, { runId: 'a', now: t0 + 2 })).kind, 'renewed');
});

t.test('the storm breaker trips exactly once however many workers race, and later callers see the pause', async (t) => {
  const keys = fresh();
  const settings = { targets: 5, windowMs: 10 * 60_000, pauseForMs: 0 };
  const breakers = Array.from({ length: 4 }, () => new StormBreaker(connect(), keys, settings));
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => breakers[i % 4]!.record(`ai-ninja/Deployment/svc-${i}`, t0 + i)));
  t.equal(results.filter((r) => r.kind === 'ok').length, 5);
  t.equal(results.filter((r) => r.kind === 'tripped').length, 1);
  t.equal(results.filter((r) => r.kind === 'paused').length, 14);
  const pauses = new PauseRegistry(connect(), keys);
  const [p] = await pauses.active(t0 + 20);
  t.equal(p?.code, 'storm_paused');
  t.equal((await pauses.history(10))[0]?.by, 'storm-breaker', 'the trip is in the pause history');
  t.ok(await pauses.lift('global', undefined, 'alice', 'nodes are back', t0 + 30));
  t.same(
    await breakers[0]!.record('ai-ninja/Deployment/svc-0', t0 + 40),
    { kind: 'ok', count: 1 },
    'lifting starts the count afresh: no second page for the same storm',
  );
});

t.test('a storm pause with pauseFor ends by itself', async (t) => {
  const keys = fresh();
  const b = new StormBreaker(connect(), keys, { targets: 1, windowMs: 60_000, pauseForMs: 1000 });
  t.equal((await b.record('a', t0)).kind, 'ok');
  t.equal((await b.record('b', t0 + 1)).kind, 'tripped');
  t.equal((await b.record('c', t0 + 2)).kind, 'paused');
  t.equal((await b.record('c', t0 + 1001)).kind, 'tripped', 'the expired pause no longer holds; the count is still above');
});

t.test('a handover pages once per window', async (t) => {
  const keys = fresh();
  const h = new Handover(connect(), keys);
  t.equal(await h.once('restart', 'x', t0, H), true);
  t.equal(await h.once('restart', 'x', t0 + H - 1, H), false);
  t.equal(await h.once('restart', 'y', t0, H), true, 'another target is its own');
  t.equal(await h.once('restart', 'x', t0 + H, H), true, 'a new window pages again');
});

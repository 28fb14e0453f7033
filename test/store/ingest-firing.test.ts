import t from 'tap';
import { Redis } from 'ioredis';
import { redisForTest } from '../support/redis.ts';
import { RunStore, type FiringClaim } from '../../src/store/run-store.ts';

// The ingest script on a real redis-server: what the webhook relies on when it sends the fleet counts and the alerts'
// own runs together, in one round trip.
const server = await redisForTest();
const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
t.teardown(() => redis.disconnect());

const now = '2026-05-01T08:00:00.000Z';
const claim = (fingerprint: string, runId: string, unlessTakenBy?: string[]): FiringClaim => {
  const episodeId = `ep-${fingerprint}-1`;
  const alert = {
    status: 'firing',
    fingerprint,
    startsAt: now,
    labels: { alertname: 'ServiceDown', service: fingerprint },
    annotations: {},
  } as never;
  return {
    episodeId,
    alert,
    unmatched: { at: now, reason: 'unmatched', episodeId, message: 'none' },
    runs: [
      {
        record: { id: runId, playbook: 'restart', createdAt: now, trigger: 'alert', episodeId, params: { tries: 2 }, dryRun: false },
        started: { at: now, reason: 'started', playbook: 'restart', runId, episodeId, message: 'started' },
      },
    ],
    ...(unlessTakenBy ? { unlessTakenBy } : {}),
  };
};

t.test('an alert whose episode a fleet took is left untouched; the others of the notification are stored', async (t) => {
  const store = new RunStore(redis, 'take', { retentionMs: 3_600_000 });
  const fleetJson = JSON.stringify({ runId: 'run-fleet', episodeId: 'ep-fleet', openedAt: now, openedAtMs: 1, services: ['a', 'b'] });
  await redis.hset('take:fleet:fleet-pb:shop:absorbed', 'ep-aaaa-1', fleetJson);
  const result = await store.ingestFiring(
    [
      claim('aaaa', 'run-a', ['take:fleet:other:shop:absorbed', 'take:fleet:fleet-pb:shop:absorbed']),
      claim('bbbb', 'run-b', ['take:fleet:other:shop:absorbed']),
    ],
    now,
    ['take:fleet:fleet-pb:shop:open', 'take:marker'],
  );
  t.same(result.taken, [{ by: 1, fleet: fleetJson }, undefined], 'the first claim taken by its second hash');
  t.same(result.runs, [[], [{ created: true, runId: 'run-b', enqueue: true }]]);
  t.equal(await redis.exists(store.keys.episode('ep-aaaa-1')), 0, 'the taken alert’s episode is not touched (its second call records it)');
  t.equal(await redis.exists(store.keys.run('run-a')), 0, 'nor its own run created');
  const run = await store.getRun('run-b');
  t.equal(run?.alert.fingerprint, 'bbbb', 'a created run’s record carries its alert');
  t.same(run?.params, { tries: 2 });
  t.same(result.readAfter, ['', ''], 'absent keys read back as empty');
});

t.test('keys read back after the runs are stored', async (t) => {
  const store = new RunStore(redis, 'read', { retentionMs: 3_600_000 });
  await redis.set('read:marker', 'open-fleet');
  const result = await store.ingestFiring([claim('cccc', 'run-c')], now, ['read:marker']);
  t.same(result.readAfter, ['open-fleet']);
  t.same(result.taken, [undefined]);
  const again = await store.ingestFiring([claim('cccc', 'run-c2')], now, []);
  t.same(again.runs, [[{ created: false, runId: 'run-c', enqueue: true }]], 'a repeat points at the stored run (no job was added here)');
});

import t from 'tap';
import { Redis } from 'ioredis';
import { redisForTest } from '../support/redis.ts';
import { RunStore, type FiringClaim } from '../../src/store/run-store.ts';
import { FleetCorrelator, parseVerdict } from '../../src/guards/fleet-correlator.ts';

// The ingest script on a real redis-server: what the webhook relies on when it reads the fleets' open markers in the
// same step as storing its runs, and when it sends a candidate run's record without the alert.
const server = await redisForTest();
const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
t.teardown(() => redis.disconnect());

const now = '2026-05-01T08:00:00.000Z';
const claim = (fingerprint: string, runId: string): FiringClaim => {
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
  };
};

t.test('a created run’s record carries the claim’s alert; a repeat points at the stored run', async (t) => {
  const store = new RunStore(redis, 'rec', { retentionMs: 3_600_000 });
  const first = await store.ingestFiring([claim('bbbb', 'run-b')], now);
  t.same(first.runs, [[{ created: true, runId: 'run-b', enqueue: true }]]);
  const run = await store.getRun('run-b');
  t.equal(run?.alert.fingerprint, 'bbbb');
  t.same(run?.alert.labels, { alertname: 'ServiceDown', service: 'bbbb' });
  t.same(run?.params, { tries: 2 });
  const again = await store.ingestFiring([claim('bbbb', 'run-b2')], now);
  t.same(again.runs, [[{ created: false, runId: 'run-b', enqueue: true }]], 'no job was added here, so it is still to queue');
  t.equal(await redis.exists(store.keys.run('run-b2')), 0, 'the repeat’s candidate run is not stored');
});

t.test('keys are read back in the same step, after the runs are stored', async (t) => {
  const store = new RunStore(redis, 'read', { retentionMs: 3_600_000 });
  await redis.set('read:marker', 'open-fleet');
  const result = await store.ingestFiring([claim('cccc', 'run-c')], now, ['read:marker', 'read:absent']);
  t.same(result.readAfter, ['open-fleet', ''], 'an absent key reads as empty');
});

t.test('a known claim points at the stored run without sending a candidate, and bumps the episode', async (t) => {
  const store = new RunStore(redis, 'known', { retentionMs: 3_600_000 });
  await store.ingestFiring([claim('dddd', 'run-d')], now);
  const { alert, episodeId, unmatched } = claim('dddd', 'unused');
  const repeat: FiringClaim = { episodeId, alert, unmatched, runs: [{ known: { runId: 'run-d', playbook: 'restart' } }] };
  const again = await store.ingestFiring([repeat], now);
  t.same(again.runs, [[{ created: false, runId: 'run-d', enqueue: true }]]);
  t.equal(again.unknown, undefined);
  const ep = await store.getEpisode(episodeId);
  t.equal(ep?.received, '2', 'the repeat is counted on its episode');
  t.same(JSON.parse(ep!.labels!), { alertname: 'ServiceDown', service: 'dddd' }, 'the labels stored on first sight stay');
  t.equal((await store.getRun('run-d'))?.alert.fingerprint, 'dddd', 'the record keeps its alert');
});

t.test('a known claim whose episode Redis no longer has writes nothing and names the episode', async (t) => {
  const store = new RunStore(redis, 'lost', { retentionMs: 3_600_000 });
  await store.ingestFiring([claim('eeee', 'run-e')], now);
  const { alert, episodeId, unmatched } = claim('eeee', 'unused');
  await redis.del(store.keys.episode(episodeId));
  const keysBefore = (await redis.keys('lost:*')).sort();
  const result = await store.ingestFiring(
    [claim('ffff', 'run-f'), { episodeId, alert, unmatched, runs: [{ known: { runId: 'run-e', playbook: 'restart' } }] }],
    now,
  );
  t.same(result, { runs: [], readAfter: [], unknown: [episodeId] });
  t.same((await redis.keys('lost:*')).sort(), keysBefore, 'not even the other alert of the notification is written');
  t.equal(await store.getRun('run-f'), undefined);
});

// The fleet counts made by the same script (src/store/lua/fleet-correlate.lua): the claims are built on a count that
// takes nothing, so the script must write them only then, and otherwise hand back the verdicts with no claim written.
t.test('fleet counts: claims written when the count takes nothing; verdicts back and no claim when it opens a fleet', async (t) => {
  const store = new RunStore(redis, 'fleet', { retentionMs: 3_600_000 });
  const fleet = new FleetCorrelator(store.keys, 3_600_000);
  const t0 = Date.parse(now);
  const settings = { min: 2, windowMs: 120_000 };
  const count = (service: string, runId: string, at: number) =>
    fleet.request(
      'service-fleet',
      'ns',
      settings,
      [{ service, episodeId: `ep-${service}-1`, runs: [{ runId, playbook: 'restart' }] }],
      { runId: `fleet-${at}`, episodeId: `ep-fleet-${at}`, openedAt: new Date(at).toISOString() },
      at,
    );

  const below = await store.ingestFiring([claim('aaaa', 'run-a')], now, [], [count('aaaa', 'run-a', t0)]);
  t.equal(below.fleetVerdicts, undefined, 'one service down: below the threshold');
  t.same(below.runs, [[{ created: true, runId: 'run-a', enqueue: true }]], 'the claim is written in the same call');

  const keysBefore = (await redis.keys(`${store.keys.run('')}*`)).sort();
  const opened = await store.ingestFiring([claim('bbbb', 'run-b')], now, [], [count('bbbb', 'run-b', t0 + 1)]);
  t.equal(opened.fleetVerdicts?.length, 1, 'the second service opens the fleet: its verdict comes back');
  const verdict = parseVerdict(opened.fleetVerdicts![0]!);
  t.equal(verdict.kind, 'opened');
  t.same(verdict.fleet?.services, ['aaaa', 'bbbb']);
  t.same(
    verdict.singles.map((s) => s.service),
    ['aaaa'],
    'with the runs of the service counted before, to absorb',
  );
  t.same(opened.runs, [], 'no claim result');
  t.equal(await store.getRun('run-b'), undefined, 'the claim built on "below" is not written');
  t.same((await redis.keys(`${store.keys.run('')}*`)).sort(), keysBefore, 'no run key at all');
  t.ok(await redis.get(fleet.openKey('service-fleet', 'ns')), 'the count itself stands: the fleet is open');
});

import t from 'tap';
import { Redis } from 'ioredis';
import { redisForTest } from '../support/redis.ts';
import { RunStore } from '../../src/store/run-store.ts';
import { FleetCorrelator, parseVerdict, type FleetVerdict } from '../../src/guards/fleet-correlator.ts';

// The fleet count on a real redis-server, made by the ingest script with no claims (as for a notification whose
// alerts only a fleet playbook takes): what the caller that opens a fleet gets back to absorb, after deliveries the
// webhook path cannot order on purpose (HA receivers racing for one episode).
const server = await redisForTest();
const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
t.teardown(() => redis.disconnect());

const t0 = Date.parse('2026-05-01T08:00:00Z');
const settings = { min: 2, windowMs: 120_000 };
let n = 0;
const candidate = (now: number) => ({
  runId: `run-fleet-${++n}`,
  episodeId: `ep-fleet-${n}`,
  openedAt: new Date(now).toISOString(),
});
/** A correlator and its count on a store of its own: no verdict back from the script means every count was below. */
const setup = (prefix: string) => {
  const store = new RunStore(redis, prefix, { retentionMs: 3_600_000 });
  const fleet = new FleetCorrelator(store.keys, 3_600_000);
  const correlate = async (...count: Parameters<FleetCorrelator['request']>): Promise<FleetVerdict> => {
    const at = new Date(count[5]).toISOString();
    const ingested = await store.ingestFiring([], at, [], [fleet.request(...count)]);
    return ingested.fleetVerdicts ? parseVerdict(ingested.fleetVerdicts[0]!) : { kind: 'below', singles: [], earlier: {} };
  };
  return { keys: store.keys, correlate };
};
const alert = (service: string, episodeId: string, runId: string) => ({
  service,
  episodeId,
  runs: [{ runId, playbook: 'service-down' }],
});

t.test('many deliveries of one alert before the fleet opens: the opener gets its run once', async (t) => {
  const { keys, correlate } = setup('rep');
  // Each delivery brings a fresh candidate id; the store created the first one.
  await redis.hset(keys.episode('ep-a'), 'run:service-down', 'run-a-0');
  const kinds = new Set<string>();
  for (let i = 0; i < 200; i++)
    kinds.add((await correlate('service-fleet', 'ns', settings, [alert('a', 'ep-a', `run-a-${i}`)], candidate(t0 + i), t0 + i)).kind);
  t.same([...kinds], ['below'], 'one service down does not open the fleet');
  t.equal(await redis.hlen(keys.fleet('service-fleet', 'ns', 'singles')), 1, 'one entry kept, however many deliveries');
  const opened = await correlate('service-fleet', 'ns', settings, [alert('b', 'ep-b', 'run-b-0')], candidate(t0 + 500), t0 + 500);
  t.equal(opened.kind, 'opened');
  t.same(
    opened.singles.map((s) => ({ service: s.service, runs: s.runs.map((r) => JSON.parse(r)) })),
    [{ service: 'a', runs: [{ runId: 'run-a-0', playbook: 'service-down', episodeId: 'ep-a' }] }],
  );
});

t.test('the run a racing delivery created is the one handed back, not the id the correlator saw first', async (t) => {
  const { keys, correlate } = setup('race');
  // Receiver 1 counts the alert with its id, receiver 2 counts it with another; receiver 2's store call wins.
  await correlate('service-fleet', 'ns', settings, [alert('a', 'ep-a', 'run-first-seen')], candidate(t0), t0);
  await correlate('service-fleet', 'ns', settings, [alert('a', 'ep-a', 'run-stored')], candidate(t0 + 1), t0 + 1);
  await redis.hset(keys.episode('ep-a'), 'run:service-down', 'run-stored');
  const opened = await correlate('service-fleet', 'ns', settings, [alert('b', 'ep-b', 'run-b')], candidate(t0 + 2), t0 + 2);
  t.equal(opened.kind, 'opened');
  t.same(
    opened.singles.flatMap((s) => s.runs.map((r) => JSON.parse(r).runId)),
    ['run-stored'],
  );
});

t.test('a run not stored yet when the fleet opens is handed back with its own id (its webhook absorbs it after storing)', async (t) => {
  const { correlate } = setup('late');
  await correlate('service-fleet', 'ns', settings, [alert('a', 'ep-a', 'run-a')], candidate(t0), t0);
  const opened = await correlate('service-fleet', 'ns', settings, [alert('b', 'ep-b', 'run-b')], candidate(t0 + 1), t0 + 1);
  t.same(
    opened.singles.flatMap((s) => s.runs.map((r) => JSON.parse(r).runId)),
    ['run-a'],
  );
});

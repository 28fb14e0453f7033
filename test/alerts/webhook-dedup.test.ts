import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startTestService, fixture, serviceDownPlaybook } from '../support/harness.ts';
import { REPEATS_RECORDED } from '../../src/store/run-store.ts';

const svc = await startTestService({ playbooks: { 'sd.yaml': serviceDownPlaybook() } });
const firing = await fixture('alertmanager/firing.json');

t.test('a firing episode starts one run; repeats and HA duplicates are deduplicated into it', async (t) => {
  const first = await svc.post(firing);
  t.equal(first.status, 202);
  t.equal(first.body.alerts[0].decision, 'started');
  const runId = first.body.alerts[0].runs[0].runId;
  t.match(runId, /^run-/);

  // repeat_interval re-send and a second Alertmanager replica sending the same group at once
  const [again, twin] = await Promise.all([svc.post(firing), svc.post(firing)]);
  for (const r of [again, twin]) {
    t.equal(r.status, 202);
    t.equal(r.body.alerts[0].decision, 'deduplicated');
    t.equal(r.body.alerts[0].runs[0].runId, runId, 'points at the one run');
  }

  const run = await svc.waitForRun(runId, (r) => r.status === 'completed');
  t.same(
    run.state.steps.map((s: any) => [s.id, s.status]),
    [
      ['note', 'succeeded'],
      ['pause', 'succeeded'],
    ],
  );
  t.equal(run.state.outputs.note.message, 'phone-gateway is down in ai-ninja', 'templates rendered from the alert labels');
  t.same(run.target, { namespace: 'ai-ninja', kind: 'Deployment', name: 'phone-gateway' });
  const reasons = run.decisions.map((d: any) => d.reason);
  t.same(reasons.filter((r: string) => r === 'deduplicated').length, 2, 'the first repeats are recorded as decisions');

  const list = await svc.api('GET', '/v1/runs?playbook=service-down-basic');
  t.equal(list.body.runs.length, 1, 'exactly one run exists for the episode');
});

t.test('a new startsAt for the same series is a new episode and a new run', async (t) => {
  const next = structuredClone(firing);
  next.alerts[0].startsAt = '2026-11-25T12:30:00.000Z';
  const res = await svc.post(next);
  t.equal(res.body.alerts[0].decision, 'started');
  const list = await svc.api('GET', '/v1/runs?playbook=service-down-basic');
  t.equal(list.body.runs.length, 2);
});

t.test('a group with a firing and a resolved alert is decided per alert', async (t) => {
  const group = structuredClone(firing);
  const other = structuredClone(firing.alerts[0]);
  other.labels = { ...other.labels, service: 'realtime-processor', deployment: 'realtime-processor' };
  other.fingerprint = '1111222233334444';
  other.status = 'resolved';
  other.endsAt = '2026-11-25T11:59:00.000Z';
  group.alerts[0].startsAt = '2026-11-25T13:00:00.000Z';
  group.alerts.push(other);
  group.status = 'firing';
  const res = await svc.post(group);
  t.equal(res.status, 202);
  t.equal(res.body.accepted, 2);
  t.equal(res.body.alerts[0].decision, 'started');
  t.equal(res.body.alerts[1].decision, 'resolved');
  t.same(res.body.alerts[1].runs, [], 'a resolved alert starts nothing');
});

t.test('an alert no playbook matches is recorded as unmatched', async (t) => {
  const res = await svc.post(await fixture('alertmanager/public-highvalue-firing.json'));
  t.equal(res.status, 202);
  t.equal(res.body.alerts[0].decision, 'unmatched');
});

t.test('resolved closes the episode and is recorded on its run', async (t) => {
  const res = await svc.post(await fixture('alertmanager/resolved.json'));
  t.equal(res.body.alerts[0].decision, 'resolved');
  const list = await svc.api('GET', '/v1/runs?playbook=service-down-basic');
  const original = list.body.runs.find((r: any) => r.alert.startsAt === firing.alerts[0].startsAt);
  const run = await svc.api('GET', `/v1/runs/${original.id}`);
  t.ok(run.body.alertResolvedAt, 'the run knows its alert resolved');
  t.ok(run.body.decisions.some((d: any) => d.reason === 'resolved'));
});

t.test('a storm of repeats counts on the episode and stops growing Redis after the first few', async (t) => {
  const redis = new Redis(svc.redis!.url);
  t.teardown(() => redis.quit());
  const storm = structuredClone(firing);
  storm.alerts[0].startsAt = '2026-11-25T16:00:00.000Z';
  const first = await svc.post(storm);
  const runId = first.body.alerts[0].runs[0].runId;
  const episode = first.body.alerts[0].episode;
  for (let i = 0; i < REPEATS_RECORDED; i++) t.equal((await svc.post(storm)).body.alerts[0].decision, 'deduplicated');
  // The run ends and closes first, so what changes afterwards is the repeats' doing.
  const run = await svc.waitForRun(runId, (r) => r.status === 'completed' && Boolean(r.finalDecisionAt));
  t.equal(run.decisions.filter((d: any) => d.reason === 'deduplicated').length, REPEATS_RECORDED, 'the run shows the first repeats');
  // The worker completes the run's job, which removes the job's keys, after the run's closing is recorded.
  for (const until = Date.now() + 10_000; await svc.service.queue.queue.getJob(runId); await sleep(20))
    if (Date.now() > until) throw new Error(`the job of ${runId} is still in Redis`);
  const keysBefore = new Set(await redis.keys('*'));
  const lengthsBefore = await Promise.all([
    redis.llen(svc.service.store.keys.runDecisions(runId)),
    redis.llen(svc.service.store.keys.episodeDecisions(episode)),
  ]);
  for (let i = 0; i < 30; i++) {
    const again = await svc.post(storm);
    t.equal(again.body.alerts[0].runs[0].runId, runId, 'every repeat points at the one run');
  }
  t.same(
    await Promise.all([
      redis.llen(svc.service.store.keys.runDecisions(runId)),
      redis.llen(svc.service.store.keys.episodeDecisions(episode)),
    ]),
    lengthsBefore,
    'no decision per repeat beyond the first few',
  );
  // New keys, not the count: a key that goes meanwhile (BullMQ's marker, consumed) is not the repeats' doing, nor is
  // BullMQ's stalled-check key, set again by the worker every stalledInterval with that interval as its TTL.
  const stalledCheck = svc.service.queue.queue.keys['stalled-check'];
  t.same(
    (await redis.keys('*')).filter((k) => !keysBefore.has(k) && k !== stalledCheck),
    [],
    'no key per repeat',
  );
  const ep = await svc.service.store.getEpisode(episode);
  t.equal(ep?.received, String(1 + REPEATS_RECORDED + 30), 'the episode counts every delivery');
  t.ok(Date.parse(ep!.lastSeen!) >= Date.parse(ep!.firstSeen!), 'and keeps when it was last seen');
});

t.test('a repeat queues the job of a run stored without one (an attempt that failed between the two)', async (t) => {
  const redis = new Redis(svc.redis!.url);
  t.teardown(() => redis.quit());
  const group = structuredClone(firing);
  group.alerts[0].startsAt = '2026-11-25T17:00:00.000Z';
  const second = structuredClone(firing.alerts[0]);
  second.fingerprint = 'aaaabbbbccccdddd';
  second.startsAt = '2026-11-25T17:00:00.000Z';
  second.labels = { ...second.labels, deployment: 'realtime-processor', service: 'realtime-processor' };
  group.alerts.push(second);
  // What a 503 between the two round trips leaves: the runs stored and queued, no jobs. Written as the store does
  // (through the ingest script) while no worker can take the jobs, then the jobs removed.
  const keys = svc.service.store.keys;
  const stored = await svc.service.store.ingestFiring(
    group.alerts.map((a: any) => {
      const alert = { ...a, annotations: a.annotations ?? {} };
      const ep = `ep-${a.fingerprint}-${Date.parse(a.startsAt)}`;
      const id = `run-lost-${a.fingerprint}`;
      const record = {
        id,
        playbook: 'service-down-basic',
        createdAt: new Date().toISOString(),
        trigger: 'alert',
        episodeId: ep,
        params: {},
        dryRun: false,
      };
      return {
        episodeId: ep,
        alert,
        unmatched: { at: record.createdAt, reason: 'unmatched', message: '' },
        runs: [{ record, started: { at: record.createdAt, reason: 'started', runId: id, message: 'started' } }],
      };
    }),
    new Date().toISOString(),
  );
  t.same(
    stored.runs.flat().map((r) => [r.created, r.enqueue]),
    [
      [true, true],
      [true, true],
    ],
  );
  t.equal(await redis.exists(keys.runJob('run-lost-2f64f209b35b0a10')), 0, 'no job yet');
  const retry = await svc.post(group);
  t.equal(retry.status, 202);
  t.same(
    retry.body.alerts.map((a: any) => a.decision),
    ['deduplicated', 'deduplicated'],
  );
  for (const a of retry.body.alerts) {
    const run = await svc.waitForRun(a.runs[0].runId, (r) => r.status === 'completed');
    t.equal(run.state.steps.filter((s: any) => s.id === 'note').length, 1, `${a.runs[0].runId} ran once`);
  }
});

t.test('a repeat after Redis lost its episode starts a run again instead of pointing at a run that is gone', async (t) => {
  const redis = new Redis(svc.redis!.url);
  t.teardown(() => redis.quit());
  const lost = structuredClone(firing);
  lost.alerts[0].startsAt = '2026-11-25T12:15:00.000Z';
  const first = await svc.post(lost);
  t.equal(first.body.alerts[0].decision, 'started');
  const runId = first.body.alerts[0].runs[0].runId;
  t.equal((await svc.post(lost)).body.alerts[0].runs[0].runId, runId, 'a repeat points at the run');
  await svc.waitForRun(runId, (r) => r.status === 'completed');
  // What a Redis restarted without its data, or an episode past its retention, looks like to a receiver that saw it.
  await redis.del(svc.service.store.keys.episode(first.body.alerts[0].episode));
  const received = async () => (await svc.service.metrics.alertsReceived.get()).values.find((v) => v.labels.status === 'firing')?.value;
  const before = await received();
  const after = await svc.post(lost);
  t.equal(after.status, 202);
  t.equal(after.body.alerts[0].decision, 'started');
  const fresh = after.body.alerts[0].runs[0].runId;
  t.not(fresh, runId, 'a new run');
  const run = await svc.waitForRun(fresh, (r) => r.status === 'completed');
  t.equal(run.alert.startsAt, lost.alerts[0].startsAt, 'with the alert it was started for');
  const episode = await svc.service.store.getEpisode(first.body.alerts[0].episode);
  t.equal(episode?.received, '1', 'the episode is recorded again, once');
  t.equal(await received(), before! + 1, 'the delivery is counted once, though it was claimed twice');
});

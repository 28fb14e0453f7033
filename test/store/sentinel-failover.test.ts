import t from 'tap';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnRedisSentinel } from '../../src/dev/redis-ha.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';
import { startGuardedService, markAndPagePlaybook, FINAL } from '../guards/guard-harness.ts';

// Redis Sentinel (1 master, 2 replicas, 3 sentinels) under remediator (receiver and worker), while a storm of 2,000
// webhook deliveries arrives: 100 episodes, each delivered 20 times (repeat_interval, HA twins, retries), on 100
// deployments of the simulated cluster. Once a third of the deliveries were answered, the master is SIGKILLed and
// the sentinels promote a replica. Senders retry a 5xx as Alertmanager does. Afterwards:
// - every delivery that got a 202 points at exactly one run of its episode (no episode got a second run because
//   a promoted replica lacked a record a 202 had promised: the WAIT barrier);
// - every run ends;
// - no write to the cluster is repeated: each run's setEnv reached the API server once;
// - pages go out once per episode: the paging webhook got one trigger event per run; an event repeated after the
//   failover (at-least-once delivery) is the same event, with its delivery id.
const EPISODES = 100;
const DELIVERIES_PER_EPISODE = 20;
const SENDERS = 16;
const NS = 'storm';

const ha = await spawnRedisSentinel({ replicas: 2, sentinels: 3 });
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);

const svc = await startGuardedService({
  playbooks: { 'storm.yaml': markAndPagePlaybook('Storm') },
  replicated: { settings: { ...ha.settings, minReplicasAcked: 1, replicaAckTimeout: '1s' } },
  guards: {
    storm: { targets: 100_000 },
    budget: { runs: 100, window: '1h' },
    ineffective: { window: 0 },
    lock: { ttl: '5s', retryAfter: '100ms' },
  },
  worker: { concurrency: 16 },
  overrides: (c) => {
    c.escalation = {
      targets: { hook: { type: 'webhook', role: 'page', url: rx.webhook.url, secret: secrets.webhookSecret } },
      delivery: { backoff: '50ms', maxBackoff: '500ms', timeout: '2s' },
    };
    c.runs = { ...c.runs, sweepInterval: '1s', closingGrace: '1s' };
  },
});
// Registered after the service's own teardown, so remediator closes while Redis is still there.
t.teardown(() => ha.stop());
for (let i = 0; i < EPISODES; i++) addDeployment(svc.sim, { namespace: NS, name: `svc-${i}`, image: 'nginx:1.27', replicas: 0 });

const startsAt = '2026-12-01T08:00:00.000Z';
const delivery = (i: number) => svc.alerts([`svc-${i}`], startsAt, NS, 'Storm');

t.test('SIGKILL the Sentinel master during a storm: every 202 has one run, runs end, no repeated write, one incident each', async (t) => {
  // The deliveries in a shuffled order, each episode 10 times.
  const order = Array.from({ length: EPISODES * DELIVERIES_PER_EPISODE }, (_, k) => k % EPISODES).sort(() => Math.random() - 0.5);
  const accepted: Array<{ episode: number; runId: string }> = [];
  let answered = 0;
  let refused = 0;
  const unexpected: Array<{ status: number; body: unknown }> = [];
  const began = Date.now();
  let next = 0;
  const killAt = Math.floor(order.length / 3);
  let failover: ReturnType<typeof ha.killMaster> | undefined;
  // Every attempt's start and end, to show the storm crossed the outage.
  const attempts: Array<{ start: number; end: number }> = [];
  const sender = async () => {
    while (next < order.length) {
      const episode = order[next++]!;
      // Like Alertmanager: a 5xx or a broken connection is retried until it gets an answer it will not retry.
      for (;;) {
        const start = Date.now();
        const res = await svc.post(delivery(episode)).catch(() => ({ status: 0, body: undefined }));
        attempts.push({ start, end: Date.now() });
        if (res.status === 202) {
          accepted.push({ episode, runId: res.body.alerts[0].runs[0].runId });
          break;
        }
        if (res.status !== 503 && res.status !== 0) unexpected.push(res);
        refused++;
        await sleep(50);
      }
      if (++answered === killAt) failover = ha.killMaster();
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  const { old, promoted, killedAt, settledAt } = await failover!;
  t.comment(`${order.length} deliveries answered in ${Date.now() - began} ms`);
  // Whether a delivery met by the outage is refused (503, retried) or just waits for the promoted master depends on
  // how long the failover takes; either is right, so only the overlap is asserted.
  const crossing = attempts.filter((a) => a.start <= settledAt && a.end >= killedAt).length;
  t.comment(`master down for ${settledAt - killedAt} ms; ${refused} deliveries refused and retried`);
  t.same(unexpected, [], 'a refused delivery is a 503 (or a dropped connection), never a 4xx');
  t.not(promoted, old, `the sentinels promoted a replica (${old} → ${promoted})`);
  t.equal(accepted.length, order.length, 'every delivery got its 202 in the end');
  t.ok(crossing > 0, `deliveries were in flight while the master was down or not yet replaced (${crossing})`);

  // Every 202 of an episode names the same run: one run per episode.
  const runOf = new Map<number, Set<string>>();
  for (const a of accepted) runOf.set(a.episode, (runOf.get(a.episode) ?? new Set()).add(a.runId));
  const split = [...runOf].filter(([, ids]) => ids.size !== 1).map(([e, ids]) => ({ episode: e, runs: [...ids] }));
  t.same(split, [], 'every delivery that got a 202 points at the one run of its episode');
  const runIds = [...runOf.values()].map((ids) => [...ids][0]!);
  t.equal(runIds.length, EPISODES);

  // The store agrees: each episode has exactly one run, and it exists.
  const list = await svc.api('GET', '/v1/runs?playbook=mark-and-page&limit=500');
  t.equal(list.status, 200);
  const stored = new Map<string, string[]>();
  for (const r of list.body.runs) stored.set(r.target.name, [...(stored.get(r.target.name) ?? []), r.id]);
  t.same(
    [...stored.values()].filter((ids) => ids.length !== 1),
    [],
    'the store holds one run per episode',
  );
  t.equal(stored.size, EPISODES, 'and a run for every episode');

  // Every run ends.
  const ends = new Map<string, any>();
  const deadline = Date.now() + 120_000;
  while (ends.size < runIds.length && Date.now() < deadline) {
    for (const id of runIds) {
      if (ends.has(id)) continue;
      const res = await svc.api('GET', `/v1/runs/${id}`).catch(() => undefined);
      if (res?.status === 200 && FINAL.has(res.body.status)) ends.set(id, res.body);
    }
    if (ends.size < runIds.length) await sleep(200);
  }
  t.comment(`runs ended ${Date.now() - began} ms after the storm began`);
  const open = runIds.filter((id) => !ends.has(id));
  t.same(open, [], 'every run ended');
  const notCompleted = [...ends.values()]
    .filter((r) => r.status !== 'completed')
    .map((r) => ({ id: r.id, status: r.status, steps: r.state?.steps?.map((s: any) => [s.id, s.status]) }));
  t.same(notCompleted, [], 'and each completed its steps');

  // No write to the cluster repeated: each deployment got exactly one accepted setEnv, carrying its run's id.
  const repeated: Array<{ deployment: string; writes: number }> = [];
  for (let i = 0; i < EPISODES; i++) {
    const writes = svc.writesTo(`svc-${i}`, NS).filter((w) => w.method === 'PATCH');
    if (writes.length !== 1) repeated.push({ deployment: `svc-${i}`, writes: writes.length });
  }
  t.same(repeated, [], 'each run wrote its mark to the cluster once');

  // Pages go out once: one trigger per run's episode, and no event delivered twice.
  const event = (r: { headers: Record<string, unknown> }) => String(r.headers['x-remediator-event']);
  const triggered = (q: typeof rx.webhook.requests) => q.filter((r) => r.answered === 204 && event(r) === 'trigger');
  await rx.webhook.waitFor(
    (q) => new Set(triggered(q).map((r) => (r.body as any).dedupKey)).size >= EPISODES,
    30_000,
    'a trigger per episode',
  );
  // One incident per episode: every trigger an episode got is the same event (one delivery id).
  const triggersOf = new Map<string, Set<string>>();
  for (const r of triggered(rx.webhook.requests)) {
    const key = (r.body as any).dedupKey as string;
    triggersOf.set(key, (triggersOf.get(key) ?? new Set()).add(String(r.headers['x-remediator-delivery'])));
  }
  t.equal(triggersOf.size, EPISODES, 'every run paged');
  t.same(
    [...triggersOf].filter(([, ids]) => ids.size > 1).map(([key, ids]) => ({ key, triggers: [...ids] })),
    [],
    'no episode was paged twice: each got one trigger event',
  );
  // Delivery is at-least-once (delivery-pump.ts): an event sent while the master died, whose taking off its chain did
  // not reach a replica, is sent again after the failover. A repeat is the same event, byte for byte, with the same
  // delivery id and dedup key, which is what lets PagerDuty, Opsgenie and a webhook's receiver drop it.
  const bodies = new Map<string, Set<string>>();
  for (const r of rx.webhook.requests)
    if (r.answered === 204) {
      const id = String(r.headers['x-remediator-delivery']);
      bodies.set(id, (bodies.get(id) ?? new Set()).add(JSON.stringify(r.body)));
    }
  t.same(
    [...bodies].filter(([, b]) => b.size > 1).map(([id]) => id),
    [],
    'an event sent again is the same event',
  );
  const sent = rx.webhook.requests.filter((r) => r.answered === 204).length;
  t.comment(`${sent} deliveries of ${bodies.size} events (${sent - bodies.size} repeated after the failover)`);
  t.same(rx.webhook.problems(), [], 'every event met the webhook contract');
});

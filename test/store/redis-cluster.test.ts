import t from 'tap';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Cluster } from 'ioredis';
import { redisConnector } from '../../src/store/redis-connection.ts';
import { spawnRedisCluster } from '../../src/dev/redis-ha.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';
import { startTestService, fixture, serviceDownPlaybook } from '../support/harness.ts';
import { startGuardedService, markAndPagePlaybook } from '../guards/guard-harness.ts';

// remediator on a Redis Cluster of 3 masters with a replica each: the key scenarios of the webhook (dedup, per-alert
// decisions, resolve), worker (a guarded mutation: lock, budget, storm, fence scripts), pause and escalation (chain,
// open incident, rate limit scripts) tests. Any multi-key script, MULTI or BullMQ call whose keys spanned slots
// would fail with CROSSSLOT; the installation's keys all live in the one slot of its hash-tagged prefix.
const cluster = await spawnRedisCluster({ masters: 3, replicasPerMaster: 1 });
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);
const replicated = { settings: { ...cluster.settings, minReplicasAcked: 1 } };

const svc = await startGuardedService({
  playbooks: { 'sd.yaml': serviceDownPlaybook(), 'mark.yaml': markAndPagePlaybook('Mark') },
  replicated,
  guards: { budget: { runs: 1, window: '1h' }, ineffective: { window: 0 }, lock: { ttl: '5s', retryAfter: '100ms' } },
  overrides: (c) => {
    c.escalation = {
      targets: { hook: { type: 'webhook', role: 'page', url: rx.webhook.url, secret: secrets.webhookSecret } },
      delivery: { backoff: '50ms', maxBackoff: '500ms', timeout: '2s' },
    };
  },
});
// After the service's own teardown, so it closes while the cluster is still there.
t.teardown(() => cluster.stop());
addDeployment(svc.sim, { namespace: 'ai-ninja', name: 'marked', image: 'nginx:1.27', replicas: 0 });
const prefix = svc.config.redis.prefix;
// As src/main.ts picks it: escalation.delivery.prefix, else `<redis.prefix>-esc`.
const escalationPrefix = svc.config.escalation?.delivery?.prefix ?? `${prefix}-esc`;

t.test('webhook: one run per episode, repeats deduplicated, decisions per alert, resolve recorded', async (t) => {
  const firing = await fixture('alertmanager/firing.json');
  const first = await svc.post(firing);
  t.equal(first.status, 202, 'a 202 once a replica holds the writes');
  t.equal(first.body.alerts[0].decision, 'started');
  const runId = first.body.alerts[0].runs[0].runId;
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
  t.equal(run.decisions.filter((d: any) => d.reason === 'deduplicated').length, 2, 'each repeat is recorded as a decision');

  const resolved = await svc.post(await fixture('alertmanager/resolved.json'));
  t.equal(resolved.body.alerts[0].decision, 'resolved');
  const view = await svc.api('GET', `/v1/runs/${runId}`);
  t.ok(view.body.alertResolvedAt, 'the run knows its alert resolved');
  const list = await svc.api('GET', '/v1/runs?playbook=service-down-basic');
  t.equal(list.body.runs.length, 1, 'exactly one run exists for the episode');
});

t.test('worker and escalation: a guarded mutation written once, its page delivered once, the budget enforced', async (t) => {
  const [runId] = await svc.fire(['marked'], '2026-12-01T09:00:00.000Z', 'ai-ninja', 'Mark');
  const run = await svc.ended(runId!, 30_000);
  t.equal(run.status, 'completed', 'the run completed on the cluster');
  t.equal(svc.writesTo('marked').filter((w) => w.method === 'PATCH').length, 1, 'its mark reached the cluster once');
  const pages = await rx.webhook.waitFor((q) => q.some((r) => r.headers['x-remediator-event'] === 'trigger'), 15_000, 'the page');
  t.equal(pages.filter((r) => r.headers['x-remediator-event'] === 'trigger').length, 1, 'one page');
  t.same(rx.webhook.problems(), [], 'the page met the webhook contract');

  // A second episode on the same target: the budget of one run per hour (a script over the budget and lock keys)
  // refuses the mutation.
  const [second] = await svc.fire(['marked'], '2026-12-01T09:30:00.000Z', 'ai-ninja', 'Mark');
  const refused = await svc.ended(second!, 30_000);
  t.ok(
    refused.decisions.some((d: any) => d.reason === 'budget_exhausted'),
    'the budget refused the second run',
  );
  t.equal(svc.writesTo('marked').filter((w) => w.method === 'PATCH').length, 1, 'and it wrote nothing');
});

t.test('pauses: set and lifted through the operator API', async (t) => {
  const set = await svc.api('POST', '/v1/pause', { scope: 'global', reason: 'cluster maintenance' });
  t.equal(set.status, 201, JSON.stringify(set.body));
  const lifted = await svc.api('DELETE', '/v1/pause', { scope: 'global', reason: 'done' });
  t.equal(lifted.status, 200, JSON.stringify(lifted.body));
});

t.test("every key lives in its hash-tagged prefix's one slot: the run side's and the escalation side's", async (t) => {
  const check = new Cluster(cluster.settings.cluster.nodes, { lazyConnect: true });
  t.teardown(() => check.disconnect());
  await check.connect();
  const slots = new Map<string, Set<number>>();
  const unexpected: string[] = [];
  for (const node of check.nodes('master')) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const k of found) {
        const side = k.startsWith(`{${prefix}}:`) ? 'runs' : k.startsWith(`{${escalationPrefix}}:`) ? 'escalation' : undefined;
        if (!side) unexpected.push(k);
        else slots.set(side, (slots.get(side) ?? new Set()).add((await node.call('CLUSTER', 'KEYSLOT', k)) as number));
      }
    } while (cursor !== '0');
  }
  t.same(unexpected, [], 'every key in the cluster is under one of the two hash-tagged prefixes');
  t.same([...slots.keys()].sort(), ['escalation', 'runs'], 'the store, the run queue and the escalation queue wrote keys');
  t.same(
    [...slots.values()].map((s) => s.size),
    [1, 1],
    'each side in one slot',
  );
});

t.test('a 202 needs the replicas: fewer than redis.minReplicasAcked acknowledging is a 503', async (t) => {
  const strict = await startTestService({
    playbooks: { 'sd.yaml': serviceDownPlaybook() },
    replicated: { settings: { ...cluster.settings, minReplicasAcked: 2, replicaAckTimeout: '200ms' } },
  });
  // Closed with this test, while the cluster is still there (the file's teardowns stop the cluster first).
  t.teardown(() => strict.service.close());
  // Started just now: wait until it sees the cluster (readiness pings Redis).
  const deadline = Date.now() + 15_000;
  while ((await fetch(`${strict.url}/readyz`)).status !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const res = await strict.post(await fixture('alertmanager/firing.json'));
  t.equal(res.status, 503, 'each master has one replica, two were asked for');
  t.equal(res.body.code, 'REM_ERR_STORE_UNAVAILABLE');
  t.match(res.body.message, /1 of 2 replica/);
});

t.test('a Cluster connection closed while it is still connecting ends, and so do its duplicates', async (t) => {
  // ioredis alone loses such a disconnect: the client never ends, and a worker closing then never finishes closing.
  const connector = redisConnector(cluster.settings);
  const parents: Cluster[] = [];
  const command = () => connector.command('2s') as Cluster;
  const duplicateOf = (parent: Cluster) => {
    parents.push(parent);
    return parent.duplicate();
  };
  const builds = [command, () => duplicateOf(command()), () => duplicateOf(connector.worker() as Cluster)];
  for (const build of builds) {
    const client = build();
    if (client.status === 'wait') client.connect().catch(() => undefined); // lazy, as BullMQ's duplicates are
    t.equal(client.status, 'connecting', 'closed before it connected');
    const ended = once(client, 'end').then(() => 'ended');
    client.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise((resolve) => (timer = setTimeout(resolve, 10_000, 'still open after 10 s')));
    t.equal(await Promise.race([ended, deadline]), 'ended');
    clearTimeout(timer);
  }
  for (const parent of parents) parent.disconnect();
  connector.close();
});

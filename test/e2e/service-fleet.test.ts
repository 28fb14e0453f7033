import t from 'tap';
import { readFile } from 'node:fs/promises';
import { APPS, FINAL, NS, SHIPPED_PLAYBOOK, skipReason, startE2E } from './real-loop-harness.ts';

// The runbook's mode B on the real loop, with the SHIPPED service-down and service-fleet playbooks: the four
// services' processes die together → Prometheus `up == 0` for each → ServiceDown × 4 → two Alertmanagers, which
// group per service here (the harness's group_by includes `deployment`), so the alerts arrive one by one →
// remediator opens one fleet run and absorbs the services' own runs → cluster diagnosis → restart one after another,
// each available before the next → `min(up) == 1` → one summary notification. Then the same with a NotReady node:
// no restart, one P0 page that names the node.
//
// Alertmanager sends each service on its own, so the fleet's `hold` is set (20s): a service's own run waits that
// long for the fleet, which opens a few hundred milliseconds later. The storm breaker allows 10 targets (the two
// scenarios restart four services and then try four more).
const FLEET_PLAYBOOK = new URL('../../playbooks/service-fleet.yaml', import.meta.url);

/**
 * Whether `restarted` is what restarting "the runbook's order first" gives when the services join in the order
 * `joined`, the batch seeing the first `min` (the fleet's threshold) or more of them at its first pick and possibly
 * more at each later one: each pick is the first in `order` among the services joined by then and not restarted.
 */
function followsRunbookOrder(restarted: string[], joined: string[], order: string[], min: number): boolean {
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  let known = min;
  for (let k = 0; k < restarted.length; k++) {
    const pick = (m: number) =>
      joined
        .slice(0, m)
        .filter((n) => !restarted.slice(0, k).includes(n))
        .sort((a, b) => rank(a) - rank(b))[0];
    while (known <= joined.length && pick(known) !== restarted[k]) known++;
    if (known > joined.length) return false;
  }
  return true;
}

if (skipReason) {
  t.plan(0, `the real loop needs Prometheus and Alertmanager: ${skipReason}`);
} else {
  const fleet = (await readFile(FLEET_PLAYBOOK, 'utf8')).replace('    window: 2m\n', '    window: 2m\n    hold: 20s\n');
  t.ok(fleet.includes('hold: 20s'), 'the shipped fleet playbook, with a hold');
  const e = await startE2E({
    guards: { storm: { targets: 10 } },
    playbooks: { 'service-down.yaml': await readFile(SHIPPED_PLAYBOOK, 'utf8'), 'service-fleet.yaml': fleet },
    notify: true,
  });
  const runsSince = async (playbook: string, since: number) =>
    ((await e.svc.api('GET', `/v1/runs?playbook=${playbook}&limit=100`)).body.runs as any[]).filter(
      (r) => Date.parse(r.createdAt) >= since - 1000,
    );
  const fleetRun = async (since: number) => {
    let id: string | undefined;
    try {
      await e.until(
        'a fleet run',
        async () => {
          id = (await runsSince('service-fleet', since))[0]?.id;
          return id !== undefined;
        },
        60_000,
      );
    } catch (err) {
      // What did arrive, for the failure's story.
      const all = ((await e.svc.api('GET', '/v1/runs?limit=100')).body.runs as any[]).filter(
        (r) => Date.parse(r.createdAt) >= since - 1000,
      );
      t.comment(
        `runs since the kill: ${JSON.stringify(all.map((r) => [r.playbook, r.status, r.target?.name, r.decisions?.map((d: any) => d.reason)]))}`,
      );
      t.comment(`relayed deliveries: ${JSON.stringify(e.relay.deliveries.filter((d) => d.at >= since))}`);
      throw err;
    }
    return id!;
  };
  /**
   * A scrape that times out on a busy machine can fire ServiceDown for a moment, also for several services (a fleet
   * of their own). Each scenario starts once every earlier fleet run has ended, so its outage opens a fleet of its own
   * rather than joining one that already restarted those services.
   */
  const quiet = async (t: { comment(...m: unknown[]): void }) => {
    await e.until(
      'no fleet run in progress',
      async () =>
        ((await e.svc.api('GET', '/v1/runs?playbook=service-fleet&limit=100')).body.runs as any[]).every((r) => FINAL.has(r.status)),
      120_000,
    );
    await e.loop.waitUntilUp(30_000);
    const earlier = (await e.svc.api('GET', '/v1/runs?playbook=service-fleet&limit=100')).body.runs as any[];
    if (earlier.length > 0)
      t.comment(`fleet runs before this scenario: ${JSON.stringify(earlier.map((r) => [r.status, r.params.services]))}`);
  };
  const pdTriggers = (since: number) => e.pagerduty.requests.filter((q) => (q.body as any).event_action === 'trigger' && q.at >= since);
  const describe = (t: { comment(...m: unknown[]): void }, run: any) => {
    for (const s of run.state.steps) t.comment(`  ${s.id} ${s.status}: ${s.summary ?? s.error?.message ?? s.reason ?? ''}`);
  };

  t.test(
    'the four services die together: one fleet run, a diagnosis, a restart of each verified, one notification with the summary',
    async (t) => {
      await quiet(t);
      const before = Object.fromEntries(APPS.map((n) => [n, e.loop.pods.processes(e.ref(n)).map((p) => p.pid)]));
      const killedAt = Date.now();
      for (const n of APPS) t.equal(await e.loop.kill(e.ref(n)), 1, `${n}'s process died`);
      const id = await fleetRun(killedAt);
      t.comment(`kill → fleet run in ${Date.now() - killedAt} ms`);
      // Every service joins before the fleet run ends (the alerts come within a second or two of each other).
      await e.until(
        'all four services in the fleet',
        async () => ((await e.svc.api('GET', `/v1/runs/${id}`)).body.params.services as string[]).length === 4,
        30_000,
      );
      const run = await e.ended(id, 180_000);
      t.comment(`kill → fleet run ${run.status} in ${Date.parse(run.state.endedAt) - killedAt} ms`);
      describe(t, run);
      t.equal(run.status, 'succeeded', run.state.outcome);
      t.same([...run.params.services].sort(), [...APPS].sort());
      const step = (sid: string) => run.state.steps.find((s: any) => s.id === sid);
      t.match(step('cluster'), {
        status: 'succeeded',
        output: { infrastructure: false, causes: [], nodes: [{ name: 'kube-sim-node', ready: 'True' }] },
      });
      t.ok(step('cluster').output.changes, 'what changed in the last hour is in the record');
      const results = step('restart').output.results as any[];
      const order = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'];
      t.same([...results.map((r) => r.name)].sort(), [...order].sort(), 'each service restarted once');
      // The alerts arrive one by one (one Alertmanager group per service), and the batch may begin before the last
      // service joins: each restart is the runbook's first among the services that had joined by then.
      t.ok(
        followsRunbookOrder(
          results.map((r) => r.name),
          run.params.services,
          order,
          2,
        ),
        `the runbook's order among the services known at each pick: joined ${run.params.services.join(', ')}; restarted ${results.map((r) => r.name).join(', ')}`,
      );
      t.ok(
        results.every((r) => r.mark === '✅' && r.outcome === 'restarted'),
        step('restart').summary,
      );
      t.equal(step('up').status, 'succeeded', 'Prometheus sees every service up');
      for (const n of APPS) {
        const now = e.loop.pods.processes(e.ref(n));
        t.equal(now.length, 1, `${n}: one process serves again`);
        t.notOk(before[n]!.includes(now[0]!.pid), `${n}: a new process`);
      }

      // The services' own runs from the outage waited for the fleet and ended without a step. (A restart can make a
      // service miss a scrape or two and fire again; after the fleet run ended, that new episode gets a run of its own.)
      const own = (await runsSince('service-down', killedAt)).filter((r) => Date.parse(r.createdAt) < Date.parse(run.state.endedAt));
      for (const r of own) {
        const ended = await e.ended(r.id, 30_000);
        t.equal(ended.status, 'cancelled', `${r.target.name}'s own run was absorbed`);
        t.same(ended.state?.steps ?? [], []);
        t.ok(ended.decisions.some((d: any) => d.reason === 'absorbed'));
      }

      // One notification with the summary (P2 goes to the notify target); nobody paged.
      await e.until('the summary notification', () => (e.slack?.messages.length ?? 0) > 0, 15_000);
      const summaries = e.slack!.messages.filter((m) => /✅ phone-gateway/.test(JSON.stringify(m)));
      t.ok(summaries.length >= 1, 'the summary names each service with ✅');
      t.ok(
        JSON.stringify(summaries[0]).includes(results.map((r) => `✅ ${r.name}`).join('; ')),
        'one ✅ line per service, in the order they were restarted',
      );
      t.match(summaries[0]!.text, /^✅ .* — recovered\n/, 'the summary says the fleet recovered');
      t.match(summaries[0]!.text, /all 4 services restarted, each available, and Prometheus sees them up/);
      t.notMatch(summaries[0]!.text, /a human is needed|could not fix/, 'not worded as an escalation');
      t.equal(step('report').summary.startsWith('told the verified recovery (P2)'), true, step('report').summary);
      t.equal(new Set(e.slack!.messages.map((m) => /\[P\d\]/.exec(m.text)?.[0])).size, 1, 'one incident');
      t.same(pdTriggers(killedAt), [], 'nobody was paged');
      await e.loop.waitUntilUp(30_000);
    },
  );

  t.test('with a NotReady node: no restart, one P0 page that names the node', async (t) => {
    await quiet(t);
    const revisions = Object.fromEntries(
      APPS.map((n) => [n, e.sim.get('Deployment', NS, n).metadata.annotations['deployment.kubernetes.io/revision']]),
    );
    e.sim.faults.nodeNotReady('kube-sim-node');
    t.teardown(() => e.sim.faults.clear());
    const killedAt = Date.now();
    for (const n of APPS) await e.loop.kill(e.ref(n));
    const id = await fleetRun(killedAt);
    const run = await e.ended(id, 60_000);
    describe(t, run);
    t.equal(run.status, 'escalated');
    const cluster = run.state.steps.find((s: any) => s.id === 'cluster');
    t.match(cluster.error, { code: 'REM_ERR_INFRASTRUCTURE', message: /node kube-sim-node NotReady/ });
    t.notOk(
      run.state.steps.some((s: any) => s.id === 'restart'),
      'no restart was tried',
    );
    for (const n of APPS)
      t.equal(e.sim.get('Deployment', NS, n).metadata.annotations['deployment.kubernetes.io/revision'], revisions[n], `${n} untouched`);
    await e.until('the P0 page', () => pdTriggers(killedAt).length > 0, 15_000);
    const pages = pdTriggers(killedAt);
    t.equal(pages.length, 1, 'one page');
    const body = pages[0]!.body as any;
    t.equal(body.payload.severity, 'critical', 'P0');
    t.match(JSON.stringify(body), /node kube-sim-node NotReady/, 'it names the node');
    const own = (await runsSince('service-down', killedAt)).filter((r) => Date.parse(r.createdAt) < Date.parse(run.state.endedAt));
    for (const r of own) t.equal((await e.ended(r.id, 30_000)).status, 'cancelled', `${r.target.name}'s own run was absorbed`);
  });
}

import t from 'tap';
import { OPERATOR_TOKEN } from '../support/harness.ts';
import { skipReason, startE2E } from './real-loop-harness.ts';

// The real loop, with the SHIPPED service-down playbook as it is: a service's processes die → Prometheus
// `up == 0` → ServiceDown → two Alertmanagers → remediator runs the ladder against the simulated cluster, whose
// rollouts start and stop real processes → rollout, health and `up` gates → Prometheus `up == 1` → Alertmanager
// sends resolved → the episode closes.
//
// The playbook verifies at a person's pace (five health checks 2 s apart, `up` three times 5 s apart, two
// dependency checks first), so one verified rung takes about 40 s. The four scenarios use four different services
// and run side by side (t.jobs). Two guard settings are changed through the configuration, both for that reason:
// the budget is 1 run per hour (so a flapping service is stopped after one fix rather than three, ~40 s each), and
// the storm breaker allows 10 targets (four scenarios at once touch six objects, which would look like a storm).
if (skipReason) {
  t.plan(0, `the real loop needs Prometheus and Alertmanager: ${skipReason}`);
} else {
  const e = await startE2E({ guards: { budget: { runs: 1 }, storm: { targets: 10 } } });
  const stepIds = (run: any, status = 'succeeded') => run.state.steps.filter((s: any) => s.status === status).map((s: any) => s.id);
  const rungs = (run: any) => Object.fromEntries(run.state.rungs.map((r: any) => [r.name, r.outcome]));
  const triggersFor = (name: string) =>
    e.pagerduty.requests.filter((q) => (q.body as any).event_action === 'trigger' && (q.body as any).payload?.component === name);
  const describe = (t: { comment(...m: unknown[]): void }, run: any) => {
    for (const s of run.state.steps) t.comment(`  [${s.rung}] ${s.id} ${s.status}: ${s.summary ?? s.error?.message ?? s.reason ?? ''}`);
  };
  t.jobs = 4;
  // Progress deadlines: short for rollouts that cannot finish (they say so in seconds), and the Kubernetes default
  // for a good release, whose pod is a real process that can take longer than the short one to start.
  const FAIL_FAST_DEADLINE_S = 2;
  const DEFAULT_DEADLINE_S = 600;

  t.test('restart fixes it; the HA twin and an Alertmanager re-send during the run join the same run', async (t) => {
    const pg = e.ref('phone-gateway');
    const before = e.loop.pods.processes(pg).map((p) => p.pid);
    const revisionBefore = Number(e.sim.get('Deployment', pg.namespace, pg.name).metadata.annotations['deployment.kubernetes.io/revision']);
    e.relay.failNextFiring(pg.name); // the second Alertmanager's first delivery fails: it will send it again
    const killedAt = Date.now();
    t.equal(await e.loop.kill(pg), 1, 'the one process of phone-gateway died');
    const runId = await e.runStarted(pg.name, killedAt);
    t.comment(`kill → run started in ${Date.now() - killedAt} ms`);
    const run = await e.ended(runId);
    const endedAt = Date.parse(run.state.endedAt);
    t.comment(`kill → run ${run.status} in ${endedAt - killedAt} ms`);
    describe(t, run);
    t.equal(run.status, 'succeeded', run.state.outcome);
    t.same(rungs(run), { restart: 'succeeded' }, 'the first rung fixed it');
    t.same(
      stepIds(run),
      ['inputs', 'diagnose', 'database-up', 'redis-up', 'restart', 'rollout', 'health', 'up'],
      'restarted, then verified: rollout, five health checks, Prometheus up',
    );

    t.ok(
      Number(e.sim.get('Deployment', pg.namespace, pg.name).metadata.annotations['deployment.kubernetes.io/revision']) > revisionBefore,
      'a new revision rolled out',
    );
    const now = e.loop.pods.processes(pg);
    t.equal(now.length, 1, 'one process serves again');
    t.notOk(before.includes(now[0]!.pid), 'a new process');
    t.equal((await fetch(e.loop.service(pg).healthUrl)).status, 200, 'the Service answers its health check');
    await e.loop.prometheus.waitFor(`${e.loop.service(pg).upQuery} == 1`, 10_000);
    const resolved = await e.decision(runId, 'resolved', 15_000);
    t.match(resolved.message, /ServiceDown \(ai-ninja\/phone-gateway\) resolved/);

    // What this scenario claims is about the episode the kill opened (fingerprint + startsAt): its deliveries join
    // one run and it pages nobody. Another outage of the same series is another episode, and the real loop can
    // legitimately open one: the fast profile scrapes every 500 ms with a 500 ms timeout and fires after 1 s, so a
    // machine loaded enough to keep the Service from answering its scrapes for a second makes Prometheus see a healthy
    // phone-gateway down and send a new ServiceDown (a new startsAt), which remediator rightly handles as a new
    // episode (its own run; refused by the budget, it pages). Counting every run and page of phone-gateway made the
    // test depend on the machine's load; counting the episode's does not, and still fails on a second run or a page
    // of this episode.
    const episode = run.episodeId as string;
    t.match(episode, /^ep-/, 'the run belongs to the alert episode');
    const later = (await e.runsFor(pg.name)).filter((r) => Date.parse(r.createdAt) >= killedAt - 1000 && r.episodeId !== episode);
    if (later.length > 0)
      t.comment(
        `another outage episode of phone-gateway was opened meanwhile (the machine kept its scrapes from answering): ${later.map((r) => `${r.id} ${r.status}`).join(', ')}`,
      );

    // Three firing deliveries of the episode: Alertmanager 1's (it started the run), Alertmanager 2's first try
    // (answered 503 by the relay, so remediator never saw it) and its re-send during the run.
    const viaRelay = e.relay.deliveries.filter((d) => d.status === 'firing' && d.episodes.includes(episode));
    t.same(
      viaRelay.map((d) => d.answered),
      [503, 202],
      'the relayed Alertmanager got a 503, then re-sent and was accepted',
    );
    t.ok(viaRelay[1]!.at < endedAt, `the re-send came during the run (${viaRelay[1]!.at - killedAt} ms after the kill)`);
    const final = (await e.svc.api('GET', `/v1/runs/${runId}`)).body;
    t.same(
      final.decisions.filter((x: any) => x.reason === 'started' || x.reason === 'deduplicated').map((x: any) => x.reason),
      ['started', 'deduplicated'],
      'the re-send was deduplicated into the run',
    );
    t.same(
      (await e.runsFor(pg.name)).filter((r) => r.episodeId === episode).map((r) => r.id),
      [runId],
      'one run for the episode',
    );
    t.same(
      triggersFor(pg.name).filter((q) => (q.body as any).dedup_key === `remediator-${episode}`),
      [],
      'nobody was paged for it',
    );
  });

  t.test('a bad release: restart does not help, rollback to the release before it does', async (t) => {
    const rp = e.ref('realtime-processor');
    const d = e.sim.get('Deployment', rp.namespace, rp.name);
    const goodImage = d.spec.template.spec.containers[0].image;
    const deployedAt = Date.now();
    // The bad release's rollouts (the deploy, then the restart rung's) must fail quickly: a 2 s progress deadline
    // makes `rollout status` say so in seconds instead of 600. The good release's rollout (the undo) must not race
    // that deadline: its pod is a real process, which on a loaded machine takes more than 2 s to start and be Ready.
    // So the deadline follows the template's image, set as the change is made, before any client can see it.
    const isBad = (x: any) => x.spec.template.spec.containers[0].image.endsWith('-bad');
    const stopFollowing = e.sim.onChange((c) => {
      if (c.type !== 'MODIFIED' || c.kind !== 'Deployment' || c.namespace !== rp.namespace || c.name !== rp.name) return;
      const now = e.sim.get('Deployment', rp.namespace, rp.name);
      const deadline = isBad(now) ? FAIL_FAST_DEADLINE_S : DEFAULT_DEADLINE_S;
      if (now.spec.progressDeadlineSeconds !== deadline) e.sim.put({ ...now, spec: { ...now.spec, progressDeadlineSeconds: deadline } });
    });
    t.teardown(stopFollowing);
    // A deploy of a broken build with the Recreate strategy: the good pod goes first, the new one never gets Ready.
    e.sim.put({
      ...d,
      spec: {
        ...d.spec,
        strategy: { type: 'Recreate' },
        template: {
          ...d.spec.template,
          spec: {
            ...d.spec.template.spec,
            containers: [{ ...d.spec.template.spec.containers[0], image: 'ai-ninja/realtime-processor:1.1.0-bad' }],
          },
        },
      },
    });
    const runId = await e.runStarted(rp.name, deployedAt);
    const run = await e.ended(runId);
    t.comment(`bad deploy → run ${run.status} in ${Date.parse(run.state.endedAt) - deployedAt} ms`);
    describe(t, run);
    t.equal(run.status, 'succeeded', run.state.outcome);
    t.same(rungs(run), { restart: 'failed', rollback: 'succeeded' });
    t.equal(e.sim.get('Deployment', rp.namespace, rp.name).spec.template.spec.containers[0].image, goodImage, 'the good image runs again');
    t.ok(
      e.events.some((x) => x.type === 'unready' && x.image.endsWith('-bad')),
      'the bad release failed its readiness probe',
    );
    await e.loop.prometheus.waitFor(`${e.loop.service(rp).upQuery} == 1`, 10_000);
    await e.decision(runId, 'resolved', 15_000);
    t.equal(triggersFor(rp.name).length, 0, 'nobody was paged');
  });

  t.test('nothing fixes it: one P0 page with the snapshot and the timeline; the verified fix later resolves it', async (t) => {
    const ce = e.ref('conversation-engine');
    const d = e.sim.get('Deployment', ce.namespace, ce.name);
    e.sim.put({ ...d, spec: { ...d.spec, progressDeadlineSeconds: FAIL_FAST_DEADLINE_S } });
    const brokeAt = Date.now();
    // Something it needs is unreachable and no exporter says so: every process of it fails, whatever its release.
    e.loop.setDependencyDown(ce, 'cannot reach the speech upstream: connection refused');
    const runId = await e.runStarted(ce.name, brokeAt);
    const run = await e.ended(runId);
    t.comment(`outage → run ${run.status} in ${Date.parse(run.state.endedAt) - brokeAt} ms`);
    describe(t, run);
    t.equal(run.status, 'escalated', run.state.outcome);
    t.same(Object.keys(rungs(run)), ['restart', 'rollback', 'degrade', 'failover'], 'every rung was tried');
    t.ok(
      run.state.rungs.every((r: any) => r.outcome === 'failed'),
      'and failed',
    );

    await e.until('the page', () => triggersFor(ce.name).length >= 1, 10_000);
    t.same(e.pagerduty.problems(), [], 'every event met the PagerDuty Events v2 contract');
    const page = (triggersFor(ce.name)[0]!.body as any).payload;
    t.equal(page.severity, 'critical', 'a P0 page');
    t.match(page.summary, /ServiceDown/);
    t.match(page.custom_details.snapshot, { pods: { total: Number }, events: Array }, 'the diagnosis snapshot is attached');
    t.match(page.custom_details.rungs.join('\n'), /restart[\s\S]*rollback[\s\S]*degrade[\s\S]*failover/, 'the rungs tried are listed');
    t.ok(page.custom_details.timeline.length > 3, 'with the timeline');
    const md = await fetch(`${e.svc.url}/v1/runs/${runId}/timeline`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    t.match(await md.text(), /escalat/i, 'the post-incident timeline tells the story');
    t.equal(await e.loop.isUp(ce), false, 'it is still down');
    const opened = [...e.pagerduty.alerts.entries()].filter(([, a]) => a.events.some((x) => x.payload?.component === ce.name));
    t.equal(opened.length, 1, 'one PagerDuty alert for the episode');
    t.equal(opened[0]![1].opened, 1, 'paged once');

    // A person brings the upstream back and asks remediator to try again: the restart now verifies and the page
    // is resolved on the same dedup_key; Alertmanager's resolve closes the episode. The default progress deadline
    // again first: the restart's good release must not race the fail-fast one.
    const now = e.sim.get('Deployment', ce.namespace, ce.name);
    e.sim.put({ ...now, spec: { ...now.spec, progressDeadlineSeconds: DEFAULT_DEADLINE_S } });
    e.loop.setDependencyDown(ce, undefined);
    const retry = await e.svc.api('POST', `/v1/runs/${runId}/retry`, { reason: 'upstream is back, restart and verify' });
    t.equal(retry.status, 202);
    const fixed = await e.ended(retry.body.id);
    t.equal(fixed.status, 'succeeded', fixed.state.outcome);
    await e.until('the resolve event', () => opened[0]![1].status === 'resolved', 10_000);
    t.pass('the PagerDuty alert is resolved');
    await e.loop.prometheus.waitFor(`${e.loop.service(ce).upQuery} == 1`, 10_000);
    await e.decision(runId, 'resolved', 15_000);
  });

  t.test('the service flaps: after the budget the loop stops, and a person is paged once', async (t) => {
    const pa = e.ref('profile-analytics');
    const outcomes: Array<{ status: string; acted: boolean; reasons: string[] }> = [];
    for (let flap = 1; flap <= 4; flap++) {
      const killedAt = Date.now();
      await e.loop.kill(pa);
      const id = await e.runStarted(pa.name, killedAt);
      const run = await e.ended(id);
      const acted = run.state.steps.some(
        (s: any) =>
          s.status === 'succeeded' && /^kube\.(rolloutRestart|rolloutUndo|scale|patchConfigMap|switchServiceSelector)$/.test(s.uses),
      );
      outcomes.push({ status: run.status, acted, reasons: [...new Set<string>(run.decisions.map((x: any) => x.reason))] });
      t.comment(`flap ${flap}: ${run.status}${acted ? ' (acted)' : ''}: ${run.state.outcome}`);
      if (run.status !== 'succeeded') break;
      await e.decision(id, 'resolved', 15_000); // up again: the next kill is a new episode
    }
    t.equal(outcomes.filter((o) => o.acted).length, 1, 'one run acted: the budget is one per hour');
    const last = outcomes.at(-1)!;
    t.equal(outcomes.length, 2, 'the second outage was not acted on');
    t.not(last.status, 'succeeded');
    t.ok(last.reasons.includes('budget_exhausted') || last.reasons.includes('ineffective'), `it says why: ${last.reasons.join(', ')}`);
    await e.until('the page', () => triggersFor(pa.name).length >= 1, 10_000);
    t.equal(await e.loop.isUp(pa), false, 'automation stopped: the service is left to the person paged');
    await new Promise((r) => setTimeout(r, 1000));
    t.equal(triggersFor(pa.name).length, 1, 'paged once');
  });
}

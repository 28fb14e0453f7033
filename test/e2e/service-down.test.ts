import t from 'tap';
import { skipReason, startE2E } from './real-loop-harness.ts';

// The real loop: kill a service's process → Prometheus `up == 0` → ServiceDown → Alertmanager (an HA pair) →
// remediator runs the SHIPPED service-down playbook against the simulated cluster → the rollout starts new
// processes → Prometheus `up == 1` → Alertmanager sends resolved → the episode closes.
if (skipReason) {
  t.plan(0, `real loop needs Prometheus and Alertmanager: ${skipReason}`);
} else {
  const e = await startE2E();

  t.test('restart fixes it: kill → alert → one run restarts the service → up again → resolved', async (t) => {
    const pg = e.ref('phone-gateway');
    const before = e.loop.pods.processes(pg).map((p) => p.pid);
    const revisionBefore = e.sim.get('Deployment', pg.namespace, pg.name).metadata.annotations['deployment.kubernetes.io/revision'];
    const killedAt = Date.now();
    t.equal(await e.loop.kill(pg), 1, 'the one process of phone-gateway died');
    const runId = await e.runStarted(pg.name, killedAt);
    t.comment(`kill → run ${runId} started in ${Date.now() - killedAt} ms`);
    const run = await e.ended(runId);
    t.comment(`kill → run ${run.status} in ${Date.now() - killedAt} ms`);
    t.equal(run.status, 'succeeded', run.state.outcome);
    t.same(run.state.steps.filter((s: any) => s.status === 'succeeded').map((s: any) => s.id).slice(0, 3), ['diagnose', 'restart', 'rollout']);

    const d = e.sim.get('Deployment', pg.namespace, pg.name);
    t.ok(Number(d.metadata.annotations['deployment.kubernetes.io/revision']) > Number(revisionBefore), 'a new revision rolled out');
    const now = e.loop.pods.processes(pg);
    t.equal(now.length, 1, 'one process serves again');
    t.notOk(before.includes(now[0]!.pid), 'it is a new process');
    t.equal((await fetch(e.loop.service(pg).healthUrl)).status, 200, 'the Service answers its health check');

    await e.loop.prometheus.waitFor(`${e.loop.service(pg).upQuery} == 1`, 10_000);
    const resolved = await e.decision(runId, 'resolved', 15_000);
    t.comment(`kill → resolved webhook recorded in ${Date.parse(resolved.at) - killedAt} ms`);
    t.match(resolved.message, /ServiceDown.*resolved/);

    const runs = (await e.runsFor(pg.name)).filter((r) => Date.parse(r.createdAt) >= killedAt - 1000);
    t.equal(runs.length, 1, 'one run for the episode, although two Alertmanagers sent it');
    const final = await e.svc.api('GET', `/v1/runs/${runId}`);
    t.ok(final.body.decisions.some((x: any) => x.reason === 'deduplicated'), 'the HA twin was deduplicated into the run');
    t.equal(e.pagerduty.requests.length, 0, 'nobody was paged');
  });
}

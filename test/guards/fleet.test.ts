import t from 'tap';
import { startGuardedService, type GuardedService } from './guard-harness.ts';
import { addDeployment, nodeObject } from '../../src/sim/index.ts';

const single = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: service-down }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - id: restart
      action: kube.rolloutRestart
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
`;

const fleet = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: service-fleet }
spec:
  priority: 200
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  fleet: { by: deployment, min: 2, window: 2m }
  params: { namespace: "", services: [] }
  onExhausted: { escalate: true, level: P0 }
  steps:
    - id: cluster
      action: kube.clusterSnapshot
      with: { namespace: "{{ params.namespace }}", deployments: "{{ params.services }}", failOnInfrastructure: true }
      onFailure: escalate
    - id: restart
      action: kube.batchRestart
      with: { namespace: "{{ params.namespace }}", names: "{{ params.services }}", onFailure: continue, pollInterval: 100ms }
      onFailure: escalate
`;

const playbooks = { 'service-down.yaml': single, 'service-fleet.yaml': fleet };

/** Four services of a namespace of their own (the fleet is counted per namespace). */
function addServices(svc: GuardedService, namespace: string): string[] {
  const names = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'];
  for (const name of names) addDeployment(svc.sim, { namespace, name, image: `ai-ninja/${name}:1`, replicas: 1 });
  return names;
}

async function fleetRuns(svc: GuardedService): Promise<any[]> {
  const res = await svc.api('GET', '/v1/runs?playbook=service-fleet&limit=100');
  return res.body.runs;
}

t.test('with a worker', async (t) => {
  // Every service a fleet restarts counts for the storm breaker; this file restarts more than its default 5.
  const svc = await startGuardedService({ playbooks, overrides: (c) => (c.guards = { ...c.guards, storm: { targets: 50 } }) });

  t.test(
    'four services down in one notification: one fleet run diagnoses the cluster, restarts each in turn, ✅ per service',
    async (t) => {
      const names = addServices(svc, 'grouped');
      await svc.sim.settle();
      const res = await svc.post(svc.alerts(names, '2026-05-01T08:00:00.000Z', 'grouped'));
      t.equal(res.status, 202);
      t.same(
        res.body.alerts.map((a: any) => a.decision),
        ['absorbed', 'absorbed', 'absorbed', 'absorbed'],
        'no alert gets a run of its own',
      );
      const ids = new Set(res.body.alerts.map((a: any) => a.runs[0].runId));
      t.equal(ids.size, 1, 'all four point at the same fleet run');
      const run = await svc.ended([...ids][0] as string, 30_000);
      t.equal(run.playbook, 'service-fleet');
      t.equal(run.status, 'completed');
      t.same([...run.params.services].sort(), [...names].sort());
      const cluster = run.state.steps.find((s: any) => s.id === 'cluster');
      t.match(cluster, { status: 'succeeded', output: { infrastructure: false, nodes: [{ ready: 'True' }] } });
      const restart = run.state.steps.find((s: any) => s.id === 'restart');
      t.equal(restart.output.results.length, 4);
      t.ok(
        restart.output.results.every((r: any) => r.mark === '✅'),
        restart.summary,
      );
      for (const n of names) t.equal(svc.writesTo(n, 'grouped').length, 1, `${n} restarted once`);
      t.match(
        run.decisions.map((d: any) => d.reason),
        ['started'],
      );
      const single = await svc.api('GET', '/v1/runs?playbook=service-down&limit=100');
      t.same(
        single.body.runs.filter((r: any) => r.params?.namespace === 'grouped' || r.target?.namespace === 'grouped'),
        [],
        'no per-service run',
      );
    },
  );

  t.test('a node NotReady: the fleet run changes nothing and escalates naming the node', async (t) => {
    const names = addServices(svc, 'infra');
    await svc.sim.settle();
    svc.sim.put(nodeObject({ name: 'worker-7', ready: false }));
    t.teardown(() => svc.sim.put(nodeObject({ name: 'worker-7' })));
    const ids = await svc.fire(names.slice(0, 2), '2026-05-01T09:00:00.000Z', 'infra');
    t.equal(new Set(ids).size, 1);
    const run = await svc.ended(ids[0]!, 30_000);
    t.equal(run.status, 'escalated');
    const cluster = run.state.steps.find((s: any) => s.id === 'cluster');
    t.match(cluster.error, { code: 'REM_ERR_INFRASTRUCTURE', message: /node worker-7 NotReady/, details: { causes: [/worker-7/] } });
    t.notOk(
      run.state.steps.some((s: any) => s.id === 'restart'),
      'no restart was tried',
    );
    for (const n of names) t.same(svc.writesTo(n, 'infra'), [], `${n} untouched`);
  });

  t.test("hold: alerts sent one by one; the first service's run waits, the fleet absorbs it, each service is restarted once", async (t) => {
    const held = await startGuardedService({
      playbooks: { 'service-down.yaml': single, 'service-fleet.yaml': fleet.replace('window: 2m }', 'window: 2m, hold: 30s }') },
      overrides: (c) => (c.guards = { ...c.guards, storm: { targets: 50 } }),
    });
    const names = addServices(held, 'held');
    await held.sim.settle();
    const [own] = await held.fire([names[0]!], '2026-05-01T11:00:00.000Z', 'held');
    const queued = await held.api('GET', `/v1/runs/${own}`);
    t.equal(queued.body.playbook, 'service-down');
    t.ok(Date.parse(queued.body.holdUntil) > Date.now() + 20_000, 'held for the fleet');
    const res = await held.post(held.alerts([names[1]!], '2026-05-01T11:00:05.000Z', 'held'));
    const fleetId = res.body.alerts[0].runs[0].runId;
    const absorbed = await held.ended(own!, 10_000);
    t.equal(absorbed.status, 'cancelled', 'the held run ends without a step once absorbed');
    t.same(absorbed.state?.steps ?? [], []);
    t.match(
      absorbed.decisions.map((d: any) => d.reason),
      ['started', 'absorbed'],
    );
    const run = await held.ended(fleetId, 30_000);
    t.equal(run.status, 'completed');
    for (const n of names.slice(0, 2)) t.equal(held.writesTo(n, 'held').length, 1, `${n} restarted once, by the fleet`);
  });

  t.test('a service that goes down after the fleet run ended gets its own run', async (t) => {
    const names = addServices(svc, 'later');
    await svc.sim.settle();
    const ids = await svc.fire(names.slice(0, 2), '2026-05-01T10:00:00.000Z', 'later');
    await svc.ended(ids[0]!, 30_000);
    const [own] = await svc.fire([names[2]!], '2026-05-01T10:00:30.000Z', 'later');
    const run = await svc.ended(own!, 15_000);
    t.equal(run.playbook, 'service-down');
    t.equal(svc.writesTo(names[2]!, 'later').length, 1);
  });
});

t.test('receiver only (no worker): queued runs are absorbed, concurrent webhooks open exactly one fleet', async (t) => {
  const svc = await startGuardedService({ playbooks, role: 'receiver' });

  t.test('separate notifications: the first gets its own run, the second opens the fleet and absorbs it', async (t) => {
    const [first] = await svc.fire(['phone-gateway'], '2026-05-01T08:00:00.000Z', 'apart');
    const own = await svc.api('GET', `/v1/runs/${first}`);
    t.equal(own.body.playbook, 'service-down');
    const res = await svc.post(svc.alerts(['realtime-processor'], '2026-05-01T08:00:20.000Z', 'apart'));
    t.match(
      res.body.alerts,
      [{ decision: 'absorbed', runs: [{ playbook: 'service-fleet', decision: 'started' }] }],
      'the fleet run this webhook created is reported started',
    );
    const fleetId = res.body.alerts[0].runs[0].runId;
    const absorbed = await svc.api('GET', `/v1/runs/${first}`);
    t.match(absorbed.body.cancel, { by: 'service-fleet', reason: new RegExp(`absorbed into fleet run ${fleetId}`) });
    t.match(
      absorbed.body.decisions.map((d: any) => d.reason),
      ['started', 'absorbed'],
    );
    const f = await svc.api('GET', `/v1/runs/${fleetId}`);
    t.same(f.body.params.services, ['phone-gateway', 'realtime-processor']);
    // A third service joins the fleet run that has not ended: appended to its services.
    await svc.fire(['conversation-engine'], '2026-05-01T08:00:40.000Z', 'apart');
    const grown = await svc.api('GET', `/v1/runs/${fleetId}`);
    t.same(grown.body.params.services, ['phone-gateway', 'realtime-processor', 'conversation-engine']);
    // A repeat of an absorbed alert (Alertmanager's repeat or retry) changes nothing.
    const again = await svc.post(svc.alerts(['realtime-processor'], '2026-05-01T08:00:20.000Z', 'apart'));
    t.match(again.body.alerts, [{ decision: 'absorbed', runs: [{ runId: fleetId }] }]);
    t.equal((await fleetRuns(svc)).filter((r) => r.params.namespace === 'apart').length, 1);
  });

  t.test('eight concurrent webhooks (each service twice, as HA Alertmanagers send): one fleet run with all four services', async (t) => {
    const names = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'];
    const posts = [...names, ...names].map((n) => svc.post(svc.alerts([n], '2026-05-01T09:00:00.000Z', 'racing')));
    const answers = await Promise.all(posts);
    t.ok(answers.every((a) => a.status === 202));
    const runs = (await fleetRuns(svc)).filter((r) => r.params.namespace === 'racing');
    t.equal(runs.length, 1, 'exactly one fleet run');
    t.same([...runs[0].params.services].sort(), [...names].sort());
    // Whatever got a run of its own before the fleet opened was absorbed before any worker could start it.
    const own = answers
      .flatMap((a) => a.body.alerts)
      .filter((a: any) => a.decision === 'started')
      .map((a: any) => a.runs[0].runId);
    for (const id of new Set(own)) {
      const r = await svc.api('GET', `/v1/runs/${id}`);
      t.match(
        r.body.decisions.map((d: any) => d.reason),
        ['started', 'absorbed'],
        `run ${id} absorbed`,
      );
    }
  });
});

import t from 'tap';
import { Redis } from 'ioredis';
import { kubeCordonAction as cordon } from '../../src/actions/kube-cordon.ts';
import { nodeObject } from '../../src/sim/index.ts';
import { loadPlaybook } from '../../src/playbooks/load-playbook.ts';
import { createRegistry } from '../../src/main.ts';
import { Keys } from '../../src/store/keys.ts';
import { TargetLock } from '../../src/guards/target-lock.ts';
import { runAction } from '../support/step-context.ts';
import { kubectl } from '../kube/kubectl.ts';
import { requestsSince, simCluster } from '../kube/sim-cluster.ts';
import { startGuardedService } from '../guards/guard-harness.ts';

const { sim, kube, kubeconfig } = await simCluster({ seed: 'empty' });
const services = { kube };
const nodeRequests = (from: number) => requestsSince(sim, from).filter((r) => r.path.startsWith('/api/v1/nodes'));
const unschedulable = (name: string) => sim.get('Node', '', name).spec.unschedulable === true;

t.test(
  'cordons like kubectl: one GET, one strategic merge patch of spec.unschedulable, an Event, the change with its before-state',
  async (t) => {
    sim.put(nodeObject({ name: 'worker-1' }));
    const from = sim.requests.length;
    const r = await runAction(cordon, { name: 'worker-1' }, { services, run: { id: 'run-1' }, step: { id: 'cordon' } });
    t.match(r, {
      status: 'ok',
      summary: 'node worker-1 cordoned',
      output: { target: { kind: 'Node', name: 'worker-1' }, unschedulable: true, changed: true },
    });
    t.same((r as any).changes, [
      {
        target: { kind: 'Node', name: 'worker-1' },
        before: { unschedulable: false },
        after: { unschedulable: true },
        action: 'kube.cordon',
        step: 'cordon',
      },
    ]);
    const calls = nodeRequests(from);
    t.same(
      calls.map((c) => `${c.method} ${c.path}`),
      ['GET /api/v1/nodes/worker-1', 'PATCH /api/v1/nodes/worker-1'],
    );
    t.equal(calls[1]!.contentType, 'application/strategic-merge-patch+json');
    t.same(JSON.parse(calls[1]!.body), { spec: { unschedulable: true } }, 'the body kubectl cordon sends');
    t.ok(unschedulable('worker-1'));
    t.match(await kubectl(kubeconfig, 'get', 'nodes'), /^worker-1\s+Ready,SchedulingDisabled\s/m, 'kubectl get nodes shows it cordoned');
    const events = sim.list('Event', 'default').filter((e: any) => e.reason === 'RemediatorCordon');
    t.equal(events.length, 1, 'the Event of a cluster-scoped object lives in namespace default');
    t.match(events[0].involvedObject, { apiVersion: 'v1', kind: 'Node', name: 'worker-1' });
    t.notOk(events[0].involvedObject.namespace);
  },
);

t.test('a Node already cordoned is left alone, as kubectl says "already cordoned"', async (t) => {
  sim.put(nodeObject({ name: 'worker-2', unschedulable: true }));
  const from = sim.requests.length;
  const r = await runAction(cordon, { name: 'worker-2' }, { services });
  t.match(r, { status: 'ok', summary: 'node worker-2 already cordoned', output: { changed: false } });
  t.notOk((r as any).changes);
  t.same(
    nodeRequests(from).map((c) => c.method),
    ['GET'],
  );
});

t.test("uncordon sends kubectl uncordon's patch, and real kubectl cordon/uncordon agree with the simulated Node", async (t) => {
  sim.put(nodeObject({ name: 'worker-3', unschedulable: true }));
  const from = sim.requests.length;
  const r = await runAction(cordon, { name: 'worker-3', uncordon: true }, { services });
  t.match(r, {
    status: 'ok',
    summary: 'node worker-3 uncordoned',
    changes: [{ before: { unschedulable: true }, after: { unschedulable: false } }],
  });
  t.same(JSON.parse(nodeRequests(from).find((c) => c.method === 'PATCH')!.body), { spec: { unschedulable: null } });
  t.notOk(unschedulable('worker-3'));

  const kubectlFrom = sim.requests.length;
  t.equal((await kubectl(kubeconfig, 'cordon', 'worker-3')).trim(), 'node/worker-3 cordoned');
  t.ok(unschedulable('worker-3'));
  t.equal((await kubectl(kubeconfig, 'cordon', 'worker-3')).trim(), 'node/worker-3 already cordoned');
  t.equal((await kubectl(kubeconfig, 'uncordon', 'worker-3')).trim(), 'node/worker-3 uncordoned');
  t.notOk(unschedulable('worker-3'));
  const patches = nodeRequests(kubectlFrom).filter((c) => c.method === 'PATCH');
  t.same(
    patches.map((p) => [p.contentType, JSON.parse(p.body)]),
    [
      ['application/strategic-merge-patch+json', { spec: { unschedulable: true } }],
      ['application/strategic-merge-patch+json', { spec: { unschedulable: null } }],
    ],
    'kubectl sends what kube.cordon sends',
  );
});

t.test('dry run: the API sees dryRun=All, the Node stays schedulable, the plan is returned', async (t) => {
  sim.put(nodeObject({ name: 'worker-4' }));
  const from = sim.requests.length;
  const r = await runAction(cordon, { name: 'worker-4' }, { services, run: { dryRun: true } });
  t.match(r, { status: 'ok', output: { dryRun: true, plan: { patch: { type: 'strategic', body: { spec: { unschedulable: true } } } } } });
  t.equal(nodeRequests(from).find((c) => c.method === 'PATCH')?.query.dryRun, 'All');
  t.notOk(unschedulable('worker-4'));
});

t.test('a missing Node is a clear not-found', async (t) => {
  await t.rejects(runAction(cordon, { name: 'ghost' }, { services }), {
    code: 'REM_ERR_KUBE_NOT_FOUND',
    message: /nodes "ghost" not found/,
  });
});

t.test('its permissions are cluster-wide: nodes get and patch, Events in default', async (t) => {
  t.same(cordon.permissions!({ name: 'x' }), [
    { verb: 'get', group: '', resource: 'nodes' },
    { verb: 'patch', group: '', resource: 'nodes' },
    { verb: 'create', group: '', resource: 'events', namespace: 'default' },
  ]);
});

t.test('its parameters are checked when the playbook loads', async (t) => {
  const ctx = { registry: createRegistry(), available: new Set<any>(['limits', 'kube']) };
  const doc = (target: string, withs: string) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: cordon }
spec:
  triggers: [{ matchers: ['alertname="NodeNotReady"'] }]
  target: ${target}
  steps:
    - id: cordon
      action: kube.cordon
      with: ${withs}
`;
  t.same(loadPlaybook('pb.yaml', doc('{ kind: Node, name: "{{ labels.node }}" }', '{ name: "{{ labels.node }}" }'), ctx).problems, []);
  const problems = (text: string) =>
    loadPlaybook('pb.yaml', text, ctx)
      .problems.map((p) => p.message)
      .join('\n');
  t.match(problems(doc('{ kind: Node, name: n }', '{ name: Worker_1 }')), /name/, 'a name that is no DNS subdomain');
  t.match(problems(doc('{ kind: Node, name: n }', '{ name: n, drain: true }')), /drain/, 'an unknown parameter');
  t.match(problems(doc('{ kind: Node, name: n }', '{ name: n, uncordon: "yes" }')), /uncordon/, 'uncordon is a boolean');
  t.match(problems(doc('{ kind: Node, namespace: default, name: n }', '{ name: n }')), /cluster-scoped/, 'a Node target has no namespace');
});

t.test('guarded like every mutation: the opt-out label, the lock and a dry run', async (t) => {
  const playbook = (name: string, alertname: string, spec = '') => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  triggers: [{ matchers: ['alertname="${alertname}"'] }]
  target: { kind: Node, name: "{{ labels.node }}" }
${spec}  steps:
    - id: cordon
      action: kube.cordon
      with: { name: "{{ labels.node }}" }
`;
  const svc = await startGuardedService({
    playbooks: {
      'cordon.yaml': playbook('cordon', 'NodeNotReady', '  concurrency: skip\n'),
      'plan.yaml': playbook('cordon-plan', 'NodePlan', '  dryRun: true\n'),
    },
    guards: { ineffective: { window: 0 }, storm: { targets: 100 } },
  });
  let minute = 0;
  const fire = async (node: string, alertname = 'NodeNotReady') => {
    const body = svc.alerts(
      [node],
      new Date(Date.parse('2026-05-01T08:00:00Z') + ++minute * 60_000).toISOString(),
      'default',
      alertname,
    ) as any;
    for (const a of body.alerts) a.labels = { alertname, node, severity: 'critical' };
    const res = await svc.post(body);
    t.equal(res.status, 202);
    return svc.ended(res.body.alerts[0].runs[0].runId);
  };
  const nodeWrites = (node: string) =>
    svc.sim.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v1/nodes/${node}` && (r.status ?? 0) < 300);

  svc.sim.put(nodeObject({ name: 'opted-out' }));
  const n = svc.sim.get('Node', '', 'opted-out');
  svc.sim.put({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, 'remediator.io/disabled': 'true' } } });
  const refused = await fire('opted-out');
  t.equal(refused.status, 'skipped');
  t.match(
    refused.decisions.find((d: any) => d.reason === 'out_of_scope')?.message,
    /Node opted-out is labelled remediator\.io\/disabled=true/,
  );
  t.same(nodeWrites('opted-out'), [], 'the labelled Node is never patched');

  svc.sim.put(nodeObject({ name: 'held' }));
  const redis = new Redis(svc.redis!.url);
  t.teardown(() => redis.disconnect());
  const lock = new TargetLock(redis, new Keys(svc.config.redis.prefix));
  const claim = await lock.claim({
    runId: 'run-operator-hold',
    playbook: 'x',
    target: '/Node/held',
    now: Date.now(),
    ttlMs: 60_000,
    limits: { runs: 1, windowMs: 1000, cooldownMs: 0 },
    countBudget: false,
  });
  t.equal(claim.kind, 'acquired');
  const locked = await fire('held');
  t.equal(locked.status, 'skipped');
  t.match(locked.decisions.find((d: any) => d.reason === 'locked')?.message, /run run-operator-hold is acting on \/Node\/held/);
  t.same(nodeWrites('held'), []);
  await lock.release('run-operator-hold');

  const done = await fire('held');
  t.equal(done.status, 'completed');
  t.equal(nodeWrites('held').length, 1);
  t.ok(svc.sim.get('Node', '', 'held').spec.unschedulable, 'cordoned once the lock is free');

  svc.sim.put(nodeObject({ name: 'planned' }));
  const plan = await fire('planned', 'NodePlan');
  t.equal(plan.status, 'completed');
  t.ok(plan.decisions.some((d: any) => d.reason === 'dry_run'));
  t.same(
    nodeWrites('planned').map((w) => w.query.dryRun),
    ['All'],
    'only a server-side dry run reached the Node',
  );
  t.notOk(svc.sim.get('Node', '', 'planned').spec.unschedulable);
});

import t from 'tap';
import { kubeClusterSnapshotAction as snapshot } from '../../src/actions/kube-cluster-snapshot.ts';
import { kubeRolloutRestartAction as restart } from '../../src/actions/kube-rollout-restart.ts';
import { ManualClock } from '../../src/ports/clock.ts';
import { addDeployment, nodeObject } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster({ seed: 'ai-ninja' });
await sim.settle();
const services = { kube };
const ns = 'ai-ninja';
const apps = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'];

t.test('a healthy cluster: every node Ready, no cause, and the rollouts of the last hour with their times', async (t) => {
  await runAction(restart, { namespace: ns, name: 'phone-gateway' }, { services, clock: new ManualClock(Date.now()), run: { id: 'run-c1' } });
  await sim.settle();
  const r = await runAction(snapshot, { namespace: ns, deployments: apps }, { services });
  t.equal(r.status, 'ok');
  const out = (r as any).output;
  t.equal(out.infrastructure, false);
  t.same(out.causes, []);
  t.match(out.nodes, [{ name: 'kube-sim-node', ready: 'True', pressure: [], unschedulable: false }]);
  t.same(out.deployments.sort(), [...apps].sort());
  const rollout = out.changes.rollouts.find((x: any) => x.deployment === 'phone-gateway' && x.revision === 2);
  t.ok(rollout, 'the restart is in the rollout history of the last hour');
  t.ok(Date.parse(rollout.createdAt) > Date.now() - 3_600_000, 'with its creation time');
  t.ok(rollout.restartedAt, 'and the restartedAt it carries');
  t.match((r as any).summary, /^no cluster-level cause: 1 of 1 nodes Ready/);
});

t.test('a NotReady node and a node under memory pressure are infrastructure causes that name the node', async (t) => {
  sim.put(nodeObject({ name: 'worker-2', ready: false }));
  const pressed = nodeObject({ name: 'worker-3' });
  pressed.status.conditions.find((c: any) => c.type === 'MemoryPressure').status = 'True';
  sim.put(pressed);
  // Healthy again for the tests after this one.
  t.teardown(() => {
    sim.put(nodeObject({ name: 'worker-2' }));
    sim.put(nodeObject({ name: 'worker-3' }));
  });
  const r = await runAction(snapshot, { namespace: ns }, { services });
  const out = (r as any).output;
  t.equal(out.infrastructure, true);
  t.match(out.causes, ['node worker-2 NotReady (NodeStatusUnknown: Kubelet stopped posting node status.)', 'node worker-3 has MemoryPressure']);
  t.match((r as any).summary, /^infrastructure: node worker-2 NotReady/);
  await t.rejects(runAction(snapshot, { namespace: ns, failOnInfrastructure: true }, { services }), {
    code: 'REM_ERR_INFRASTRUCTURE',
    message: /node worker-2 NotReady/,
    details: { infrastructure: true, nodes: [{ name: 'kube-sim-node' }, { name: 'worker-2', ready: 'Unknown' }, { name: 'worker-3' }] },
  });
});

t.test('a ConfigMap a Deployment needs is missing: a cause naming who uses it; an optional one is not', async (t) => {
  addDeployment(sim, { namespace: ns, name: 'billing', image: 'ai-ninja/billing:1' });
  const live = sim.get('Deployment', ns, 'billing');
  live.spec.template.spec.containers[0].envFrom = [{ configMapRef: { name: 'billing-config' } }, { configMapRef: { name: 'billing-extra', optional: true } }];
  live.spec.template.spec.volumes = [{ name: 'cfg', configMap: { name: 'app-config' } }];
  sim.put(live);
  const r = await runAction(snapshot, { namespace: ns, deployments: ['billing'] }, { services });
  const out = (r as any).output;
  t.match(out.references, [
    { kind: 'ConfigMap', name: 'app-config', present: true, usedBy: ['billing'] },
    { kind: 'ConfigMap', name: 'billing-config', present: false, optional: false, usedBy: ['billing'] },
    { kind: 'ConfigMap', name: 'billing-extra', present: false, optional: true },
  ]);
  t.ok(out.causes.includes('ConfigMap billing-config is missing (used by billing)'));
  t.notOk(out.causes.some((c: string) => c.includes('billing-extra')), 'a missing optional ConfigMap is no cause');
});

t.test('ConfigMap changes of the last hour come from managedFields: who, how and when', async (t) => {
  // Seen from two hours on, the seeded ConfigMap's creation is outside the last hour; only its managedFields speak.
  const later = Date.now() + 2 * 3_600_000;
  const clock = new ManualClock(later);
  const at = (m: number) => new Date(Math.floor((later - m * 60_000) / 1000) * 1000).toISOString();
  const cm = sim.get('ConfigMap', ns, 'app-config');
  cm.metadata.managedFields = [
    { manager: 'kubectl-client-side-apply', operation: 'Update', time: at(300), apiVersion: 'v1', fieldsType: 'FieldsV1' },
    { manager: 'kubectl-edit', operation: 'Update', time: at(12), apiVersion: 'v1', fieldsType: 'FieldsV1' },
  ];
  sim.put(cm);
  const r = await runAction(snapshot, { namespace: ns, since: '1h' }, { services, clock });
  const changes = (r as any).output.changes.configChanges;
  t.match(changes, [{ kind: 'ConfigMap', name: 'app-config', manager: 'kubectl-edit', operation: 'Update', at: at(12) }]);
  const narrow = await runAction(snapshot, { namespace: ns, since: '5m' }, { services, clock });
  t.same((narrow as any).output.changes.configChanges, [], 'nothing within a 5m window');
});

t.test('recent Warning events of the namespace are listed, newest first', async (t) => {
  sim.faults.crashImage('ai-ninja/crashy:1', 'CrashLoopBackOff');
  addDeployment(sim, { namespace: ns, name: 'crashy', image: 'ai-ninja/crashy:1' });
  await sim.settle();
  const r = await runAction(snapshot, { namespace: ns }, { services });
  const out = (r as any).output;
  t.ok(out.warnings.length > 0);
  t.ok(out.warnings.every((w: any) => w.type === 'Warning'));
  t.ok(out.warnings.some((w: any) => /crashy/.test(w.object)));
  t.ok(out.changes.events.length >= out.warnings.length, 'the latest events of any type too');
});

t.test('a kind the identity may not list is noted, never a failure', async (t) => {
  sim.denyAccess({ verb: 'list', resource: 'nodes', group: '' });
  const r = await runAction(snapshot, { namespace: ns }, { services });
  t.equal(r.status, 'ok');
  t.match((r as any).output.unreadable, [/^Node: /]);
});

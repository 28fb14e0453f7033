import t from 'tap';
import { kubeClusterSnapshotAction as snapshot } from '../../src/actions/kube-cluster-snapshot.ts';
import { kubeRolloutRestartAction as restart } from '../../src/actions/kube-rollout-restart.ts';
import { ManualClock } from '../../src/ports/clock.ts';
import { addDeployment, nodeObject } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';
import { kubectl } from '../kube/kubectl.ts';

const { sim, kube, kubeconfig } = await simCluster({ seed: 'ai-ninja' });
await sim.settle();
const services = { kube };
const ns = 'ai-ninja';
const apps = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'];

t.test('a healthy cluster: every node Ready, no cause, and the rollouts of the last hour with their times', async (t) => {
  await runAction(
    restart,
    { namespace: ns, name: 'phone-gateway' },
    { services, clock: new ManualClock(Date.now()), run: { id: 'run-c1' } },
  );
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
  t.match(out.causes, [
    'node worker-2 NotReady (NodeStatusUnknown: Kubelet stopped posting node status.)',
    'node worker-3 has MemoryPressure',
  ]);
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
  live.spec.template.spec.containers[0].envFrom = [
    { configMapRef: { name: 'billing-config' } },
    { configMapRef: { name: 'billing-extra', optional: true } },
  ];
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
  t.notOk(
    out.causes.some((c: string) => c.includes('billing-extra')),
    'a missing optional ConfigMap is no cause',
  );
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

t.test('Secrets a Deployment needs: present or missing, and never their values in the record', async (t) => {
  await kubectl(kubeconfig, '-n', ns, 'create', 'secret', 'generic', 'db-creds', '--from-literal=password=hunter2-very-secret');
  addDeployment(sim, { namespace: ns, name: 'ledger', image: 'ai-ninja/ledger:1' });
  const live = sim.get('Deployment', ns, 'ledger');
  live.spec.template.spec.containers[0].env = [
    { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
    { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'api-key', key: 'key' } } },
  ];
  sim.put(live);
  const r = await runAction(snapshot, { namespace: ns, deployments: ['ledger'] }, { services });
  const out = (r as any).output;
  t.match(out.references, [
    { kind: 'Secret', name: 'db-creds', present: true, usedBy: ['ledger'] },
    { kind: 'Secret', name: 'api-key', present: false, usedBy: ['ledger'] },
  ]);
  t.ok(out.causes.includes('Secret api-key is missing (used by ledger)'));
  t.ok(
    out.changes.configChanges.some((c: any) => c.kind === 'Secret' && c.name === 'db-creds'),
    'the new Secret is a change of the last hour',
  );
  const json = JSON.stringify(r);
  t.notOk(json.includes('hunter2'), 'no value');
  t.notOk(json.includes(Buffer.from('hunter2-very-secret').toString('base64')), 'not even base64-encoded');
});

t.test('a claim that is not Bound is a cause; so is a node the sim makes NotReady', async (t) => {
  const file = `${process.env.TMPDIR ?? '/tmp'}/pvc-${process.pid}.yaml`;
  const { writeFile, rm } = await import('node:fs/promises');
  await writeFile(
    file,
    `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: recordings, namespace: ${ns} }\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: { requests: { storage: 10Gi } }\n  storageClassName: nowhere\n`,
  );
  t.teardown(() => rm(file, { force: true }));
  await kubectl(kubeconfig, 'apply', '-f', file);
  sim.faults.nodeNotReady('kube-sim-node');
  t.teardown(() => sim.faults.clear());
  await sim.settle();
  const r = await runAction(snapshot, { namespace: ns }, { services });
  const out = (r as any).output;
  t.match(
    out.storage.claims.find((c: any) => c.name === 'recordings'),
    { phase: 'Pending', storageClass: 'nowhere' },
  );
  t.ok(out.causes.includes('PersistentVolumeClaim recordings is Pending'), out.causes.join('; '));
  t.ok(
    out.causes.some((c: string) => /^node kube-sim-node NotReady/.test(c)),
    out.causes.join('; '),
  );
  t.match(
    out.nodes.find((n: any) => n.name === 'kube-sim-node'),
    { ready: 'Unknown' },
  );
});

// Last: the denial stays for the rest of the file.
t.test('a kind the identity may not list is noted, never a failure', async (t) => {
  sim.denyAccess({ verb: 'list', resource: 'nodes', group: '' });
  const r = await runAction(snapshot, { namespace: ns }, { services });
  t.equal(r.status, 'ok');
  t.match((r as any).output.unreadable, [/^Node: /]);
});

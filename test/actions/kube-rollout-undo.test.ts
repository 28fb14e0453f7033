import t from 'tap';
import { kubeRolloutUndoAction as undo } from '../../src/actions/kube-rollout-undo.ts';
import { addDeployment, type KubeSim } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { kubectl } from '../kube/kubectl.ts';
import { simCluster } from '../kube/sim-cluster.ts';
import { semanticEqual } from '../../src/kube/semantic-equal.ts';

const ns = 'default';

/** web at revision 3 (images 1.24 → 1.25 → 1.26); revision 2's ReplicaSet carries a custom annotation. */
async function history(sim: KubeSim, name = 'web'): Promise<void> {
  addDeployment(sim, { namespace: ns, name, image: 'nginx:1.24', replicas: 1, annotations: { 'team/owner': 'phones' } });
  await sim.settle();
  for (const image of ['nginx:1.25', 'nginx:1.26']) {
    const d = sim.get('Deployment', ns, name);
    d.spec.template.spec.containers[0].image = image;
    sim.put(d);
    await sim.settle();
  }
  const rs2 = sim
    .list('ReplicaSet', ns)
    .find(
      (rs: any) => rs.metadata.ownerReferences?.[0]?.name === name && rs.metadata.annotations['deployment.kubernetes.io/revision'] === '2',
    );
  rs2.metadata.annotations['custom/note'] = 'rev2';
  sim.put(rs2);
}

const stripOurs = (a: Record<string, string>) => Object.fromEntries(Object.entries(a).filter(([k]) => !k.startsWith('remediator.io/')));

t.test('same starting state: kubectl rollout undo and kube.rolloutUndo leave equal Deployments and send the same JSON patch', async (t) => {
  const a = await simCluster();
  const b = await simCluster();
  await history(a.sim);
  await history(b.sim);

  const fromA = a.sim.requests.length;
  t.match(await kubectl(a.kubeconfig, '-n', ns, 'rollout', 'undo', 'deployment/web'), /rolled back/);
  const fromB = b.sim.requests.length;
  const r = await runAction(
    undo,
    { namespace: ns, name: 'web' },
    { services: { kube: b.kube }, run: { id: 'run-u' }, step: { id: 'undo' } },
  );
  t.match(r, { status: 'ok', output: { revision: 2 } });

  const theirs = a.sim.requests.slice(fromA).filter((q) => q.method === 'PATCH');
  const ours = b.sim.requests.slice(fromB).filter((q) => q.method === 'PATCH');
  t.equal(theirs.length, 1);
  t.equal(ours.length, 1);
  t.equal(ours[0]!.contentType, 'application/json-patch+json');
  t.equal(ours[0]!.contentType, theirs[0]!.contentType);
  const kOps = JSON.parse(theirs[0]!.body);
  const oOps = JSON.parse(ours[0]!.body);
  t.same(
    oOps.map((o: any) => [o.op, o.path]),
    kOps.map((o: any) => [o.op, o.path]),
    'same two operations in the same order',
  );
  t.ok(semanticEqual(oOps[0].value, kOps[0].value), 'same template (kubectl adds Go zero values like creationTimestamp: null)');
  t.same(stripOurs(oOps[1].value), kOps[1].value, 'same annotations apart from the remediator stamp');
  t.equal(kOps[1].value['custom/note'], 'rev2', 'the ReplicaSet annotation was copied');
  t.notOk('pod-template-hash' in (oOps[0].value.metadata.labels ?? {}), 'pod-template-hash stripped');

  await a.sim.settle();
  await b.sim.settle();
  const da = a.sim.get('Deployment', ns, 'web');
  const db = b.sim.get('Deployment', ns, 'web');
  t.ok(semanticEqual(db.spec.template, da.spec.template), 'equal spec.template after both');
  t.same(stripOurs(db.metadata.annotations), da.metadata.annotations, 'equal annotations after both');
  t.equal(db.spec.template.spec.containers[0].image, 'nginx:1.25');
  t.ok(
    b.sim
      .list('Event', ns)
      .some(
        (e: any) =>
          e.reason === 'RemediatorRolloutUndo' &&
          e.message.startsWith('remediator rolled back deployment web to revision 2: ServiceDown, run run-u'),
      ),
  );
});

const { sim, kube } = await simCluster();
const services = { kube };
await history(sim, 'api');
const writes = (from: number) => sim.requests.slice(from).filter((q) => q.method !== 'GET' && q.method !== 'POST');

t.test('--to-revision and its errors', async (t) => {
  await t.rejects(runAction(undo, { namespace: ns, name: 'api', toRevision: 9 }, { services }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: 'unable to find specified revision 9 in history',
  });
  const r = await runAction(undo, { namespace: ns, name: 'api', toRevision: 3 }, { services });
  t.match(
    r,
    { status: 'skipped', reason: 'skipped rollback (current template already matches revision 3)' },
    'target equal to the current template: nothing sent',
  );
});

t.test('re-run of the same step writes nothing; dry run changes nothing', async (t) => {
  const dryFrom = sim.requests.length;
  const before = sim.get('Deployment', ns, 'api');
  t.match(await runAction(undo, { namespace: ns, name: 'api', toRevision: 1 }, { services, run: { id: 'dry', dryRun: true } }), {
    status: 'ok',
    output: { dryRun: true, revision: 1 },
  });
  t.same(
    writes(dryFrom).map((q) => q.query.dryRun),
    ['All'],
  );
  t.same(sim.get('Deployment', ns, 'api'), before);

  const opts = { services, run: { id: 'run-r' }, step: { id: 'undo' } };
  t.match(await runAction(undo, { namespace: ns, name: 'api', toRevision: 1 }, opts), { status: 'ok', output: { revision: 1 } });
  const from = sim.requests.length;
  t.match(await runAction(undo, { namespace: ns, name: 'api', toRevision: 1 }, opts), {
    status: 'ok',
    output: { revision: 1, repeated: true },
  });
  t.same(writes(from), []);
  await sim.settle();
});

t.test('a conflict is re-read and retried', async (t) => {
  sim.faults.injectErrors({ status: 409, count: 1, match: { method: 'PATCH', pathIncludes: '/deployments/api' } });
  const from = sim.requests.length;
  t.match(await runAction(undo, { namespace: ns, name: 'api' }, { services, run: { id: 'run-c' } }), { status: 'ok' });
  t.same(
    writes(from).map((q) => q.status),
    [409, 200],
  );
});

t.test('refuses a paused Deployment, a missing one and a forbidden patch', async (t) => {
  await sim.settle();
  const d = sim.get('Deployment', ns, 'api');
  sim.put({ ...d, spec: { ...d.spec, paused: true } });
  await t.rejects(runAction(undo, { namespace: ns, name: 'api' }, { services }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
  });
  await t.rejects(runAction(undo, { namespace: ns, name: 'ghost' }, { services }), { code: 'REM_ERR_KUBE_NOT_FOUND', retryable: false });
  addDeployment(sim, { namespace: ns, name: 'lonely', image: 'x:1' });
  await sim.settle();
  await t.rejects(runAction(undo, { namespace: ns, name: 'lonely' }, { services }), {
    message: 'no rollout history found for deployment "lonely"',
  });
  sim.denyAccess({ verb: 'list', resource: 'replicasets', namespace: ns });
  await t.rejects(runAction(undo, { namespace: ns, name: 'lonely' }, { services }), {
    code: 'REM_ERR_KUBE_FORBIDDEN',
    message: /list replicasets\.apps/,
  });
});

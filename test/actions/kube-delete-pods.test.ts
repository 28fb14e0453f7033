import t from 'tap';
import { kubeDeletePodsAction as deletePods } from '../../src/actions/kube-delete-pods.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster({ crashLoopIntervalMs: 100 });
const services = { kube };
const ns = 'default';
sim.faults.crashImage('bad:1', 'CrashLoopBackOff');
addDeployment(sim, { namespace: ns, name: 'web', image: 'nginx:1.25', replicas: 3 });
addDeployment(sim, { namespace: ns, name: 'good', image: 'nginx:1.25', replicas: 2, labels: { app: 'good', tier: 'edge' } });
addDeployment(sim, { namespace: ns, name: 'bad', image: 'bad:1', replicas: 2, labels: { app: 'bad', tier: 'edge' } });
await sim.settle();
const deletes = (from: number) => sim.requests.slice(from).filter((q) => q.method === 'DELETE');
const podNames = (app: string) =>
  sim
    .list('Pod', ns)
    .filter((p: any) => p.metadata.labels.app === app)
    .map((p: any) => p.metadata.name)
    .sort();

t.test('deletes at most maxCount pods, each with the uid and resourceVersion it read; a re-run picks no new victims', async (t) => {
  const pods = Object.fromEntries(sim.list('Pod', ns).map((p: any) => [p.metadata.name, p]));
  const from = sim.requests.length;
  const r = await runAction(
    deletePods,
    { namespace: ns, selector: 'app=web', maxCount: 2 },
    { services, run: { id: 'run-d' }, step: { id: 'kill' } },
  );
  t.match(r, { status: 'ok' });
  const dels = deletes(from);
  t.equal(dels.length, 2);
  for (const d of dels) {
    const name = d.path.split('/').at(-1)!;
    t.same(JSON.parse(d.body).preconditions, { uid: pods[name].metadata.uid, resourceVersion: pods[name].metadata.resourceVersion });
    t.equal(JSON.parse(d.body).propagationPolicy, 'Background');
  }
  const ledger = sim.list('Event', ns).find((e: any) => e.reason === 'RemediatorDeletePods');
  t.ok(ledger, 'the choice is recorded in an Event before deleting');
  t.match(ledger.message, /^remediator deleted 2 pod\(s\) matching app=web .*: ServiceDown, run run-d$/);
  await sim.settle();
  t.equal(podNames('web').length, 3, 'the ReplicaSet replaced them');
  const again = sim.requests.length;
  t.match(
    await runAction(
      deletePods,
      { namespace: ns, selector: 'app=web', maxCount: 2 },
      { services, run: { id: 'run-d' }, step: { id: 'kill' } },
    ),
    {
      status: 'ok',
      output: { deleted: [], repeated: true },
    },
  );
  t.same(deletes(again), [], 'the replacements are not deleted by the re-executed step');
});

t.test('onlyFailing picks the crash-looping pods and leaves healthy ones', async (t) => {
  const good = podNames('good');
  const from = sim.requests.length;
  const r = await runAction(
    deletePods,
    { namespace: ns, selector: 'tier=edge', maxCount: 5, onlyFailing: true },
    { services, run: { id: 'run-f' } },
  );
  t.match(r, { status: 'ok' });
  t.ok(
    deletes(from).every((d) => d.path.split('/').at(-1)!.startsWith('bad-')),
    'only bad pods',
  );
  // A crash-looping pod's status (and resourceVersion) changes often: a delete may meet a conflict and be re-read.
  t.equal(
    new Set(
      deletes(from)
        .filter((d) => d.status === 200)
        .map((d) => d.path),
    ).size,
    2,
    'both bad pods deleted',
  );
  t.same(podNames('good'), good);
});

t.test('dry run deletes nothing; nothing to delete is a skip', async (t) => {
  await sim.settle();
  const before = podNames('web');
  const from = sim.requests.length;
  t.match(
    await runAction(deletePods, { namespace: ns, selector: 'app=web', maxCount: 1 }, { services, run: { id: 'dry', dryRun: true } }),
    { status: 'ok', output: { dryRun: true } },
  );
  t.same(
    deletes(from).map((d) => d.query.dryRun),
    ['All'],
  );
  t.same(podNames('web'), before);
  t.match(await runAction(deletePods, { namespace: ns, selector: 'app=nothing', maxCount: 1 }, { services }), { status: 'skipped' });
  t.match(await runAction(deletePods, { namespace: ns, selector: 'app=good', maxCount: 1, onlyFailing: true }, { services }), {
    status: 'skipped',
  });
});

t.test('a conflict on delete re-reads the pod and retries; forbidden is reported', async (t) => {
  sim.faults.injectErrors({ status: 409, count: 1, match: { method: 'DELETE' } });
  const from = sim.requests.length;
  t.match(await runAction(deletePods, { namespace: ns, selector: 'app=web', maxCount: 1 }, { services, run: { id: 'run-c' } }), {
    status: 'ok',
    output: { deleted: [/^web-/] },
  });
  t.same(
    deletes(from).map((d) => d.status),
    [409, 200],
  );
  sim.denyAccess({ verb: 'delete', resource: 'pods', namespace: ns });
  await t.rejects(runAction(deletePods, { namespace: ns, selector: 'app=good', maxCount: 1 }, { services, run: { id: 'run-x' } }), {
    code: 'REM_ERR_KUBE_FORBIDDEN',
    message: /delete pods "good-/,
  });
});

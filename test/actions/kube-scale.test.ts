import t from 'tap';
import { kubeScaleAction as scale } from '../../src/actions/kube-scale.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster();
const services = { kube };
const ns = 'default';
addDeployment(sim, { namespace: ns, name: 'web', image: 'nginx:1.25', replicas: 2 });
await sim.settle();
const writesSince = (from: number) => sim.requests.slice(from).filter((r) => r.method !== 'GET');

t.test('PUTs the Scale it read (with its resourceVersion) and records the old replicas', async (t) => {
  const rv = sim.get('Deployment', ns, 'web').metadata.resourceVersion;
  const from = sim.requests.length;
  const r = await runAction(scale, { namespace: ns, name: 'web', replicas: 4 }, { services });
  t.match(r, {
    status: 'ok',
    output: { replicas: 4, previousReplicas: 2 },
    changes: [{ target: { kind: 'Deployment', name: 'web' }, before: { replicas: 2 }, after: { replicas: 4 }, action: 'kube.scale' }],
  });
  const put = writesSince(from).find((q) => q.method === 'PUT')!;
  t.equal(put.path, '/apis/apps/v1/namespaces/default/deployments/web/scale');
  const body = JSON.parse(put.body);
  t.match(body, { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web', resourceVersion: rv }, spec: { replicas: 4 } });
  t.equal(sim.get('Deployment', ns, 'web').spec.replicas, 4);
  t.ok(
    sim
      .list('Event', ns)
      .some((e: any) => e.reason === 'RemediatorScale' && e.message.startsWith('remediator scaled deployment web from 2 to 4 replicas')),
  );
});

t.test('bounds: step min/max and the global ceiling refuse with a clear error, before any write', async (t) => {
  const from = sim.requests.length;
  await t.rejects(runAction(scale, { namespace: ns, name: 'web', replicas: 8, max: 6 }, { services }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: /above the step's maximum of 6/,
  });
  await t.rejects(runAction(scale, { namespace: ns, name: 'web', replicas: 1, min: 2 }, { services }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: /below the step's minimum of 2/,
  });
  await t.rejects(runAction(scale, { namespace: ns, name: 'web', replicas: 11 }, { services, limits: { maxReplicas: 10 } }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: /above the global ceiling limits\.maxReplicas = 10/,
  });
  t.same(sim.requests.slice(from), [], 'not even a read');
});

t.test("expectReplicas is kubectl's --current-replicas", async (t) => {
  await t.rejects(runAction(scale, { namespace: ns, name: 'web', replicas: 3, expectReplicas: 2 }, { services }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: 'Expected replicas to be 2, was 4',
  });
});

t.test('a conflict on the PUT is re-read and retried with the new resourceVersion', async (t) => {
  await sim.settle();
  sim.faults.injectErrors({ status: 409, count: 1, match: { method: 'PUT', pathIncludes: '/deployments/web/scale' } });
  const from = sim.requests.length;
  t.match(await runAction(scale, { namespace: ns, name: 'web', replicas: 3 }, { services }), { status: 'ok' });
  const puts = writesSince(from)
    .filter((q) => q.method === 'PUT')
    .map((q) => q.status);
  t.equal(puts[0], 409, 'the injected conflict');
  t.equal(puts.at(-1), 200, 'then the write went through');
  t.ok(puts.length <= 5, 'bounded');
  t.equal(sim.get('Deployment', ns, 'web').spec.replicas, 3);
});

t.test('a stale resourceVersion is refused by the server and retried (real optimistic concurrency)', async (t) => {
  let bumped = false;
  const from = sim.requests.length;
  // Change the Deployment between our read and our write, once.
  const orig = kube.getScale.bind(kube);
  kube.getScale = async (ref, o) => {
    const s = await orig(ref, o);
    if (!bumped) {
      bumped = true;
      const d = sim.get('Deployment', ns, 'web');
      sim.put({ ...d, metadata: { ...d.metadata, labels: { ...d.metadata.labels, touched: 'yes' } } });
    }
    return s;
  };
  t.teardown(() => {
    kube.getScale = orig;
  });
  t.match(await runAction(scale, { namespace: ns, name: 'web', replicas: 5 }, { services }), { status: 'ok' });
  const puts = writesSince(from)
    .filter((q) => q.method === 'PUT')
    .map((q) => q.status);
  t.equal(puts[0], 409, 'the server refused the stale resourceVersion');
  t.equal(puts.at(-1), 200);
});

t.test('re-run at the target writes nothing; dry run changes nothing', async (t) => {
  let from = sim.requests.length;
  t.match(await runAction(scale, { namespace: ns, name: 'web', replicas: 5 }, { services }), { status: 'ok', output: { unchanged: true } });
  t.same(writesSince(from), []);
  // The earlier scale-up's pods are still being started by the cluster's controllers, and each status write moves the
  // Deployment's resourceVersion: once they are done, the dry run's one PUT meets no conflict to retry.
  await sim.settle();
  from = sim.requests.length;
  t.match(await runAction(scale, { namespace: ns, name: 'web', replicas: 7 }, { services, run: { dryRun: true } }), {
    status: 'ok',
    output: { dryRun: true, plan: { replicas: { from: 5, to: 7 } } },
  });
  t.same(
    writesSince(from).map((p) => p.query.dryRun),
    ['All'],
  );
  t.equal(sim.get('Deployment', ns, 'web').spec.replicas, 5);
});

t.test('missing and forbidden', async (t) => {
  await t.rejects(runAction(scale, { namespace: ns, name: 'nope', replicas: 1 }, { services }), { code: 'REM_ERR_KUBE_NOT_FOUND' });
  sim.denyAccess({ verb: 'update', resource: 'deployments/scale', namespace: ns });
  await t.rejects(runAction(scale, { namespace: ns, name: 'web', replicas: 2 }, { services }), {
    code: 'REM_ERR_KUBE_FORBIDDEN',
    message: /update deployments\.apps\/scale "web"/,
  });
});

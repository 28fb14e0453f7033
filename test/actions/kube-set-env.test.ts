import t from 'tap';
import { kubeSetEnvAction as setEnv } from '../../src/actions/kube-set-env.ts';
import { kubeSetResourcesAction as setResources } from '../../src/actions/kube-set-resources.ts';
import { kubeRestoreAction as restore } from '../../src/actions/kube-restore.ts';
import type { RecordedChange } from '../../src/engine/step-definition.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster();
const services = { kube };
const ns = 'default';
addDeployment(sim, { namespace: ns, name: 'web', image: 'nginx:1.25', env: { MODE: 'normal', POOL: '10' } });
await sim.settle();
const writes = (from: number) => sim.requests.slice(from).filter((q) => q.method === 'PATCH');
const env = () =>
  Object.fromEntries(sim.get('Deployment', ns, 'web').spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));

t.test('kube.setEnv sets, adds and removes like kubectl set env, records the old values, and kube.restore puts them back', async (t) => {
  const from = sim.requests.length;
  const r = await runAction(
    setEnv,
    { namespace: ns, name: 'web', env: { MODE: 'degraded', NEW: 'x', POOL: null } },
    { services, run: { id: 'run-e' }, step: { id: 'env' } },
  );
  t.match(r, {
    status: 'ok',
    changes: [
      {
        action: 'kube.setEnv',
        target: { kind: 'Deployment', name: 'web' },
        before: { web: { MODE: { name: 'MODE', value: 'normal' }, NEW: null, POOL: { name: 'POOL', value: '10' } } },
      },
    ],
  });
  t.same(env(), { MODE: 'degraded', NEW: 'x' });
  const patch = writes(from)[0]!;
  t.equal(patch.contentType, 'application/json-patch+json');
  const ops = JSON.parse(patch.body);
  t.same(ops[0], { op: 'test', path: '/metadata/resourceVersion', value: ops[0].value }, 'guarded by the resourceVersion read');
  t.ok(sim.list('Event', ns).some((e: any) => e.reason === 'RemediatorSetEnv'));

  const changes = (r as { changes: RecordedChange[] }).changes;
  const back = await runAction(restore, {}, { services, run: { id: 'run-e' }, step: { id: 'restore' }, changes });
  t.match(back, { status: 'ok', output: { restored: [{ action: 'kube.setEnv', status: 'ok' }] } });
  t.same(env(), { MODE: 'normal', POOL: '10' });
  const again = sim.requests.length;
  await runAction(restore, {}, { services, run: { id: 'run-e' }, step: { id: 'restore' }, changes });
  t.same(writes(again), [], 'restoring twice writes nothing');
});

t.test('re-executed setEnv writes nothing and still reports its change; dry run changes nothing', async (t) => {
  const opts = { services, run: { id: 'run-f' }, step: { id: 'env' } };
  await runAction(setEnv, { namespace: ns, name: 'web', env: { MODE: 'safe' } }, opts);
  let from = sim.requests.length;
  const again = await runAction(setEnv, { namespace: ns, name: 'web', env: { MODE: 'safe' } }, opts);
  t.match(again, { status: 'ok', output: { repeated: true }, changes: [{ before: { web: { MODE: { value: 'normal' } } } }] });
  t.same(writes(from), []);
  // The first setEnv started a rollout; until the controllers finish it they bump the Deployment's status (and its
  // resourceVersion), which would fail the dry run's guarded patch once (a retry, a second write) and move `before`.
  await sim.settle();
  from = sim.requests.length;
  const before = sim.get('Deployment', ns, 'web');
  t.match(await runAction(setEnv, { namespace: ns, name: 'web', env: { MODE: 'dry' } }, { services, run: { id: 'dry', dryRun: true } }), {
    status: 'ok',
    output: { dryRun: true },
  });
  t.same(
    writes(from).map((q) => q.query.dryRun),
    ['All'],
  );
  t.same(sim.get('Deployment', ns, 'web'), before);
});

t.test('a concurrent write between read and patch is detected and retried', async (t) => {
  sim.faults.injectErrors({ status: 409, count: 1, match: { method: 'PATCH', pathIncludes: '/deployments/web' } });
  const from = sim.requests.length;
  t.match(await runAction(setEnv, { namespace: ns, name: 'web', env: { MODE: 'c' } }, { services, run: { id: 'run-g' } }), {
    status: 'ok',
  });
  t.same(
    writes(from).map((q) => q.status),
    [409, 200],
  );
});

t.test('unknown container, missing Deployment, forbidden', async (t) => {
  await t.rejects(runAction(setEnv, { namespace: ns, name: 'web', container: 'sidecar', env: { A: '1' } }, { services }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: /unable to find container named "sidecar"/,
  });
  await t.rejects(runAction(setEnv, { namespace: ns, name: 'ghost', env: { A: '1' } }, { services }), { code: 'REM_ERR_KUBE_NOT_FOUND' });
});

t.test('kube.setResources: bounds, change record, restore', async (t) => {
  const from = sim.requests.length;
  await t.rejects(
    runAction(
      setResources,
      { namespace: ns, name: 'web', container: 'web', limits: { memory: '8Gi' }, max: { memory: '4Gi' } },
      { services },
    ),
    {
      code: 'REM_ERR_KUBE_PRECONDITION',
      message: "refusing to set limits.memory = 8Gi: above the step's maximum of 4Gi",
    },
  );
  t.same(sim.requests.slice(from), [], 'refused before any request');
  const r = await runAction(
    setResources,
    {
      namespace: ns,
      name: 'web',
      container: 'web',
      limits: { memory: '2Gi', cpu: '1500m' },
      requests: { memory: '1Gi' },
      max: { memory: '4Gi', cpu: '2' },
    },
    { services, run: { id: 'run-r' }, step: { id: 'res' } },
  );
  t.match(r, { status: 'ok', changes: [{ before: { web: { limits: { memory: null, cpu: null }, requests: { memory: null } } } }] });
  t.same(sim.get('Deployment', ns, 'web').spec.template.spec.containers[0].resources, {
    limits: { memory: '2Gi', cpu: '1500m' },
    requests: { memory: '1Gi' },
  });
  await runAction(
    restore,
    { step: 'res' },
    { services, run: { id: 'run-r' }, step: { id: 'undo-res' }, changes: (r as { changes: RecordedChange[] }).changes },
  );
  t.same(sim.get('Deployment', ns, 'web').spec.template.spec.containers[0].resources ?? {}, {});
  sim.denyAccess({ verb: 'patch', resource: 'deployments', namespace: ns });
  await t.rejects(
    runAction(setResources, { namespace: ns, name: 'web', container: 'web', limits: { cpu: '1' } }, { services, run: { id: 'x' } }),
    { code: 'REM_ERR_KUBE_FORBIDDEN' },
  );
});

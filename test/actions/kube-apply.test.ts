import { mkdtemp, mkdir, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { kubeApplyAction as apply } from '../../src/actions/kube-apply.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster({ seed: 'ai-ninja' });
const services = { kube };
const ns = 'ai-ninja';
const root = await mkdtemp(path.join(tmpdir(), 'remediator-manifests-'));
const dir = path.join(root, 'manifests');
await mkdir(dir);
t.teardown(() => import('node:fs/promises').then((fs) => fs.rm(root, { recursive: true, force: true })));
const limits = { manifestsDir: dir, applyKinds: ['NetworkPolicy', 'ConfigMap'] };

await writeFile(
  path.join(dir, 'isolate.yaml'),
  `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: isolate-phone-gateway
spec:
  podSelector: {matchLabels: {app: phone-gateway}}
  policyTypes: [Ingress]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: incident-flags
data:
  DEGRADED_MODE: "true"
`,
);
await writeFile(path.join(dir, 'deploy.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {}\n');
await writeFile(path.join(root, 'outside.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside}\n');
await symlink(path.join(root, 'outside.yaml'), path.join(dir, 'link.yaml'));

t.test('server-side applies every object of the manifest into the namespace, stamped, with the apply content type', async (t) => {
  const from = sim.requests.length;
  const r = await runAction(
    apply,
    { manifest: 'isolate.yaml', namespace: ns },
    { services, limits, run: { id: 'run-a' }, step: { id: 'isolate' } },
  );
  t.match(r, {
    status: 'ok',
    output: {
      applied: [
        { kind: 'NetworkPolicy', name: 'isolate-phone-gateway', namespace: ns },
        { kind: 'ConfigMap', name: 'incident-flags' },
      ],
    },
  });
  const patches = sim.requests.slice(from).filter((q) => q.method === 'PATCH');
  t.same(
    patches.map((q) => q.contentType),
    ['application/apply-patch+yaml', 'application/apply-patch+yaml'],
  );
  t.same(
    patches.map((q) => q.query.fieldManager),
    ['remediator', 'remediator'],
  );
  const np = sim.get('NetworkPolicy', ns, 'isolate-phone-gateway');
  t.same(np.spec.podSelector, { matchLabels: { app: 'phone-gateway' } });
  t.equal(np.metadata.annotations['remediator.io/run'], 'run-a.isolate');
  t.equal(sim.get('ConfigMap', ns, 'incident-flags').data.DEGRADED_MODE, 'true');
  t.ok(sim.list('Event', ns).some((e: any) => e.reason === 'RemediatorApply' && e.involvedObject.kind === 'NetworkPolicy'));
  // Applied again: same objects, nothing changes.
  const rv = sim.get('ConfigMap', ns, 'incident-flags').metadata.resourceVersion;
  await runAction(apply, { manifest: 'isolate.yaml', namespace: ns }, { services, limits, run: { id: 'run-a' }, step: { id: 'isolate' } });
  t.equal(sim.get('ConfigMap', ns, 'incident-flags').metadata.resourceVersion, rv, 'an identical apply is a no-op on the server');
});

t.test('refuses kinds outside applyKinds and paths outside the folder, before any request', async (t) => {
  const from = sim.requests.length;
  await t.rejects(runAction(apply, { manifest: 'deploy.yaml', namespace: ns }, { services, limits }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: /kind Deployment is not in limits\.applyKinds/,
  });
  await t.rejects(runAction(apply, { manifest: '../outside.yaml', namespace: ns }, { services, limits }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: /outside the manifests folder/,
  });
  await t.rejects(
    runAction(apply, { manifest: 'link.yaml', namespace: ns }, { services, limits }),
    { code: 'REM_ERR_KUBE_PRECONDITION', message: /outside the manifests folder/ },
    'symlinks are resolved first',
  );
  await t.rejects(runAction(apply, { manifest: 'missing.yaml', namespace: ns }, { services, limits }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: /does not exist/,
  });
  t.same(sim.requests.slice(from), []);
});

t.test('dry run applies with dryRun=All and stores nothing; conflicts and forbidden are classified', async (t) => {
  await writeFile(path.join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry-only}\ndata: {a: b}\n');
  const from = sim.requests.length;
  t.match(await runAction(apply, { manifest: 'cm.yaml', namespace: ns }, { services, limits, run: { dryRun: true } }), {
    status: 'ok',
    output: { dryRun: true },
  });
  t.same(
    sim.requests
      .slice(from)
      .filter((q) => q.method === 'PATCH')
      .map((q) => q.query.dryRun),
    ['All'],
  );
  t.equal(sim.get('ConfigMap', ns, 'dry-only'), undefined);
  sim.faults.injectErrors({ status: 409, count: 1, match: { method: 'PATCH', pathIncludes: '/configmaps/dry-only' } });
  await t.rejects(
    runAction(apply, { manifest: 'cm.yaml', namespace: ns }, { services, limits }),
    { code: 'REM_ERR_KUBE_REJECTED', retryable: false, message: /force: true/ },
    'an apply conflict is not retried blindly',
  );
  sim.denyAccess({ verb: 'patch', resource: 'configmaps', namespace: ns });
  await t.rejects(runAction(apply, { manifest: 'cm.yaml', namespace: ns }, { services, limits }), { code: 'REM_ERR_KUBE_FORBIDDEN' });
});

import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlaybook } from '../../src/playbooks/load-playbook.ts';
import { createRegistry } from '../../src/main.ts';
import { EVERY_SERVICE } from '../../src/ports/step-services.ts';
import { gitopsSuspendRules, playbookRbac } from '../../src/kube/playbook-rbac.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const limits = {
  manifestsDir: `${ROOT}playbooks`,
  applyKinds: ['ConfigMap', 'NetworkPolicy'],
  maxReplicas: 50,
  fieldManager: 'remediator',
};

const playbookWith = (steps: string, namespace = 'shop') => {
  const text = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: p }
spec:
  triggers: [{ matchers: ['alertname="A"', 'namespace="${namespace}"'] }]
  steps:
${steps}`;
  const r = loadPlaybook('p.yaml', text, { registry: createRegistry(), available: EVERY_SERVICE });
  if (!r.playbook) throw new Error(JSON.stringify(r.problems));
  return r.playbook;
};

t.test('the chart grants exactly what `remediator rbac --by-playbook` prints for the shipped playbooks', async (t) => {
  const { stdout } = await run(process.execPath, ['bin/remediator.js', 'rbac', '--by-playbook'], { cwd: ROOT });
  const chart = await readFile(`${ROOT}helm/remediator/files/rbac.yaml`, 'utf8');
  t.equal(
    chart,
    stdout,
    'helm/remediator/files/rbac.yaml is out of date: run `remediator rbac --by-playbook > helm/remediator/files/rbac.yaml`',
  );
});

t.test('one rule per API group and verb set, only the verbs the steps use', async (t) => {
  const pb = playbookWith(`    - { id: restart, action: kube.rolloutRestart, with: { namespace: shop, name: web } }
    - { id: scale, action: kube.scale, with: { namespace: shop, name: web, replicas: 3 } }
`);
  const r = await playbookRbac([pb], { limits });
  t.same(r.role, [
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
    { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'update'] },
  ]);
  t.same(r.clusterRole, [], 'no ClusterRole for namespaced kinds');
  t.same(r.namespaces, ['shop']);
});

t.test('kube.apply with a templated manifest path: get, patch and create on the kinds of every file it can match', async (t) => {
  const pb =
    playbookWith(`    - { id: put, action: kube.apply, with: { manifest: "manifests/{{ labels.namespace }}/{{ labels.configmap }}.yaml", namespace: "{{ labels.namespace }}" } }
`);
  const r = await playbookRbac([pb], { limits });
  t.same(r.role, [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ]);
  t.same(r.unknown, []);
});

t.test('a ClusterRole appears only when a playbook needs a cluster-scoped kind', async (t) => {
  const pb = playbookWith(`    - { id: restart, action: kube.rolloutRestart, with: { namespace: shop, name: web } }
`);
  // Deployments taken as cluster-scoped, as a Node would be: their rules move to the ClusterRole, Events stay.
  const r = await playbookRbac([pb], { limits, clusterScoped: (group, resource) => group === 'apps' && resource === 'deployments' });
  t.same(r.clusterRole, [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }]);
  t.same(r.role, [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }]);
});

t.test(
  'spec.gitops: suspend adds get and patch on Argo CD Applications and Flux Kustomizations and HelmReleases, cluster-wide',
  async (t) => {
    const steps = `    - { id: restart, action: kube.rolloutRestart, with: { namespace: shop, name: web } }
`;
    const plain = await playbookRbac([playbookWith(steps)], { limits });
    const text = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: s }
spec:
  gitops: suspend
  triggers: [{ matchers: ['alertname="A"', 'namespace="shop"'] }]
  steps:
${steps}`;
    const loaded = loadPlaybook('s.yaml', text, { registry: createRegistry(), available: EVERY_SERVICE });
    t.same(loaded.problems, []);
    const r = await playbookRbac([loaded.playbook!], { limits });
    t.same(r.role, plain.role, 'the Role bound in the playbook namespaces is unchanged');
    t.same(r.clusterRole, [
      { apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['get', 'patch'] },
      { apiGroups: ['helm.toolkit.fluxcd.io'], resources: ['helmreleases'], verbs: ['get', 'patch'] },
      { apiGroups: ['kustomize.toolkit.fluxcd.io'], resources: ['kustomizations'], verbs: ['get', 'patch'] },
    ]);
    t.same(plain.clusterRole, [], 'without suspend, none of it');
    t.same(r.clusterRole, gitopsSuspendRules(), 'what the chart grants with rbac.gitopsSuspend');
  },
);

t.test('remediator rbac prints the ClusterRole a suspending playbook needs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-rbac-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'suspend.yaml'),
    `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: suspend }
spec:
  gitops: suspend
  triggers: [{ matchers: ['alertname="A"', 'namespace="shop"'] }]
  steps:
    - { id: restart, action: kube.rolloutRestart, with: { namespace: shop, name: web } }
`,
  );
  const { stdout } = await run(process.execPath, ['bin/remediator.js', 'rbac', '--playbooks', dir], { cwd: ROOT });
  t.match(
    stdout,
    `clusterRole:
  - apiGroups: [argoproj.io]
    resources: [applications]
    verbs: [get, patch]
  - apiGroups: [helm.toolkit.fluxcd.io]
    resources: [helmreleases]
    verbs: [get, patch]
  - apiGroups: [kustomize.toolkit.fluxcd.io]
    resources: [kustomizations]
    verbs: [get, patch]
`,
  );
});

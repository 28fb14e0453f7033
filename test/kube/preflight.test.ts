import t from 'tap';
import { actions } from '../../src/actions/index.ts';
import { describePermission, preflight } from '../../src/kube/preflight.ts';
import { simCluster } from './sim-cluster.ts';

const { sim, kube } = await simCluster();

t.test('asks one SelfSubjectAccessReview per distinct permission and returns what is missing', async (t) => {
  sim.denyAccess({ verb: 'delete', resource: 'pods', namespace: 'shop' });
  sim.denyAccess({ verb: 'update', resource: 'deployments', subresource: 'scale', namespace: 'shop' });
  // What three playbook steps declare, duplicates included.
  const byName = new Map(actions.map((a) => [a.name, a]));
  const needed = [
    ...byName.get('kube.deletePods')!.permissions!({ namespace: 'shop', selector: 'app=web', maxCount: 1 }),
    ...byName.get('kube.scale')!.permissions!({ namespace: 'shop', name: 'web', replicas: 3 }),
    ...byName.get('kube.rolloutRestart')!.permissions!({ namespace: 'shop', name: 'web' }),
    ...byName.get('kube.rolloutRestart')!.permissions!({ namespace: 'shop', name: 'web' }),
  ];
  const from = sim.requests.length;
  const missing = await preflight(kube, needed, { signal: AbortSignal.timeout(5_000) });
  const reviews = sim.requests.slice(from).filter((q) => q.path.includes('selfsubjectaccessreviews'));
  const distinct = new Set(needed.map((n) => JSON.stringify(n))).size;
  t.equal(reviews.length, distinct, 'duplicates asked once');
  t.ok(distinct < needed.length, 'there were duplicates');
  t.same(missing.map(describePermission).sort(), ['delete pods (namespace shop)', 'update deployments/scale.apps (namespace shop)']);
});

t.test('everything granted → nothing missing; the API server down → an error, not "missing"', async (t) => {
  t.same(
    await preflight(kube, [{ verb: 'get', group: 'apps', resource: 'deployments', namespace: 'other' }], {
      signal: AbortSignal.timeout(5_000),
    }),
    [],
  );
  sim.faults.injectErrors({ status: 500, count: 1, match: { pathIncludes: 'selfsubjectaccessreviews' } });
  await t.rejects(preflight(kube, [{ verb: 'get', group: '', resource: 'pods', namespace: 'x' }], { signal: AbortSignal.timeout(5_000) }), {
    code: 'REM_ERR_KUBE_UNAVAILABLE',
  });
});

t.test('a playbook with spec.gitops: suspend: pre-flight asks for what suspending needs and names what is missing', async (t) => {
  const { loadPlaybook } = await import('../../src/playbooks/load-playbook.ts');
  const { createRegistry } = await import('../../src/main.ts');
  const { EVERY_SERVICE } = await import('../../src/ports/step-services.ts');
  const { playbookPermissions } = await import('../../src/kube/playbook-permissions.ts');
  const { preflightSteps, describeDenied } = await import('../../src/kube/step-preflight.ts');
  const loaded = loadPlaybook(
    'suspend.yaml',
    `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: suspend }
spec:
  gitops: suspend
  triggers: [{ matchers: ['alertname="A"', 'namespace="shop"'] }]
  steps:
    - { id: restart, action: kube.rolloutRestart, with: { namespace: shop, name: web } }
`,
    { registry: createRegistry(), available: EVERY_SERVICE },
  );
  const needed = playbookPermissions([loaded.playbook!]);
  t.same(
    needed
      .filter((n) => n.step === 'spec.gitops')
      .map((n) => `${n.verb} ${n.resource}.${n.group}${n.namespace ? ` in ${n.namespace}` : ''}`)
      .sort(),
    [
      'get applications.argoproj.io',
      'get helmreleases.helm.toolkit.fluxcd.io',
      'get kustomizations.kustomize.toolkit.fluxcd.io',
      'patch applications.argoproj.io',
      'patch helmreleases.helm.toolkit.fluxcd.io',
      'patch kustomizations.kustomize.toolkit.fluxcd.io',
    ],
    'cluster-wide: the controllers live in namespaces of their own',
  );
  sim.denyAccess({ verb: 'patch', group: 'helm.toolkit.fluxcd.io', resource: 'helmreleases' });
  sim.denyAccess({ verb: 'patch', group: 'argoproj.io', resource: 'applications' });
  const denied = await preflightSteps(kube, needed, AbortSignal.timeout(5_000));
  t.same(denied.map(describeDenied).sort(), [
    'playbook suspend step spec.gitops cannot patch applications.argoproj.io (cluster-wide)',
    'playbook suspend step spec.gitops cannot patch helmreleases.helm.toolkit.fluxcd.io (cluster-wide)',
  ]);
});

import t from 'tap';
import { Redis } from 'ioredis';
import { startGuardedService } from './guard-harness.ts';
import { APPROVER_TOKEN } from '../support/harness.ts';

/**
 * spec.gitops: suspend on a real remediator (real Redis, kube-sim serving Argo CD Applications and Flux
 * Kustomizations): the owner's auto-sync is paused before the run's first change of an object it syncs, resumed when
 * the run ends, recorded as decisions; and a suspension left by a run that ended without resuming it (a crash) is
 * resumed by the stuck-run sweeper.
 */
const ns = 'ai-ninja';
const playbook = (name: string, deployment: string, gitops: string, hold: string) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  gitops: ${gitops}
  triggers: [{ matchers: ['alertname="Never"'] }]
  target: { namespace: ${ns}, kind: Deployment, name: ${deployment} }
  steps:
    - id: mark
      action: kube.setEnv
      with: { namespace: ${ns}, name: ${deployment}, env: { MARK: "{{ run.id }}" } }
    - id: hold
      action: wait
      with: { duration: ${hold} }
`;
const svc = await startGuardedService({
  playbooks: {
    'argo.yaml': playbook('argo-suspend', 'phone-gateway', 'suspend', '1500ms'),
    'argo-refuse.yaml': playbook('argo-refuse', 'phone-gateway', 'refuse', '10ms'),
    'flux.yaml': playbook('flux-suspend', 'phone-gateway-backup', 'suspend', '1500ms'),
    'flux-hr.yaml': playbook('flux-hr-suspend', 'profile-analytics', 'suspend', '1500ms'),
  },
  overrides: (c) => (c.runs = { ...c.runs, sweepInterval: '200ms' }),
});
await svc.sim.settle();

const automated = { prune: true, selfHeal: true };
svc.sim.put({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'shop', namespace: 'argocd' },
  spec: { project: 'default', syncPolicy: { automated, syncOptions: ['CreateNamespace=true'] } },
});
svc.sim.put({
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  metadata: { name: 'apps', namespace: 'flux-system' },
  spec: { interval: '10m', path: './apps', prune: true },
});
svc.sim.put({
  apiVersion: 'helm.toolkit.fluxcd.io/v2',
  kind: 'HelmRelease',
  metadata: { name: 'analytics', namespace: 'flux-system' },
  spec: { interval: '5m', chart: { spec: { chart: 'profile-analytics', sourceRef: { kind: 'HelmRepository', name: 'ai-ninja' } } } },
});
const mark = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}) => {
  const d = svc.sim.get('Deployment', ns, name);
  svc.sim.put({
    ...d,
    metadata: { ...d.metadata, labels: { ...d.metadata.labels, ...labels }, annotations: { ...d.metadata.annotations, ...annotations } },
  });
};
// Argo CD's label tracking (its default before 3.0): the instance label with Argo CD's annotations.
mark('phone-gateway', { 'app.kubernetes.io/instance': 'shop' }, { 'argocd.argoproj.io/sync-options': 'Prune=false' });
mark('phone-gateway-backup', { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' });
// What helm-controller puts on the objects of a release.
mark('profile-analytics', { 'helm.toolkit.fluxcd.io/name': 'analytics', 'helm.toolkit.fluxcd.io/namespace': 'flux-system' });
const hr = () => svc.sim.get('HelmRelease', 'flux-system', 'analytics');
const app = () => svc.sim.get('Application', 'argocd', 'shop');
const ks = () => svc.sim.get('Kustomization', 'flux-system', 'apps');

async function start(name: string): Promise<string> {
  const res = await svc.api('POST', `/v1/playbooks/${name}/runs`, { reason: 'gitops test' });
  t.equal(res.status, 202);
  return res.body.id;
}

t.test('refuse (the default) names Argo CD label tracking and changes nothing', async (t) => {
  const done = await svc.ended(await start('argo-refuse'));
  t.equal(done.status, 'skipped');
  t.match(
    done.decisions.find((d: any) => d.reason === 'out_of_scope')?.message,
    /managed by Argo CD \(label app\.kubernetes\.io\/instance=shop with annotation argocd\.argoproj\.io\/sync-options\)/,
  );
  t.same(app().spec.syncPolicy.automated, automated);
});

t.test('an Argo CD Application: automated sync removed during the run, put back after, both recorded', async (t) => {
  const id = await start('argo-suspend');
  await svc.waitForRun(id, (r) => r.state?.steps?.some((s: any) => s.id === 'hold' && s.status === 'pending'));
  t.equal(app().spec.syncPolicy.automated, undefined, 'no automated sync while the run acts');
  t.same(app().spec.syncPolicy.syncOptions, ['CreateNamespace=true'], 'the rest of the sync policy is kept');
  const done = await svc.ended(id);
  t.equal(done.status, 'completed');
  t.same(app().spec.syncPolicy.automated, automated, 'the automated sync is back as it was');
  const reasons = done.decisions.map((d: any) => d.reason);
  t.ok(
    reasons.indexOf('gitops_suspended') >= 0 && reasons.indexOf('gitops_resumed') > reasons.indexOf('gitops_suspended'),
    reasons.join(','),
  );
  t.match(done.decisions.find((d: any) => d.reason === 'gitops_suspended').message, /Argo CD Application argocd\/shop/);
});

t.test("reverting such a run treats the object as the run's playbook did: suspended during the revert too", async (t) => {
  const runs = await svc.api('GET', '/v1/runs?playbook=argo-suspend&status=completed');
  const id = runs.body.runs[0].id;
  const res = await svc.api('POST', `/v1/runs/${id}/revert`, { reason: 'take the mark back' }, APPROVER_TOKEN);
  t.equal(res.status, 202, JSON.stringify(res.body));
  t.equal(res.body.run.playbook, 'remediator.revert.suspend');
  const done = await svc.ended(res.body.run.id);
  t.equal(done.status, 'completed', JSON.stringify(done.state?.steps));
  t.equal(
    svc.sim.get('Deployment', ns, 'phone-gateway').spec.template.spec.containers[0].env?.find((e: any) => e.name === 'MARK'),
    undefined,
    'the variable the run set is gone',
  );
  t.ok(
    ['gitops_suspended', 'gitops_resumed'].every((r) => done.decisions.some((d: any) => d.reason === r)),
    done.decisions.map((d: any) => d.reason).join(','),
  );
  t.same(app().spec.syncPolicy.automated, automated);
});

t.test('a Flux Kustomization: spec.suspend true during the run, false after', async (t) => {
  const id = await start('flux-suspend');
  await svc.waitForRun(id, (r) => r.state?.steps?.some((s: any) => s.id === 'hold' && s.status === 'pending'));
  t.equal(ks().spec.suspend, true);
  const done = await svc.ended(id);
  t.equal(done.status, 'completed');
  t.equal(ks().spec.suspend, false);
  t.ok(done.decisions.some((d: any) => d.reason === 'gitops_resumed' && /Flux Kustomization flux-system\/apps/.test(d.message)));
});

t.test('a Flux HelmRelease: spec.suspend true during the run (as flux suspend hr writes it), false after, both recorded', async (t) => {
  const from = svc.sim.requests.length;
  const id = await start('flux-hr-suspend');
  await svc.waitForRun(id, (r) => r.state?.steps?.some((s: any) => s.id === 'hold' && s.status === 'pending'));
  t.equal(hr().spec.suspend, true, 'suspended while the run acts');
  t.same(hr().spec.chart.spec.chart, 'profile-analytics', 'the rest of the release is kept');
  const patches = svc.sim.requests
    .slice(from)
    .filter((q) => q.method === 'PATCH' && q.path === '/apis/helm.toolkit.fluxcd.io/v2/namespaces/flux-system/helmreleases/analytics');
  t.match(
    patches[0],
    { contentType: /^application\/merge-patch\+json/, body: '{"spec":{"suspend":true}}' },
    'a merge patch of spec.suspend, nothing else',
  );
  const done = await svc.ended(id);
  t.equal(done.status, 'completed');
  t.equal(hr().spec.suspend, false, 'resumed');
  t.match(
    done.decisions.find((d: any) => d.reason === 'gitops_suspended')?.message,
    'suspended Flux HelmRelease flux-system/analytics for the run',
  );
  t.ok(done.decisions.some((d: any) => d.reason === 'gitops_resumed' && /Flux HelmRelease flux-system\/analytics/.test(d.message)));
});

t.test('a suspension left by a run that ended without resuming it (a crash) is resumed by the sweeper', async (t) => {
  const redis = new Redis(svc.redis!.url);
  t.teardown(() => redis.quit());
  const prefix = svc.config.redis.prefix;
  const key = 'Application/argocd/shop';
  // What a run that died between suspending and resuming leaves: the holder, the saved setting, the patched object.
  await redis.sadd(`${prefix}:guard:gitops:holders:${key}`, 'run-that-crashed');
  await redis.sadd(`${prefix}:guard:gitops:run:run-that-crashed`, key);
  await redis.sadd(`${prefix}:guard:gitops:suspended`, key);
  await redis.set(`${prefix}:guard:gitops:saved:${key}`, JSON.stringify({ kind: 'Application', automated }));
  const a = app();
  svc.sim.put({ ...a, spec: { ...a.spec, syncPolicy: { syncOptions: a.spec.syncPolicy.syncOptions } } });
  // The sweep patches the Application, then forgets the suspension: wait for both.
  const deadline = Date.now() + 10_000;
  while (
    (app().spec.syncPolicy.automated === undefined || (await redis.sismember(`${prefix}:guard:gitops:suspended`, key)) === 1) &&
    Date.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 50));
  t.same(app().spec.syncPolicy.automated, automated, 'resumed');
  t.equal(await redis.exists(`${prefix}:guard:gitops:saved:${key}`), 0, 'and forgotten');
  t.equal(await redis.sismember(`${prefix}:guard:gitops:suspended`, key), 0);
});

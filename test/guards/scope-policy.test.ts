import t from 'tap';
import { configScopeRefusal, gitopsOwner, objectScopeRefusal } from '../../src/guards/scope-policy.ts';

const web = { namespace: 'ai-ninja', kind: 'Deployment', name: 'web' };
const open = { namespaces: [], excludeNamespaces: ['kube-system'], kinds: [] };

t.test('namespace allow/deny lists and the kind list', async (t) => {
  t.equal(configScopeRefusal(web, open), undefined);
  t.match(configScopeRefusal({ ...web, namespace: 'kube-system' }, open), /namespace "kube-system" is excluded/);
  t.match(configScopeRefusal(web, { ...open, namespaces: ['payments'] }), /not in guards\.scope\.namespaces \(payments\)/);
  t.match(
    configScopeRefusal({ ...web, namespace: 'kube-system' }, { ...open, namespaces: ['kube-system'] }),
    /excluded/,
    'the denylist wins over the allowlist',
  );
  t.match(
    configScopeRefusal({ ...web, kind: 'Service' }, { ...open, kinds: ['Deployment'] }),
    /kind Service is not in guards\.scope\.kinds/,
  );
});

t.test('an object labelled remediator.io/disabled=true is never touched, whatever the playbook allows', async (t) => {
  t.match(objectScopeRefusal(web, { labels: { 'remediator.io/disabled': 'true' } }, 'allow'), /labelled remediator\.io\/disabled=true/);
  t.equal(objectScopeRefusal(web, { labels: { 'remediator.io/disabled': 'false' } }, 'refuse'), undefined);
});

t.test('Argo CD and Flux ownership refuses unless the playbook allows it', async (t) => {
  t.same(gitopsOwner({ labels: { 'argocd.argoproj.io/instance': 'shop' } }), {
    owner: 'Argo CD',
    marker: 'label argocd.argoproj.io/instance=shop',
    controller: { kind: 'Application', name: 'shop' },
  });
  t.same(gitopsOwner({ annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:ai-ninja/web' } })?.owner, 'Argo CD');
  t.same(gitopsOwner({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } })?.owner, 'Flux');
  t.same(gitopsOwner({ labels: { 'helm.toolkit.fluxcd.io/name': 'web' } })?.owner, 'Flux');
  t.equal(gitopsOwner({ labels: { app: 'web' } }), undefined);
  t.match(
    objectScopeRefusal(web, { labels: { 'helm.toolkit.fluxcd.io/name': 'web' } }, 'refuse'),
    /managed by Flux .* spec\.gitops: suspend or allow/,
  );
  t.equal(objectScopeRefusal(web, { labels: { 'helm.toolkit.fluxcd.io/name': 'web' } }, 'allow'), undefined);
});

t.test("Argo CD's default tracking: app.kubernetes.io/instance with an Argo CD annotation, or the tracking-id annotation", async (t) => {
  t.equal(gitopsOwner({ labels: { 'app.kubernetes.io/instance': 'shop' } }), undefined, 'the label alone is any Helm release');
  t.same(
    gitopsOwner({ labels: { 'app.kubernetes.io/instance': 'shop' }, annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false' } }),
    {
      owner: 'Argo CD',
      marker: 'label app.kubernetes.io/instance=shop with annotation argocd.argoproj.io/sync-options',
      controller: { kind: 'Application', name: 'shop' },
    },
  );
  t.same(
    gitopsOwner({ annotations: { 'argocd.argoproj.io/tracking-id': 'team-a_shop:apps/Deployment:ai-ninja/web' } })?.controller,
    { kind: 'Application', namespace: 'team-a', name: 'shop' },
    "an Application outside Argo CD's namespace",
  );
  t.same(
    gitopsOwner({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } })
      ?.controller,
    { kind: 'Kustomization', name: 'apps', namespace: 'flux-system' },
  );
  t.same(gitopsOwner({ labels: { 'helm.toolkit.fluxcd.io/name': 'web', 'helm.toolkit.fluxcd.io/namespace': 'flux-system' } })?.controller, {
    kind: 'HelmRelease',
    name: 'web',
    namespace: 'flux-system',
  });
  const argo = { labels: { 'app.kubernetes.io/instance': 'shop' }, annotations: { 'argocd.argoproj.io/sync-wave': '1' } };
  t.match(
    objectScopeRefusal(web, argo, 'refuse'),
    /managed by Argo CD \(label app\.kubernetes\.io\/instance=shop with annotation argocd\.argoproj\.io\/sync-wave\)/,
  );
  t.equal(objectScopeRefusal(web, argo, 'suspend'), undefined, 'suspend: the Application can be paused');
  t.equal(
    objectScopeRefusal(web, { labels: { 'helm.toolkit.fluxcd.io/name': 'web', 'helm.toolkit.fluxcd.io/namespace': 'f' } }, 'suspend'),
    undefined,
    'suspend: the HelmRelease can be paused',
  );
  t.match(
    objectScopeRefusal(web, { labels: { 'helm.toolkit.fluxcd.io/name': 'web' } }, 'suspend'),
    /managed by Flux \(label helm\.toolkit\.fluxcd\.io\/name=web\); spec\.gitops: suspend pauses .* does not name the one that syncs it/,
    'a HelmRelease the object does not name (no namespace label) cannot be paused: refused',
  );
});

import t from 'tap';
import { configScopeRefusal, gitopsOwner, objectScopeRefusal } from '../../src/guards/scope-policy.ts';

const web = { namespace: 'ai-ninja', kind: 'Deployment', name: 'web' };
const open = { namespaces: [], excludeNamespaces: ['kube-system'], kinds: [] };

t.test('namespace allow/deny lists and the kind list', async (t) => {
  t.equal(configScopeRefusal(web, open), undefined);
  t.match(configScopeRefusal({ ...web, namespace: 'kube-system' }, open), /namespace "kube-system" is excluded/);
  t.match(configScopeRefusal(web, { ...open, namespaces: ['payments'] }), /not in guards\.scope\.namespaces \(payments\)/);
  t.match(configScopeRefusal({ ...web, namespace: 'kube-system' }, { ...open, namespaces: ['kube-system'] }), /excluded/, 'the denylist wins over the allowlist');
  t.match(configScopeRefusal({ ...web, kind: 'Service' }, { ...open, kinds: ['Deployment'] }), /kind Service is not in guards\.scope\.kinds/);
});

t.test('an object labelled remediator.io/disabled=true is never touched, whatever the playbook allows', async (t) => {
  t.match(objectScopeRefusal(web, { labels: { 'remediator.io/disabled': 'true' } }, 'allow'), /labelled remediator\.io\/disabled=true/);
  t.equal(objectScopeRefusal(web, { labels: { 'remediator.io/disabled': 'false' } }, 'refuse'), undefined);
});

t.test('Argo CD and Flux ownership refuses unless the playbook allows it', async (t) => {
  t.same(gitopsOwner({ labels: { 'argocd.argoproj.io/instance': 'shop' } }), { owner: 'Argo CD', marker: 'label argocd.argoproj.io/instance=shop' });
  t.same(gitopsOwner({ annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:ai-ninja/web' } })?.owner, 'Argo CD');
  t.same(gitopsOwner({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } })?.owner, 'Flux');
  t.same(gitopsOwner({ labels: { 'helm.toolkit.fluxcd.io/name': 'web' } })?.owner, 'Flux');
  t.equal(gitopsOwner({ labels: { app: 'web' } }), undefined);
  t.match(objectScopeRefusal(web, { labels: { 'helm.toolkit.fluxcd.io/name': 'web' } }, 'refuse'), /managed by Flux .* spec\.gitops: allow/);
  t.equal(objectScopeRefusal(web, { labels: { 'helm.toolkit.fluxcd.io/name': 'web' } }, 'allow'), undefined);
});

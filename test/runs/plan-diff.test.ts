import t from 'tap';
import { objectDiff } from '../../src/runs/plan-diff.ts';

// The diff shown beside a plan waiting for approval: one line per changed leaf field, the API server's bookkeeping
// left out, and never a Secret's value.
t.test('a rollout restart and a scale read as the fields they change', async (t) => {
  const before = {
    metadata: { name: 'web', namespace: 'shop', resourceVersion: '10', generation: 3, managedFields: [{ manager: 'kubectl' }] },
    spec: { replicas: 2, template: { metadata: { labels: { app: 'web' } } } },
    status: { replicas: 2 },
  };
  const after = {
    metadata: { name: 'web', namespace: 'shop', resourceVersion: '11', generation: 4, managedFields: [{ manager: 'remediator' }] },
    spec: {
      replicas: 4,
      template: { metadata: { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-06T13:00:00Z' } } },
    },
    status: { replicas: 4 },
  };
  t.same(objectDiff({ kind: 'Deployment', namespace: 'shop', name: 'web', before, after }), {
    object: 'shop/Deployment/web',
    change: 'modified',
    fields: [
      { path: 'spec.replicas', before: 2, after: 4 },
      { path: 'spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]', after: '2026-12-06T13:00:00Z' },
    ],
  });
});

t.test("a Secret's values are never in the diff, only the keys that change", async (t) => {
  const d = objectDiff({
    kind: 'Secret',
    namespace: 'shop',
    name: 'db',
    before: { metadata: { name: 'db' }, data: { PASSWORD: 'b2xkLXNlY3JldA==' } },
    after: {
      metadata: { name: 'db', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"PASSWORD":"bmV3"}}' } },
      data: { PASSWORD: 'bmV3LXNlY3JldA==', TOKEN: 'dG9rZW4=' },
    },
  });
  t.same(d.fields.map((f) => f.path).sort(), [
    'data.PASSWORD',
    'data.TOKEN',
    'metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]',
  ]);
  t.ok(d.fields.every((f) => f.hidden));
  t.notMatch(JSON.stringify(d), /b2xk|bmV3|dG9rZW4/, 'no value, old or new, is in it');
});

t.test('a ConfigMap value is shown; nothing changed reads as unchanged; a delete as deleted', async (t) => {
  const cm = (v: string) => ({ metadata: { name: 'cfg', resourceVersion: v }, data: { DEGRADED_MODE: v === '1' ? 'false' : 'true' } });
  t.same(objectDiff({ kind: 'ConfigMap', namespace: 'shop', name: 'cfg', before: cm('1'), after: cm('2') }).fields, [
    { path: 'data.DEGRADED_MODE', before: 'false', after: 'true' },
  ]);
  t.equal(objectDiff({ kind: 'ConfigMap', namespace: 'shop', name: 'cfg', before: cm('1'), after: cm('1') }).change, 'unchanged');
  t.same(objectDiff({ kind: 'Pod', namespace: 'shop', name: 'web-1', before: { metadata: { name: 'web-1' } } }), {
    object: 'shop/Pod/web-1',
    change: 'deleted',
    fields: [],
  });
});

t.test('a long list of changes is cut, and says how many more there are', async (t) => {
  const after = { metadata: { name: 'big' }, data: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`K${i}`, 'x'.repeat(500)])) };
  const d = objectDiff(
    { kind: 'ConfigMap', namespace: 'shop', name: 'big', before: { metadata: { name: 'big' } }, after },
    { maxFields: 10 },
  );
  t.equal(d.fields.length, 10);
  t.equal(d.more, 40);
  t.ok((d.fields[0]!.after as string).length <= 201, 'long values are cut');
});

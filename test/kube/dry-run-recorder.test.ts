import t from 'tap';
import { planDiffPreviewer } from '../../src/runs/plan-diff.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { simCluster } from './sim-cluster.ts';

// The preview behind an approval's diff, against kube-sim through client-node: whatever the step asks, nothing is
// written (every write goes with dryRun=All), each write is paired with the live object, and a Secret's values never
// come out.
const { sim, kube } = await simCluster({ seed: 'ai-ninja' });
await sim.settle();
const signal = () => AbortSignal.timeout(5_000);
const limits = { maxReplicas: 10, applyKinds: ['Secret'], manifestsDir: '.', fieldManager: 'remediator' };
const preview = planDiffPreviewer({ clock: systemClock });

t.test('a write asked for for real is sent as a dry run; the diff is the API server answer against the live object', async (t) => {
  const secretBefore = structuredClone(sim.get('Secret', 'ai-ninja', 'app-secrets'));
  const keys = Object.keys(secretBefore.data);
  const diff = await preview(
    async (services) => {
      // What a step would do, without asking for a dry run itself.
      const d = await services.kube!.get({ kind: 'Deployment', namespace: 'ai-ninja', name: 'phone-gateway' }, { signal: signal() });
      await services.kube!.patch(
        { kind: 'Deployment', namespace: 'ai-ninja', name: 'phone-gateway' },
        { type: 'strategic', body: { spec: { replicas: (d.spec.replicas ?? 0) + 1 } } },
        { signal: signal() },
      );
      await services.kube!.apply(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { namespace: 'ai-ninja', name: 'app-secrets' },
          data: { [keys[0]!]: Buffer.from('a-new-password').toString('base64') },
        },
        { signal: signal(), fieldManager: 'remediator', force: true },
      );
    },
    { kube, limits },
  );
  t.notOk(diff.error, diff.error ?? 'the dry run went through');
  const deployment = diff.objects.find((o) => o.object === 'ai-ninja/Deployment/phone-gateway');
  t.same(deployment?.fields, [{ path: 'spec.replicas', before: 2, after: 3 }]);
  const secret = diff.objects.find((o) => o.object === 'ai-ninja/Secret/app-secrets');
  t.ok(
    secret?.fields.some((f) => f.path === `data.${keys[0]}` && f.hidden),
    'the Secret key that changes is named',
  );
  t.notMatch(JSON.stringify(diff), /a-new-password|YS1uZXctcGFzc3dvcmQ/, 'its new value is not in the diff');
  for (const k of keys) t.notOk(JSON.stringify(diff).includes(secretBefore.data[k]), `nor the old value of ${k}`);
  t.equal(sim.get('Deployment', 'ai-ninja', 'phone-gateway').spec.replicas, 2, 'nothing was written');
  t.same(sim.get('Secret', 'ai-ninja', 'app-secrets').data, secretBefore.data);
});

t.test('a dry run that fails is the preview failing (the engine shows why)', async (t) => {
  await t.rejects(
    preview(
      async (services) =>
        services.kube!.patch(
          { kind: 'Deployment', namespace: 'ai-ninja', name: 'nope' },
          { type: 'merge', body: {} },
          { signal: signal() },
        ),
      { kube, limits },
    ),
    { code: 'REM_ERR_KUBE_NOT_FOUND' },
  );
});

import t from 'tap';
import { planRevert, laterWriters, ownsField, type RevertChange, type Observed } from '../../src/kube/revert-plan.ts';

/**
 * The revert decision on objects as a real API server returns them, including what kube-sim does not keep:
 * managedFields with other writers, and quantities the server rewrote.
 */
const target = { namespace: 'shop', kind: 'Deployment', name: 'web' };
const change: RevertChange = {
  target,
  action: 'kube.setResources',
  before: { web: { limits: { cpu: null }, requests: {} } },
  after: { web: { limits: { cpu: '0.5' }, requests: {} } },
  step: 'res',
  at: '2026-12-06T10:00:05.300Z',
};
const deployment = (cpu: string | undefined, managedFields: unknown[] = [], stamp = 'run-a.res') => ({
  metadata: { name: 'web', namespace: 'shop', annotations: { 'remediator.io/run': stamp }, managedFields },
  spec: { selector: {}, template: { spec: { containers: [{ name: 'web', ...(cpu ? { resources: { limits: { cpu } } } : {}) }] } } },
});
const seen = (obj: any) => new Map<string, Observed>([['shop/Deployment/web', { kind: 'found', object: obj }]]);

t.test('a quantity the server rewrote (0.5 → 500m) is still what the run left', async (t) => {
  const plan = planRevert('run-a', [change], seen(deployment('500m')), { fieldManager: 'remediator' });
  t.same(plan.conflicts, []);
  t.same(plan.targets[0]!.revert, [{ field: 'resources/web/limits/cpu', now: '500m', to: null }]);
});

const cpuOwned = {
  'f:spec': {
    'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:resources': { 'f:limits': { 'f:cpu': {} } } } } } },
  },
};
t.test(
  'another writer of the reverted fields in managedFields after the run refuses the object; one before it, or remediator, does not',
  async (t) => {
    const fields = [
      { manager: 'remediator', operation: 'Update', time: '2026-12-06T10:09:00Z', fieldsV1: cpuOwned },
      { manager: 'kubectl-edit', operation: 'Update', time: '2026-12-06T09:00:00Z', fieldsV1: cpuOwned },
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        subresource: 'status',
        time: '2026-12-06T10:09:00Z',
        fieldsV1: { 'f:status': {} },
      },
      // The deployment controller's revision annotation after the rollout the run caused: not a field the revert writes.
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        time: '2026-12-06T10:09:00Z',
        fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:deployment.kubernetes.io/revision': {} } } },
      },
      { manager: 'kubectl-edit', operation: 'Update', time: '2026-12-06T10:00:05Z', fieldsV1: cpuOwned },
    ];
    t.same(
      planRevert('run-a', [change], seen(deployment('500m', fields)), { fieldManager: 'remediator' }).conflicts,
      [],
      'same second as the run, earlier, status, other fields or remediator: not later writers',
    );
    const later = [...fields, { manager: 'argocd-controller', operation: 'Apply', time: '2026-12-06T10:07:00Z', fieldsV1: cpuOwned }];
    const plan = planRevert('run-a', [change], seen(deployment('500m', later)), { fieldManager: 'remediator' });
    t.same(
      plan.conflicts.map((c) => c.why),
      [['argocd-controller changed resources/web/limits/cpu at 2026-12-06T10:07:00Z (Apply)']],
      'even though it set the value the run left',
    );
    t.same(
      laterWriters(deployment('1', later) as any, undefined, 'remediator'),
      [],
      'without a time for the change, managedFields cannot tell',
    );
  },
);

t.test("ownsField reads the API server's field sets", async (t) => {
  t.ok(ownsField({ 'f:data': { 'f:LOG_LEVEL': {} } }, 'data/LOG_LEVEL'));
  t.notOk(ownsField({ 'f:data': { 'f:OTHER': {} } }, 'data/LOG_LEVEL'));
  t.ok(ownsField({ 'f:spec': { 'f:selector': { 'f:app': {} } } }, 'selector'));
  t.ok(ownsField({ 'f:spec': { 'f:replicas': {} } }, 'replicas', 'scale'), 'an HPA scaling through the scale subresource');
  t.ok(
    ownsField(
      { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:env': { 'k:{"name":"MODE"}': {} } } } } } } },
      'env/web/MODE',
    ),
  );
});

t.test('a value nobody recorded, a later run stamp, or a missing object is a conflict; a value already back is not', async (t) => {
  t.match(planRevert('run-a', [change], seen(deployment('2')), { fieldManager: 'remediator' }).conflicts[0]!.why, [
    /resources\/web\/limits\/cpu is "2"; the run left "0.5"/,
  ]);
  t.match(planRevert('run-a', [change], seen(deployment('500m', [], 'run-b.x')), { fieldManager: 'remediator' }).conflicts[0]!.why, [
    /remediator run run-b changed it since/,
  ]);
  t.same(
    planRevert('run-a', [change], seen(deployment('500m', [], 'run-r.revert')), { fieldManager: 'remediator', revertRunId: 'run-r' })
      .conflicts,
    [],
    "the revert run's own stamp",
  );
  const back = planRevert('run-a', [change], seen(deployment(undefined, [], 'run-b.x')), { fieldManager: 'remediator' });
  t.same(back.conflicts, [], 'nothing to write, nothing to refuse');
  t.same(back.targets[0]!.alreadyReverted, ['resources/web/limits/cpu']);
  t.equal(back.pending, false);
  t.match(
    planRevert('run-a', [change], new Map([['shop/Deployment/web', { kind: 'absent' }]]), { fieldManager: 'remediator' }).conflicts[0]!.why,
    [/no longer exists/],
  );
});

t.test('two changes of one field: what the run left is the newest after, what comes back the oldest before', async (t) => {
  const env = (before: unknown, after: unknown): RevertChange => ({
    target,
    action: 'kube.setEnv',
    before: { web: { MODE: before } },
    after: { web: { MODE: after } },
  });
  const obj = {
    metadata: { name: 'web', namespace: 'shop' },
    spec: { selector: {}, template: { spec: { containers: [{ name: 'web', env: [{ name: 'MODE', value: 'b' }] }] } } },
  };
  const plan = planRevert(
    'run-a',
    [env(null, { name: 'MODE', value: 'a' }), env({ name: 'MODE', value: 'a' }, { name: 'MODE', value: 'b' })],
    seen(obj),
    { fieldManager: 'remediator' },
  );
  t.same(plan.targets[0]!.revert, [{ field: 'env/web/MODE', now: { name: 'MODE', value: 'b' }, to: null }]);
});

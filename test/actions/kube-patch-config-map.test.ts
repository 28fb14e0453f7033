import t from 'tap';
import { kubePatchConfigMapAction as patchCm } from '../../src/actions/kube-patch-config-map.ts';
import { kubeSwitchServiceSelectorAction as switchSel } from '../../src/actions/kube-switch-service-selector.ts';
import { kubeScaleAction as scale } from '../../src/actions/kube-scale.ts';
import { kubeRestoreAction as restore } from '../../src/actions/kube-restore.ts';
import type { RecordedChange } from '../../src/engine/step-definition.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster({ seed: 'ai-ninja' });
await sim.settle();
const services = { kube };
const ns = 'ai-ninja';
const patches = (from: number) => sim.requests.slice(from).filter((q) => q.method === 'PATCH');
const data = () => sim.get('ConfigMap', ns, 'app-config').data;
const original = { ...data() };

t.test('kube.patchConfigMap sets and removes keys, records the old values', async (t) => {
  const r = await runAction(
    patchCm,
    { namespace: ns, name: 'app-config', set: { DEGRADED_MODE: 'true', NEW_KEY: 'v' }, remove: ['LOG_LEVEL'] },
    { services, run: { id: 'run-1' }, step: { id: 'cm' } },
  );
  t.match(r, {
    status: 'ok',
    changes: [{ action: 'kube.patchConfigMap', before: { data: { DEGRADED_MODE: 'false', NEW_KEY: null, LOG_LEVEL: 'info' } } }],
  });
  t.same(data(), { DEGRADED_MODE: 'true', MAX_CONCURRENT_CALLS: '200', UPSTREAM_TIMEOUT_MS: '3000', NEW_KEY: 'v' });
  t.ok(sim.list('Event', ns).some((e: any) => e.reason === 'RemediatorPatchConfigMap' && e.involvedObject.name === 'app-config'));
  // Re-executed: nothing written, same change reported.
  const from = sim.requests.length;
  const again = await runAction(
    patchCm,
    { namespace: ns, name: 'app-config', set: { DEGRADED_MODE: 'true', NEW_KEY: 'v' }, remove: ['LOG_LEVEL'] },
    { services, run: { id: 'run-1' }, step: { id: 'cm' } },
  );
  t.match(again, { output: { repeated: true }, changes: [{ before: { data: { LOG_LEVEL: 'info' } } }] });
  t.same(patches(from), []);
});

t.test('kube.switchServiceSelector: one JSON patch, test of resourceVersion then replace of the selector', async (t) => {
  const rv = sim.get('Service', ns, 'phone-gateway').metadata.resourceVersion;
  const from = sim.requests.length;
  const r = await runAction(
    switchSel,
    { namespace: ns, name: 'phone-gateway', selector: { app: 'phone-gateway-backup' } },
    { services, run: { id: 'run-1' }, step: { id: 'sel' } },
  );
  t.match(r, {
    status: 'ok',
    output: { previousSelector: { app: 'phone-gateway' } },
    changes: [{ before: { selector: { app: 'phone-gateway' } }, after: { selector: { app: 'phone-gateway-backup' } } }],
  });
  const p = patches(from);
  t.equal(p.length, 1);
  t.equal(p[0]!.contentType, 'application/json-patch+json');
  const ops = JSON.parse(p[0]!.body);
  t.same(ops.slice(0, 2), [
    { op: 'test', path: '/metadata/resourceVersion', value: rv },
    { op: 'replace', path: '/spec/selector', value: { app: 'phone-gateway-backup' } },
  ]);
  t.same(sim.get('Service', ns, 'phone-gateway').spec.selector, { app: 'phone-gateway-backup' });
});

t.test('a stale resourceVersion fails the test operation; the step re-reads and succeeds', async (t) => {
  let touched = false;
  const get = kube.get.bind(kube);
  kube.get = (async (ref: any, o: any) => {
    const obj = await get(ref, o);
    if (!touched && ref.kind === 'Service') {
      touched = true;
      const s = sim.get('Service', ns, 'realtime-processor');
      sim.put({ ...s, metadata: { ...s.metadata, labels: { ...s.metadata.labels, touched: 'yes' } } });
    }
    return obj;
  }) as typeof kube.get;
  t.teardown(() => {
    kube.get = get;
  });
  const from = sim.requests.length;
  t.match(
    await runAction(
      switchSel,
      { namespace: ns, name: 'realtime-processor', selector: { app: 'realtime-processor', track: 'green' } },
      { services, run: { id: 'run-2' } },
    ),
    { status: 'ok' },
  );
  t.same(
    patches(from).map((q) => q.status),
    [422, 200],
    'the server refused the stale test, the retry went through',
  );
  t.same(sim.get('Service', ns, 'realtime-processor').spec.selector, { app: 'realtime-processor', track: 'green' });
});

t.test('kube.restore reverts every change of the run, newest first', async (t) => {
  const s = await runAction(
    scale,
    { namespace: ns, name: 'phone-gateway-backup', replicas: 2 },
    { services, run: { id: 'run-1' }, step: { id: 'scale' } },
  );
  const changes: RecordedChange[] = [];
  // What the run recorded: cm, then sel, then scale (re-read from the steps above by running them again: they report their change).
  changes.push(
    ...(
      (await runAction(
        patchCm,
        { namespace: ns, name: 'app-config', set: { DEGRADED_MODE: 'true', NEW_KEY: 'v' }, remove: ['LOG_LEVEL'] },
        { services, run: { id: 'run-1' }, step: { id: 'cm' } },
      )) as { changes: RecordedChange[] }
    ).changes,
  );
  changes.push(
    ...(
      (await runAction(
        switchSel,
        { namespace: ns, name: 'phone-gateway', selector: { app: 'phone-gateway-backup' } },
        { services, run: { id: 'run-1' }, step: { id: 'sel' } },
      )) as { changes: RecordedChange[] }
    ).changes,
  );
  changes.push(...(s as { changes: RecordedChange[] }).changes);

  const dryFrom = sim.requests.length;
  await runAction(restore, {}, { services, run: { id: 'run-1', dryRun: true }, step: { id: 'restore' }, changes });
  t.ok(
    sim.requests
      .slice(dryFrom)
      .filter((q) => q.method !== 'GET')
      .every((q) => q.query.dryRun === 'All'),
    'dry run restore only sends dry runs',
  );
  t.same(data(), { DEGRADED_MODE: 'true', MAX_CONCURRENT_CALLS: '200', UPSTREAM_TIMEOUT_MS: '3000', NEW_KEY: 'v' });

  const r = await runAction(restore, {}, { services, run: { id: 'run-1' }, step: { id: 'restore' }, changes });
  t.match(r, {
    status: 'ok',
    output: { restored: [{ action: 'kube.scale' }, { action: 'kube.switchServiceSelector' }, { action: 'kube.patchConfigMap' }] },
  });
  t.same(data(), original);
  t.same(sim.get('Service', ns, 'phone-gateway').spec.selector, { app: 'phone-gateway' });
  t.equal(sim.get('Deployment', ns, 'phone-gateway-backup').spec.replicas, 0);
  t.match(await runAction(restore, { step: 'nothing-here' }, { services, changes }), { status: 'skipped' });
});

t.test('missing and forbidden', async (t) => {
  await t.rejects(runAction(patchCm, { namespace: ns, name: 'nope', set: { A: 'b' } }, { services }), { code: 'REM_ERR_KUBE_NOT_FOUND' });
  await t.rejects(runAction(switchSel, { namespace: ns, name: 'nope', selector: { a: 'b' } }, { services }), {
    code: 'REM_ERR_KUBE_NOT_FOUND',
  });
  sim.denyAccess({ verb: 'patch', resource: 'services', namespace: ns });
  await t.rejects(runAction(switchSel, { namespace: ns, name: 'conversation-engine', selector: { a: 'b' } }, { services }), {
    code: 'REM_ERR_KUBE_FORBIDDEN',
  });
  sim.faults.injectErrors({ status: 409, count: 1, match: { method: 'PATCH', pathIncludes: '/configmaps/app-config' } });
  const from = sim.requests.length;
  t.match(await runAction(patchCm, { namespace: ns, name: 'app-config', set: { X: '1' } }, { services, run: { id: 'run-9' } }), {
    status: 'ok',
  });
  t.same(
    patches(from).map((q) => q.status),
    [409, 200],
  );
});

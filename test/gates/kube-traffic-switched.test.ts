import t from 'tap';
import { kubeTrafficSwitchedGate as gate } from '../../src/gates/kube-traffic-switched.ts';
import { kubeScaleAction as scale } from '../../src/actions/kube-scale.ts';
import { kubeSwitchServiceSelectorAction as switchSelector } from '../../src/actions/kube-switch-service-selector.ts';
import { checkParams, runAction, stepContext } from '../support/step-context.ts';
import { kubectl } from '../kube/kubectl.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube, kubeconfig } = await simCluster({ seed: 'ai-ninja' });
await sim.settle();
const services = { kube };
const ns = 'ai-ninja';
const check = (params: Record<string, unknown>) => gate.check(stepContext(checkParams(gate, params) as never, { services }));

t.test("the runbook's fix 5.2: before the switch the Service routes to the primary; after it, to the ready backup pods", async (t) => {
  const params = { namespace: ns, service: 'phone-gateway', selector: 'app=phone-gateway-backup' };
  const before = await check(params);
  t.equal(before.verdict, 'fail');
  t.match(
    before.summary,
    /^service "phone-gateway" routes to 0 ready backup addresses \(need 1; no pod matches app=phone-gateway-backup\), and still to phone-gateway-/,
  );
  t.match(before.value, { source: 'EndpointSlice', routedToBackup: 0, routedElsewhere: 2 });

  await runAction(scale, { namespace: ns, name: 'phone-gateway-backup', replicas: 2 }, { services, run: { id: 'run-t1' } });
  await sim.settle();
  const scaledOnly = await check(params);
  t.equal(scaledOnly.verdict, 'fail', 'backup pods ready, but the Service does not route to them yet');

  await runAction(
    switchSelector,
    { namespace: ns, name: 'phone-gateway', selector: { app: 'phone-gateway-backup' } },
    { services, run: { id: 'run-t1' } },
  );
  await sim.settle();
  const after = await check(params);
  t.equal(after.verdict, 'pass', after.summary);
  t.match(after.summary, /^service "phone-gateway" routes to 2 ready backup pods \(phone-gateway-backup-.*, phone-gateway-backup-.*\)$/);
  const v = after.value as any;
  t.equal(v.seen.length, 2, 'the addresses seen are recorded');
  t.equal(v.expected.length, 2, 'against the backup pods expected');
  t.ok(v.seen.every((a: any) => a.ready && v.expected.some((e: any) => e.pod === a.pod && e.ip === a.ip)));
  // What a person checks by hand (kubectl get endpoints) agrees with the gate.
  const out = await kubectl(
    kubeconfig,
    '-n',
    ns,
    'get',
    'endpoints',
    'phone-gateway',
    '-o',
    'jsonpath={.subsets[*].addresses[*].targetRef.name}',
  );
  t.same(out.trim().split(/\s+/).sort(), v.seen.map((a: any) => a.pod).sort());
});

t.test('minReady: fewer ready backup addresses than asked is a fail naming how many are ready', async (t) => {
  const r = await check({ namespace: ns, service: 'phone-gateway', selector: 'app=phone-gateway-backup', minReady: 3 });
  t.equal(r.verdict, 'fail');
  t.match(r.summary, /routes to 2 ready backup addresses \(need 3; 2 of 2 backup pods ready\)/);
});

t.test('exclusive: false passes while the primary still takes traffic too', async (t) => {
  const r = await check({ namespace: ns, service: 'realtime-processor', selector: 'app=realtime-processor', exclusive: false });
  t.equal(r.verdict, 'pass');
});

t.test('a Service that does not exist is a fail (keep polling), never a pass', async (t) => {
  const r = await check({ namespace: ns, service: 'ghost', selector: 'app=ghost' });
  t.equal(r.verdict, 'fail');
  t.match(r.summary, /service "ghost" has no Endpoints or EndpointSlices/);
});

t.test('without EndpointSlices (denied), it reads the Endpoints object', async (t) => {
  sim.denyAccess({ verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io' });
  const r = await check({ namespace: ns, service: 'phone-gateway', selector: 'app=phone-gateway-backup' });
  t.equal(r.verdict, 'pass');
  t.match(r.value, { source: 'Endpoints' });
});

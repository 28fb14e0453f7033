import t from 'tap';
import { kubeRolloutRestartAction as restart } from '../../src/actions/kube-rollout-restart.ts';
import { ManualClock } from '../../src/ports/clock.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { kubectl } from '../kube/kubectl.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube, kubeconfig } = await simCluster({ seed: 'ai-ninja' });
await sim.settle();
const services = { kube };
const ns = 'ai-ninja';
const patchesSince = (from: number) => sim.requests.slice(from).filter((r) => r.method === 'PATCH');

t.test('restarts like kubectl: one strategic merge patch of restartedAt (RFC 3339 seconds), a new revision, an Event', async (t) => {
  const clock = new ManualClock(Date.parse('2026-11-25T12:05:14.734Z'));
  const from = sim.requests.length;
  const r = await runAction(
    restart,
    { namespace: ns, name: 'phone-gateway' },
    { services, clock, run: { id: 'run-1' }, step: { id: 'restart' } },
  );
  t.equal(r.status, 'ok');
  const patches = patchesSince(from);
  t.equal(patches.length, 1);
  t.equal(patches[0]!.path, '/apis/apps/v1/namespaces/ai-ninja/deployments/phone-gateway');
  t.equal(patches[0]!.contentType, 'application/strategic-merge-patch+json');
  t.same(JSON.parse(patches[0]!.body), {
    metadata: { annotations: { 'remediator.io/run': 'run-1.restart' } },
    spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T12:05:14Z' } } } },
  });
  await sim.settle();
  const history = await kubectl(kubeconfig, '-n', ns, 'rollout', 'history', 'deployment/phone-gateway');
  t.match(history, /^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/m, 'kubectl rollout history shows the new revision');
  const events = sim.list('Event', ns).filter((e: any) => e.reason === 'RemediatorRolloutRestart');
  t.equal(events.length, 1);
  t.equal(events[0].message, 'remediator restarted deployment phone-gateway: ServiceDown, run run-1');
  t.equal(events[0].source.component, 'remediator');
  t.match(events[0].involvedObject, { kind: 'Deployment', name: 'phone-gateway', namespace: ns });
});

t.test('re-executed after a crash (same run and step), it writes nothing the second time', async (t) => {
  const opts = { services, run: { id: 'run-2' }, step: { id: 'restart' } };
  await runAction(restart, { namespace: ns, name: 'realtime-processor' }, opts);
  const from = sim.requests.length;
  const again = await runAction(restart, { namespace: ns, name: 'realtime-processor' }, opts);
  t.equal(again.status, 'ok');
  t.match(again, { output: { repeated: true } });
  t.same(
    sim.requests.slice(from).filter((r) => r.method !== 'GET'),
    [],
    'only a read',
  );
});

t.test("refuses a paused Deployment with kubectl's message", async (t) => {
  addDeployment(sim, { namespace: ns, name: 'paused-web', image: 'nginx:1', paused: true });
  const from = sim.requests.length;
  await t.rejects(runAction(restart, { namespace: ns, name: 'paused-web' }, { services }), {
    code: 'REM_ERR_KUBE_PRECONDITION',
    message: "can't restart paused deployment (run rollout resume first)",
  });
  t.same(patchesSince(from), []);
});

t.test('a missing Deployment is a clear, non-retryable not-found', async (t) => {
  await t.rejects(runAction(restart, { namespace: ns, name: 'ghost' }, { services }), {
    code: 'REM_ERR_KUBE_NOT_FOUND',
    retryable: false,
    message: /deployments\.apps "ghost" not found/,
  });
});

t.test('forbidden patch is REM_ERR_KUBE_FORBIDDEN', async (t) => {
  addDeployment(sim, { namespace: 'default', name: 'locked', image: 'nginx:1' });
  sim.denyAccess({ verb: 'patch', resource: 'deployments', group: 'apps', namespace: 'default' });
  await t.rejects(runAction(restart, { namespace: 'default', name: 'locked' }, { services }), {
    code: 'REM_ERR_KUBE_FORBIDDEN',
    message: /patch deployments\.apps "locked"/,
  });
});

t.test('a conflict is re-read and retried', async (t) => {
  sim.faults.injectErrors({ status: 409, count: 1, match: { method: 'PATCH', pathIncludes: '/deployments/conversation-engine' } });
  const from = sim.requests.length;
  const r = await runAction(restart, { namespace: ns, name: 'conversation-engine' }, { services, run: { id: 'run-3' } });
  t.equal(r.status, 'ok');
  t.same(
    patchesSince(from).map((p) => p.status),
    [409, 200],
  );
  t.ok(sim.get('Deployment', ns, 'conversation-engine').spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
});

t.test('dry run: the API sees dryRun=All, nothing changes, the plan is returned', async (t) => {
  const before = sim.get('Deployment', ns, 'profile-analytics');
  const from = sim.requests.length;
  const r = await runAction(restart, { namespace: ns, name: 'profile-analytics' }, { services, run: { id: 'run-4', dryRun: true } });
  t.match(r, { status: 'ok', output: { dryRun: true, plan: { patch: { type: 'strategic' } } } });
  t.same(
    patchesSince(from).map((p) => p.query.dryRun),
    ['All'],
  );
  t.same(sim.get('Deployment', ns, 'profile-analytics'), before);
  t.same(
    sim.list('Event', ns).filter((e: any) => e.message?.includes('run-4')),
    [],
  );
});

t.test('restarts a StatefulSet too', async (t) => {
  sim.put({
    kind: 'StatefulSet',
    metadata: { namespace: 'default', name: 'db' },
    spec: {
      replicas: 1,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'pg:16' }] } },
    },
  });
  const r = await runAction(restart, { namespace: 'default', name: 'db', kind: 'StatefulSet' }, { services });
  t.equal(r.status, 'ok');
  t.ok(sim.get('StatefulSet', 'default', 'db').spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
});

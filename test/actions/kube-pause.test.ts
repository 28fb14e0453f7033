import t from 'tap';
import { kubePauseAction as pause, kubeResumeAction as resume } from '../../src/actions/kube-pause.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster();
const services = { kube };
const ns = 'default';
addDeployment(sim, { namespace: ns, name: 'web', image: 'nginx:1.25', replicas: 1 });
await sim.settle();
const writesSince = (from: number) => sim.requests.slice(from).filter((r) => r.method !== 'GET');

t.test("pause and resume send kubectl's exact strategic merge patches", async (t) => {
  let from = sim.requests.length;
  t.match(await runAction(pause, { namespace: ns, name: 'web' }, { services, run: { id: 'r1' }, step: { id: 'p' } }), {
    status: 'ok',
    output: { paused: true },
  });
  let w = writesSince(from).filter((r) => r.method === 'PATCH');
  t.equal(w[0]!.contentType, 'application/strategic-merge-patch+json');
  t.same(JSON.parse(w[0]!.body).spec, { paused: true });
  t.equal(sim.get('Deployment', ns, 'web').spec.paused, true);

  from = sim.requests.length;
  t.match(await runAction(resume, { namespace: ns, name: 'web' }, { services, run: { id: 'r1' }, step: { id: 'q' } }), {
    status: 'ok',
    output: { paused: false },
  });
  w = writesSince(from).filter((r) => r.method === 'PATCH');
  t.same(JSON.parse(w[0]!.body).spec, { paused: null }, "null deletes the field, as kubectl's two-way patch does");
  t.notOk(sim.get('Deployment', ns, 'web').spec.paused);
  t.same(
    sim
      .list('Event', ns)
      .filter((e: any) => /^RemediatorPause|^RemediatorResume/.test(e.reason))
      .map((e: any) => e.reason)
      .sort(),
    ['RemediatorPause', 'RemediatorResume'],
  );
});

t.test('resuming a running Deployment writes nothing and says so', async (t) => {
  const from = sim.requests.length;
  t.match(await runAction(resume, { namespace: ns, name: 'web' }, { services }), {
    status: 'skipped',
    reason: 'deployment "web" is not paused',
  });
  t.same(writesSince(from), []);
});

t.test('re-run of the same step writes nothing; dry run changes nothing', async (t) => {
  const opts = { services, run: { id: 'r2' }, step: { id: 'pause' } };
  await runAction(pause, { namespace: ns, name: 'web' }, opts);
  let from = sim.requests.length;
  t.match(await runAction(pause, { namespace: ns, name: 'web' }, opts), { status: 'ok', output: { repeated: true } });
  t.same(writesSince(from), []);
  from = sim.requests.length;
  const before = sim.get('Deployment', ns, 'web');
  t.match(await runAction(resume, { namespace: ns, name: 'web' }, { services, run: { id: 'r3', dryRun: true } }), {
    status: 'ok',
    output: { dryRun: true },
  });
  t.same(
    writesSince(from).map((r) => r.query.dryRun),
    ['All'],
  );
  t.same(sim.get('Deployment', ns, 'web'), before);
});

t.test('missing, forbidden and conflicting targets', async (t) => {
  await t.rejects(runAction(pause, { namespace: ns, name: 'nope' }, { services }), { code: 'REM_ERR_KUBE_NOT_FOUND', retryable: false });
  addDeployment(sim, { namespace: ns, name: 'other', image: 'nginx:1' });
  sim.faults.injectErrors({ status: 409, count: 1, match: { method: 'PATCH', pathIncludes: '/deployments/other' } });
  t.match(
    await runAction(pause, { namespace: ns, name: 'other' }, { services, step: { id: 'pause-other' } }),
    { status: 'ok' },
    'conflict retried',
  );
  sim.denyAccess({ verb: 'patch', resource: 'deployments', namespace: ns });
  await t.rejects(runAction(resume, { namespace: ns, name: 'other' }, { services, step: { id: 'resume-other' } }), {
    code: 'REM_ERR_KUBE_FORBIDDEN',
  });
});

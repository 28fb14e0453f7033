import t from 'tap';
import { bound, kubeSnapshotAction as snapshot } from '../../src/actions/kube-snapshot.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster({ crashLoopIntervalMs: 100 });
const services = { kube };
const ns = 'default';
sim.faults.crashImage('api:oom', 'OOMKilled');
addDeployment(sim, { namespace: ns, name: 'api', image: 'api:oom', replicas: 2 });
addDeployment(sim, { namespace: ns, name: 'web', image: 'nginx:1', replicas: 1 });
await sim.settle();
// Wait until every api pod has crashed and restarted at least once and waits in CrashLoopBackOff (the state the
// first test reads), however long that takes on this machine.
for (;;) {
  const pods = sim.list('Pod').filter((p: any) => p.metadata.namespace === ns && p.metadata.name.startsWith('api-'));
  const looping = (p: any) =>
    (p.status?.containerStatuses ?? []).some((c: any) => c.restartCount >= 1 && c.state?.waiting?.reason === 'CrashLoopBackOff');
  if (pods.length === 2 && pods.every(looping)) break;
  await new Promise((r) => setTimeout(r, 20));
}

t.test("an OOMKilled crash-looping Deployment: reasons, restarts, events and the previous container's last log lines", async (t) => {
  const r = await runAction(snapshot, { namespace: ns, name: 'api', logLines: 2 }, { services });
  t.equal(r.status, 'ok');
  const out = (r as { output: any }).output;
  t.equal(out.selector, 'app=api');
  t.equal(out.pods.total, 2);
  t.equal(out.pods.failing, 2);
  const c = out.pods.items[0].containers[0];
  t.match(c, {
    name: 'api',
    ready: false,
    state: 'waiting',
    reason: 'CrashLoopBackOff',
    lastTermination: { reason: 'OOMKilled', exitCode: 137 },
    logSource: 'previous',
  });
  t.ok(c.restarts >= 1);
  t.equal(c.log.trim().split('\n').length, 2, 'logLines respected');
  t.match(c.log, /out of memory/);
  t.ok(out.events.length > 0, 'events of the workload and its pods');
  t.ok(
    out.events.every((e: any) => /^(Pod\/api-|ReplicaSet\/api-|Deployment\/api$)/.test(e.object)),
    'only events of this workload',
  );
  t.match((r as { summary: string }).summary, /2 pods, 2 failing \(.*OOMKilled.*\)/);
  t.doesNotThrow(() => JSON.parse(JSON.stringify(out)), 'plain JSON');
  t.notOk(out.pods.items.some((p: any) => p.name.startsWith('web-')));
});

t.test('healthy pods by selector: no logs read', async (t) => {
  const from = sim.requests.length;
  const r = await runAction(snapshot, { namespace: ns, selector: 'app=web' }, { services });
  t.match(r, { status: 'ok', output: { pods: { total: 1, failing: 0 } } });
  t.same(
    sim.requests.slice(from).filter((q) => q.path.endsWith('/log')),
    [],
  );
  t.same(
    sim.requests.slice(from).filter((q) => q.method !== 'GET'),
    [],
    'reads only',
  );
});

t.test('output is bounded: logs are cut first', async (t) => {
  const big = {
    pods: {
      items: [
        {
          containers: [
            { name: 'a', log: 'x'.repeat(50_000) },
            { name: 'b', log: 'y'.repeat(50_000) },
          ],
        },
      ],
    },
    events: Array.from({ length: 10 }, (_, i) => ({ message: `event ${i}` })),
  } as any;
  const b = bound(big, 8_192);
  t.ok(Buffer.byteLength(JSON.stringify(b)) <= 8_192);
  t.same(b.truncated, ['logs']);
  t.equal(b.events.length, 10, 'events kept when cutting logs was enough');
  t.match(b.pods.items[0].containers[0].log, /x$/, 'the end of the log is kept');
});

t.test('needs exactly one of name and selector; a missing Deployment is not found', async (t) => {
  await t.rejects(runAction(snapshot, { namespace: ns }, { services }), { code: 'REM_ERR_KUBE_PRECONDITION' });
  await t.rejects(runAction(snapshot, { namespace: ns, name: 'ghost' }, { services }), { code: 'REM_ERR_KUBE_NOT_FOUND' });
});

import t from 'tap';
import { startKubeSim, addDeployment } from '../../src/sim/index.ts';
import { serviceObject } from '../../src/sim/seed.ts';
import { ServiceFleet } from '../../src/dev/real-loop/service-fleet.ts';
import type { PodProcessEvent } from '../../src/dev/real-loop/pod-processes.ts';
import { startUpQueryStandIn } from '../../src/dev/real-loop/up-query-stand-in.ts';

// The simulated cluster's pods as real processes behind a Service address: what the end-to-end tests and the demo
// stand on. No Prometheus here; the Service address is probed directly.
const NS = 'shop';
const sim = await startKubeSim({ podReadyDelayMs: 20, crashLoopIntervalMs: 200 });
t.teardown(() => sim.close());
const events: PodProcessEvent[] = [];
const fleet = await ServiceFleet.start({
  sim,
  services: [{ namespace: NS, name: 'api' }],
  extraDeployments: [{ namespace: NS, name: 'api-backup' }],
  onPodEvent: (e) => events.push(e),
});
t.teardown(() => fleet.close());
addDeployment(sim, { namespace: NS, name: 'api', image: 'shop/api:1.0.0', replicas: 2 });
addDeployment(sim, { namespace: NS, name: 'api-backup', image: 'shop/api:1.0.0', replicas: 1 });
sim.put(serviceObject(NS, 'api', { app: 'api' }));
await sim.settle();
const api = { namespace: NS, name: 'api' };
const svc = fleet.service(api);
const get = async (path: string) => {
  const res = await fetch(`${svc.url}${path}`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, text: await res.text() };
};

t.test('every Ready pod is a live process; the Service answers from them', async (t) => {
  const procs = fleet.pods.processes(api);
  t.equal(procs.length, 2);
  const health = await get('/health');
  t.equal(health.status, 200);
  t.match(JSON.parse(health.text), { status: 'ok', image: 'shop/api:1.0.0' });
  t.match((await get('/metrics')).text, /stand_in_build_info\{image="shop\/api:1\.0\.0",pod="api-/);
});

t.test('killed processes: the pods stay, the Service has no endpoint and says so; up is 0', async (t) => {
  const standIn = await startUpQueryStandIn(fleet);
  t.teardown(() => standIn.close());
  const up = async () => {
    const res = await fetch(`${standIn.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent(svc.upQuery)}`,
    });
    return ((await res.json()) as any).data.result[0]?.value[1];
  };
  t.equal(await up(), '1');
  t.equal(await fleet.kill(api), 2);
  t.equal(sim.list('Pod', NS).filter((p: any) => p.metadata.labels.app === 'api').length, 2, 'the pods are still there');
  const down = await get('/health');
  t.equal(down.status, 503);
  t.match(down.text, /no endpoints available for service "shop\/api"/);
  t.equal(await up(), '0');
  const other = await fetch(`${standIn.url}/api/v1/query?query=${encodeURIComponent('pg_up{namespace="shop"}')}`);
  t.same(((await other.json()) as any).data.result, [], 'anything but up{…} has no series');
});

t.test('a rollout brings new processes; a bad release fails its readiness probe and crash-loops', async (t) => {
  const d = sim.get('Deployment', NS, 'api');
  sim.put({
    ...d,
    spec: { ...d.spec, template: { ...d.spec.template, metadata: { ...d.spec.template.metadata, annotations: { restartedAt: 'now' } } } },
  });
  await sim.settle();
  t.equal((await get('/health')).status, 200, 'the restart brought the service back');

  const r = sim.get('Deployment', NS, 'api');
  sim.put({
    ...r,
    spec: {
      ...r.spec,
      template: {
        ...r.spec.template,
        spec: { ...r.spec.template.spec, containers: [{ ...r.spec.template.spec.containers[0], image: 'shop/api:2.0.0-bad' }] },
      },
    },
  });
  await sim.settle();
  const unready = events.filter((e) => e.type === 'unready');
  t.ok(unready.length >= 1, 'the bad release failed its probe');
  t.match(unready[0], { image: 'shop/api:2.0.0-bad', reason: /statuscode: 503.*bad revision/ });
  const bad = sim.list('Pod', NS).filter((p: any) => p.spec.containers[0].image.endsWith('-bad'));
  t.ok(
    bad.length >= 1 && bad.every((p: any) => p.status.containerStatuses[0].state.waiting?.reason === 'CrashLoopBackOff'),
    'its pods crash-loop',
  );
  t.ok(
    fleet.pods.processes(api).every((p) => p.mode === 'good'),
    'no bad process is left running',
  );
  t.equal((await get('/health')).status, 200, 'the rolling update kept the good pods serving');
});

t.test('a dependency outage breaks running processes whatever the image, and heals them', async (t) => {
  fleet.setDependencyDown(api, 'database unreachable');
  const down = await get('/health');
  t.equal(down.status, 503);
  t.match(down.text, /database unreachable/);
  fleet.setDependencyDown(api, undefined);
  t.equal((await get('/health')).status, 200);
});

t.test('the Service follows its selector: switched to the backup, it answers from the backup processes', async (t) => {
  await fleet.kill(api);
  t.equal((await get('/health')).status, 503);
  const s = sim.get('Service', NS, 'api');
  sim.put({ ...s, spec: { ...s.spec, selector: { app: 'api-backup' } } });
  const health = await get('/health');
  t.equal(health.status, 200);
  t.match(JSON.parse(health.text).pod, /^api-backup-/);
});

t.test('close() stops every process', async (t) => {
  const pids = [...fleet.pods.processes(api), ...fleet.pods.processes({ namespace: NS, name: 'api-backup' })];
  t.ok(pids.length >= 1);
  await fleet.close();
  for (const p of pids) t.notOk(p.alive(), `process ${p.pid} exited`);
  for (const p of pids) t.throws(() => process.kill(p.pid, 0), { code: 'ESRCH' });
  await t.rejects(fetch(`${svc.url}/health`, { signal: AbortSignal.timeout(1000) }), 'the Service address is closed');
});

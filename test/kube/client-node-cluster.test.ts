import t from 'tap';
import { RemediatorError } from '../../src/domain/errors.ts';
import { createCluster } from '../../src/kube/client-node-cluster.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { simCluster } from './sim-cluster.ts';

const { sim, kube, kubeconfig } = await simCluster({ seed: 'ai-ninja' });
await sim.settle();
const signal = () => AbortSignal.timeout(5_000);

t.test('reads a Deployment as plain JSON in the API field names', async (t) => {
  const d = await kube.get({ kind: 'Deployment', namespace: 'ai-ninja', name: 'phone-gateway' }, { signal: signal() });
  t.equal(d.metadata.name, 'phone-gateway');
  t.equal(typeof d.metadata.creationTimestamp, 'string', 'timestamps are strings, not Date objects');
  t.same(d.spec.selector.matchLabels, { app: 'phone-gateway' });
  t.equal(d.status?.availableReplicas, 2);
});

t.test('a missing object is REM_ERR_KUBE_NOT_FOUND with the server message, not retryable', async (t) => {
  const err = await kube.get({ kind: 'Deployment', namespace: 'ai-ninja', name: 'nope' }, { signal: signal() }).catch((e: unknown) => e);
  t.type(err, RemediatorError);
  const e = err as RemediatorError;
  t.equal(e.code, 'REM_ERR_KUBE_NOT_FOUND');
  t.equal(e.retryable, false);
  t.match(e.message, /get deployments\.apps "nope" in namespace "ai-ninja": not found: deployments\.apps "nope" not found/);
});

t.test('403 names the verb and resource', async (t) => {
  sim.denyAccess({ verb: 'patch', resource: 'configmaps', namespace: 'kube-system' });
  sim.put({ kind: 'ConfigMap', metadata: { namespace: 'kube-system', name: 'app-config' }, data: {} });
  const err = (await kube
    .patch(
      { kind: 'ConfigMap', namespace: 'kube-system', name: 'app-config' },
      { type: 'merge', body: { data: { a: 'b' } } },
      { signal: signal() },
    )
    .catch((e: unknown) => e)) as RemediatorError;
  t.equal(err.code, 'REM_ERR_KUBE_FORBIDDEN');
  t.match(err.message, /forbidden to patch configmaps "app-config" in namespace "kube-system": configmaps "app-config" is forbidden/);
  t.equal(err.retryable, false);
});

t.test('429 and 500 are REM_ERR_KUBE_UNAVAILABLE (retryable), 409 is a conflict', async (t) => {
  for (const status of [429, 500, 409] as const) {
    sim.faults.injectErrors({ status, count: 1, match: { method: 'GET', pathIncludes: '/deployments/realtime-processor' } });
    const err = (await kube
      .get({ kind: 'Deployment', namespace: 'ai-ninja', name: 'realtime-processor' }, { signal: signal() })
      .catch((e: unknown) => e)) as RemediatorError;
    t.equal(err.code, status === 409 ? 'REM_ERR_KUBE_CONFLICT' : 'REM_ERR_KUBE_UNAVAILABLE', `status ${status}`);
    t.equal(err.retryable, true);
  }
});

t.test('patches carry the content type of their strategy and the field manager', async (t) => {
  const from = sim.requests.length;
  const ref = { kind: 'Deployment' as const, namespace: 'ai-ninja', name: 'profile-analytics' };
  await kube.patch(ref, { type: 'strategic', body: { metadata: { annotations: { a: '1' } } } }, { signal: signal() });
  await kube.patch(ref, { type: 'merge', body: { metadata: { annotations: { b: '2' } } } }, { signal: signal() });
  await kube.patch(
    ref,
    { type: 'json', body: [{ op: 'add', path: '/metadata/annotations/c', value: '3' }] },
    { signal: signal(), fieldManager: 'other' },
  );
  const patches = sim.requests.slice(from).filter((r) => r.method === 'PATCH');
  t.same(
    patches.map((r) => r.contentType),
    ['application/strategic-merge-patch+json', 'application/merge-patch+json', 'application/json-patch+json'],
  );
  t.same(
    patches.map((r) => r.query.fieldManager),
    ['remediator', 'remediator', 'other'],
  );
  t.same(
    patches.map((r) => r.userAgent),
    ['remediator', 'remediator', 'remediator'],
  );
  const d = sim.get('Deployment', 'ai-ninja', 'profile-analytics');
  t.match(d.metadata.annotations, { a: '1', b: '2', c: '3' });
});

t.test('dry run sends dryRun=All and changes nothing', async (t) => {
  const before = sim.get('ConfigMap', 'ai-ninja', 'app-config');
  const from = sim.requests.length;
  const would = await kube.patch(
    { kind: 'ConfigMap', namespace: 'ai-ninja', name: 'app-config' },
    { type: 'merge', body: { data: { mode: 'dry' } } },
    { signal: signal(), dryRun: true },
  );
  t.equal(would.data?.mode, 'dry', 'the answer is the would-be object');
  t.equal(sim.requests[from]?.query.dryRun, 'All');
  t.same(sim.get('ConfigMap', 'ai-ninja', 'app-config'), before);
});

t.test("the caller's abort surfaces as its own reason; the per-call timeout as UNAVAILABLE", async (t) => {
  const ac = new AbortController();
  ac.abort(new Error('run cancelled'));
  const aborted = await kube
    .get({ kind: 'Deployment', namespace: 'ai-ninja', name: 'phone-gateway' }, { signal: ac.signal })
    .catch((e: unknown) => e);
  t.match((aborted as Error).message, 'run cancelled');
  // A server that accepts and never answers.
  const net = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const hang = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const port = (hang.address() as { port: number }).port;
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(`${tmpdir()}/remediator-hang-`);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    `${dir}/config`,
    `apiVersion: v1\nkind: Config\nclusters: [{name: h, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: h, context: {cluster: h, user: u}}]\ncurrent-context: h\n`,
  );
  const slow = createCluster({ kubeconfig: `${dir}/config`, requestTimeoutMs: 200 });
  const err = (await slow
    .get({ kind: 'Deployment', namespace: 'x', name: 'y' }, { signal: signal() })
    .catch((e: unknown) => e)) as RemediatorError;
  t.equal(err.code, 'REM_ERR_KUBE_UNAVAILABLE');
  // Gave up because of the request timeout (the server never answers), said in the error, not measured in ms.
  t.match(err.message, /no answer from the API server in time/, 'gave up after the request timeout');
  await slow.close();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((r) => hang.close(() => r()));
});

t.test('createCluster: a named context, the default loading order ($KUBECONFIG), and an unknown context refused', async (t) => {
  t.throws(() => createCluster({ kubeconfig, context: 'nope' }), { code: 'REM_ERR_CONFIG_INVALID' });
  const named = createCluster({ kubeconfig, context: 'kube-sim' });
  t.match(named.description, /^https?:\/\/127\.0\.0\.1:\d+ \(context kube-sim\)$/, 'description names server and context, no credentials');
  t.equal(
    (await named.get({ kind: 'Deployment', namespace: 'ai-ninja', name: 'phone-gateway' }, { signal: signal() })).metadata.name,
    'phone-gateway',
  );
  await named.close();
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = kubeconfig;
  t.teardown(() => {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  });
  const byDefault = createCluster();
  t.equal(
    (await byDefault.get({ kind: 'Service', namespace: 'ai-ninja', name: 'phone-gateway' }, { signal: signal() })).spec.selector?.app,
    'phone-gateway',
  );
  await byDefault.close();
  t.throws(() => createCluster({ kubeconfig: '/nonexistent/kubeconfig' }), { code: 'REM_ERR_CONFIG_INVALID' });
});

t.test('lists pods by selector and reads logs', async (t) => {
  addDeployment(sim, { namespace: 'default', name: 'web', image: 'nginx:1.25', replicas: 2 });
  await sim.settle();
  const pods = await kube.listPods('default', 'app=web', { signal: signal() });
  t.equal(pods.length, 2);
  const log = await kube.readLog('default', pods[0]!.metadata.name, { signal: signal(), tailLines: 5 });
  t.equal(typeof log, 'string');
});

t.test('SelfSubjectAccessReview answers per rule', async (t) => {
  sim.denyAccess({ verb: 'delete', resource: 'pods', namespace: 'ai-ninja' });
  t.equal((await kube.canI({ verb: 'delete', group: '', resource: 'pods', namespace: 'ai-ninja' }, { signal: signal() })).allowed, false);
  t.equal((await kube.canI({ verb: 'delete', group: '', resource: 'pods', namespace: 'default' }, { signal: signal() })).allowed, true);
});

import t, { type Test } from 'tap';
import { pino } from 'pino';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService, fixture, serviceDownPlaybook } from '../support/harness.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { kubeconfigYaml } from '../../src/sim/kubeconfig.ts';
import { simCluster } from '../kube/sim-cluster.ts';

/**
 * /readyz: a receiver is ready when Redis answers and playbooks are loaded. Kubernetes reachability and the RBAC
 * pre-flight are shown as detail and never make it unready, since the webhook records alerts without them. They are
 * reported by the processes that talk to Kubernetes (roles `all` and `worker`): a receiver-only process loads no
 * Kubernetes client at all. So these tests run role `all`, which serves the webhook too.
 */
const restartPlaybook = `apiVersion: remediator.io/v1
kind: Playbook
metadata:
  name: restart-shop
spec:
  triggers:
    - matchers: ['alertname="ShopDown"']
  steps:
    - id: restart
      action: kube.rolloutRestart
      with: { namespace: shop, name: web }
`;

const dir = await mkdtemp(join(tmpdir(), 'remediator-readyz-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
// Nothing listens there: every request to the API server is refused.
const closedPort = await freePort();
const unreachable = join(dir, 'kubeconfig');
await writeFile(unreachable, kubeconfigYaml(`http://127.0.0.1:${closedPort}`, 'not-a-real-token'), { mode: 0o600 });

const svc = await startTestService({
  playbooks: { 'sd.yaml': serviceDownPlaybook(), 'restart.yaml': restartPlaybook },
  role: 'all',
  overrides: (c) => (c.kubernetes = { enabled: true, kubeconfig: unreachable, requestTimeout: '2s' }),
});
const firing = await fixture('alertmanager/firing.json');
const readyz = async (url: string) => {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as any };
};
/**
 * The Kubernetes round runs behind the probe; /readyz answers with "unknown" until its first round ends. Every answer
 * meanwhile must already be 200.
 */
const settledReadyz = async (t: Test, url: string) => {
  for (let i = 0; ; i++) {
    const ready = await readyz(url);
    if (ready.body.checks.kubernetes?.detail?.reachable !== 'unknown' || i >= 100) return ready;
    t.equal(ready.status, 200, 'ready while the Kubernetes round is in flight');
    await new Promise((r) => setTimeout(r, 100));
  }
};

t.test('Kubernetes API unreachable: still ready (200), and the detail says the API server could not be reached', async (t) => {
  const ready = await settledReadyz(t, svc.url);
  t.equal(ready.status, 200);
  t.equal(ready.body.ok, true);
  t.same(ready.body.checks.redis, { ok: true });
  t.equal(ready.body.checks.playbooks.ok, true);
  const kube = ready.body.checks.kubernetes;
  t.equal(kube.ok, false, 'the Kubernetes entry itself is not ok');
  t.equal(kube.required, false, 'and says readiness does not depend on it');
  t.equal(kube.detail.reachable, false);
  t.match(kube.detail.server, `127.0.0.1:${closedPort}`);
  t.match(kube.detail.error, /ECONNREFUSED|connect|refused/i);

  const res = await svc.post(firing);
  t.equal(res.status, 202, 'the webhook works meanwhile');
  t.equal(res.body.alerts[0].decision, 'started');
});

t.test('Redis down: 503, with the Kubernetes detail still shown', async (t) => {
  await svc.redis!.kill(true);
  t.teardown(() => svc.redis!.start());
  const down = await readyz(svc.url);
  t.equal(down.status, 503);
  t.equal(down.body.ok, false);
  t.equal(down.body.checks.redis.ok, false);
  t.equal(down.body.checks.kubernetes.required, false);
});

t.test('Kubernetes reachable but a permission missing: ready, and the detail names the permission', async (t) => {
  const { sim, kubeconfig } = await simCluster();
  sim.denyAccess({ verb: 'patch', resource: 'deployments', namespace: 'shop' });
  const other = await startTestService({
    playbooks: { 'restart.yaml': restartPlaybook },
    role: 'all',
    overrides: (c) => (c.kubernetes = { enabled: true, kubeconfig }),
  });
  const ready = await settledReadyz(t, other.url);
  t.equal(ready.status, 200);
  const kube = ready.body.checks.kubernetes;
  t.equal(kube.ok, false);
  t.equal(kube.required, false);
  t.equal(kube.detail.reachable, true);
  t.equal(kube.detail.allGranted, false);
  t.same(kube.detail.missing, ['patch deployments.apps (namespace shop)']);
  t.same(
    kube.detail.denied,
    [{ playbook: 'restart-shop', step: 'restart', permission: 'patch deployments.apps (namespace shop)' }],
    'the step that could not act is named',
  );
  const metrics = await (await fetch(`${other.url}/metrics`)).text();
  t.match(
    metrics,
    /^remediator_preflight_denied\{playbook="restart-shop",step="restart",verb="patch",resource="deployments.apps"\} 1$/m,
    'and counted in a gauge',
  );
});

t.test('pre-flight runs at start-up: the log names every step that could not act before /readyz is ever asked', async (t) => {
  const { sim, kubeconfig } = await simCluster();
  sim.denyAccess({ verb: 'patch', resource: 'deployments', namespace: 'shop' });
  const lines: any[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  // A step whose kind comes from the alert: its permissions are known only then, so pre-flight says it is unchecked.
  const templated = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: env-any-kind }
spec:
  triggers: [{ matchers: ['alertname="AnyKind"'] }]
  steps:
    - id: env
      action: kube.setEnv
      with: { namespace: shop, name: web, kind: "{{ labels.kind }}", env: { A: b } }
`;
  const other = await startTestService({
    playbooks: { 'restart.yaml': restartPlaybook, 'templated.yaml': templated },
    role: 'all',
    log,
    overrides: (c) => (c.kubernetes = { enabled: true, kubeconfig }),
  });
  const deadline = Date.now() + 10_000;
  while (!lines.some((l) => l.code === 'REM_ERR_PREFLIGHT_DENIED') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const denied = lines.filter((l) => l.code === 'REM_ERR_PREFLIGHT_DENIED');
  t.same(
    denied.map((l) => l.msg),
    ['pre-flight: playbook restart-shop step restart cannot patch deployments.apps (namespace shop)'],
  );
  t.equal(sim.requests.filter((r) => r.path.includes('selfsubjectaccessreviews')).length > 0, true, 'asked with SelfSubjectAccessReviews');
  const metrics = await (await fetch(`${other.url}/metrics`)).text();
  t.match(metrics, /remediator_preflight_denied\{playbook="restart-shop",step="restart",verb="patch",resource="deployments.apps"\} 1/);
  t.ok(
    lines.some(
      (l) =>
        l.msg ===
        'pre-flight: playbook env-any-kind step env is unchecked: its permissions depend on kind known only when an alert arrives',
    ),
    'a step pre-flight cannot check is said, not left out',
  );
  const ready = await settledReadyz(t, other.url);
  t.same(ready.body.checks.kubernetes.detail.unchecked, [
    { playbook: 'env-any-kind', step: 'env', why: 'its permissions depend on kind known only when an alert arrives' },
  ]);
});

import t from 'tap';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { simCluster } from '../kube/sim-cluster.ts';
import { tmpdir } from 'node:os';
import { runCli } from '../support/run-cli.ts';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// The `remediator` command as a user runs it: spawned, with its real stdout, stderr and exit code.

const shipped = fileURLToPath(new URL('../../playbooks', import.meta.url));
const version = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string;

const dir = await mkdtemp(join(tmpdir(), 'remediator-cli-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const write = async (name: string, text: string) => {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
};

t.test('--version prints the package.json version', async (t) => {
  const ran = await runCli(['--version']);
  t.equal(ran.code, 0);
  t.equal(ran.stdout, `${version}\n`);
});

t.test('lint --config checks the shipped playbooks against the services that config enables, escalation included', async (t) => {
  // A kubeconfig that loads, whose server does not exist (pre-flight cannot ask it).
  const kubeconfig = await write(
    'kubeconfig',
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]
users: [{ name: u, user: { token: t0k3n } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
  );
  const full = await write(
    'full.yaml',
    `playbooks: { dir: "${shipped}" }
kubernetes: { enabled: true, kubeconfig: "${kubeconfig}" }
prometheus: { url: "http://127.0.0.1:1" }
alertmanager: { url: "http://127.0.0.1:1" }
escalation: { targets: { pd: { type: pagerduty, routingKey: "0123456789abcdef0123456789abcdef" } } }
`,
  );
  const ok = await runCli(['lint', '--config', full]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /^ok: \d+ playbook\(s\) valid$/m);
  t.match(
    ok.stderr,
    /^warning: pre-flight did not run: the API server could not be asked/m,
    'nothing listens there: pre-flight is a warning, not a failure',
  );
  const offline = await runCli(['lint', '--config', full, '--no-preflight']);
  t.equal(offline.code, 0, offline.stderr);
  t.equal(offline.stderr, '', '--no-preflight asks nothing');

  // Without escalation targets, the playbooks that page are refused, as start-up would refuse them.
  const noEscalation = await write(
    'no-escalation.yaml',
    `playbooks: { dir: "${shipped}" }\nkubernetes: { enabled: true, kubeconfig: "${kubeconfig}" }\nprometheus: { url: "http://127.0.0.1:1" }\n`,
  );
  const refused = await runCli(['lint', '--config', noEscalation]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /escalat/i, 'a playbook that pages needs escalation');
});

t.test('lint --config with Kubernetes enabled and no kubeconfig reports a problem line, not a stack trace', async (t) => {
  const missing = join(dir, 'no-such-kubeconfig');
  const config = await write(
    'missing-kube.yaml',
    `playbooks: { dir: "${shipped}" }\nkubernetes: { enabled: true, kubeconfig: "${missing}" }\n`,
  );
  const ran = await runCli(['lint', '--config', config]);
  t.equal(ran.code, 1);
  t.match(
    ran.stderr,
    new RegExp(`^${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot load the Kubernetes configuration: .*no-such-kubeconfig`, 'm'),
  );
  t.notMatch(ran.stderr, /^\s+at /m, 'no stack trace');
  t.match(ran.stderr, /^\d+ problem\(s\)$/m);
});

t.test('lint --config asks the API server whether every step may act, and fails naming each step that could not', async (t) => {
  const { sim, kubeconfig } = await simCluster();
  const playbooks = join(dir, 'preflight-playbooks');
  await mkdir(playbooks);
  await writeFile(
    join(playbooks, 'restart.yaml'),
    `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: restart-shop }
spec:
  triggers: [{ matchers: ['alertname="ShopDown"', 'namespace="shop"'] }]
  steps:
    - id: restart
      action: kube.rolloutRestart
      with: { namespace: "{{ labels.namespace }}", name: web }
    - id: scale
      action: kube.scale
      with: { namespace: "{{ labels.namespace }}", name: web, replicas: 3 }
`,
  );
  const config = await write(
    'preflight.yaml',
    `playbooks: { dir: "${playbooks}" }\nkubernetes: { enabled: true, kubeconfig: "${kubeconfig}" }\n`,
  );
  const granted = await runCli(['lint', '--config', config]);
  t.equal(granted.code, 0, granted.stderr);
  t.equal(granted.stderr, '');
  t.ok(
    sim.requests.some((r) => r.path.endsWith('/selfsubjectaccessreviews')),
    'asked with SelfSubjectAccessReviews',
  );

  sim.denyAccess({ verb: 'patch', resource: 'deployments', namespace: 'shop' });
  sim.denyAccess({ verb: 'update', resource: 'deployments/scale', namespace: 'shop' });
  const denied = await runCli(['lint', '--config', config]);
  t.equal(denied.code, 1);
  const lines = denied.stderr.split('\n').filter((l) => l.includes('REM_ERR_PREFLIGHT_DENIED'));
  // Files are named as the other problems are: relative to where lint runs.
  const file = relative(process.cwd(), join(playbooks, 'restart.yaml'));
  t.same(lines, [
    `${file}: playbook restart-shop step restart cannot patch deployments.apps (namespace shop) (REM_ERR_PREFLIGHT_DENIED)`,
    `${file}: playbook restart-shop step scale cannot update deployments/scale.apps (namespace shop) (REM_ERR_PREFLIGHT_DENIED)`,
  ]);
  t.match(denied.stderr, /^2 problem\(s\)$/m);
});

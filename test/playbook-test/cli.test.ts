import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisForTest } from '../support/redis.ts';
import { alertFingerprint } from '../../src/playbook-test/alert-fingerprint.ts';
import { clusterWrites } from '../../src/playbook-test/cluster-writes.ts';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

t.test('`remediator test` prints one line per case, the diff of a failure, and exits 1', async (t) => {
  const redis = await redisForTest();
  const root = await mkdtemp(join(tmpdir(), 'remediator-pt-cli-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'tests'));
  await writeFile(
    join(root, 'note.yaml'),
    `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: note }
spec:
  triggers: [{ matchers: ['alertname="Down"'] }]
  steps:
    - { id: note, action: log, with: { message: "{{ labels.deployment }} is down" } }
    - { id: up, gate: prometheus.query, with: { query: 'up{job="{{ labels.deployment }}"}', expect: { op: "==", value: 1 } }, interval: 10s, timeout: 5m, successes: 2 }
`,
  );
  await writeFile(
    join(root, 'tests', 'note.test.yaml'),
    `tests:
  - name: comes back by itself
    alerts: [{ labels: { alertname: Down, deployment: checkout } }]
    world: { prometheus: [{ query: 'up{job="checkout"}', answers: [[0], [1]] }] }
    expect: { status: succeeded, mutations: [], escalations: [] }
  - name: expects the wrong thing
    alerts: [{ labels: { alertname: Down, deployment: checkout } }]
    world: { prometheus: [{ query: 'up{job="checkout"}', answers: [[0]] }] }
    expect: { status: succeeded }
`,
  );
  const junitFile = join(root, 'reports', 'junit.xml');
  const child = spawn(
    join(fileURLToPath(new URL('../../node_modules/.bin/', import.meta.url)), 'node'),
    [main, 'test', join(root, 'tests'), '--junit', junitFile],
    {
      env: { ...process.env, REDIS_URL: redis.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 1, code === 1 ? 'exit 1: a case failed' : out);
  // Real time, then virtual time: 20 s (two more polls 10 s apart) for the first; the failing gate's whole 5-minute
  // window for the second (its last poll comes 290 s in).
  t.match(out, /^ok {3}.*note\.test\.yaml › comes back by itself \(\d+\.\ds, \d+s virtual\)$/m);
  t.match(out, /^FAIL .*note\.test\.yaml › expects the wrong thing \(\d+\.\ds, (4m[5-9]\ds|5m(\d+s)?) virtual\)$/m);
  t.match(out, /note\.test\.yaml:6:11$/m, 'the failing case is located');
  t.match(out, /status: expected succeeded, got escalated/);
  t.match(out, /\[main\] up \(prometheus\.query\): failed/);
  t.match(out, /^FAIL: 1 passed, 1 failed in/m);

  // The JUnit report: one testcase per case, the failure with the field-named diff.
  const xml = await readFile(junitFile, 'utf8');
  t.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>/);
  t.match(xml, /<testsuites tests="2" failures="1" errors="0"/);
  const cases = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)" time="([\d.]+)"(\/>|>)/g)].map((m) => [
    m[1]!.endsWith('note.test.yaml'),
    m[2],
    Number(m[3]) > 0,
    m[4],
  ]);
  t.same(
    cases,
    [
      [true, 'comes back by itself', true, '/>'],
      [true, 'expects the wrong thing', true, '>'],
    ],
    'a passing and a failing testcase',
  );
  t.match(xml, /<failure message="differs: status(, [a-z]+)*" type="mismatch">/, 'the failure names the fields that differ');
  t.match(xml, /status: expected succeeded, got escalated/, 'and carries the diff');
});

t.test('test alerts carry the fingerprint Alertmanager computes', async (t) => {
  const recorded = JSON.parse(await readFile(new URL('../fixtures/alertmanager/firing.json', import.meta.url), 'utf8'));
  for (const a of recorded.alerts) t.equal(alertFingerprint(a.labels), a.fingerprint);
});

t.test('mutations are the writes, named like kubectl shows them; reads, events and access reviews are not', async (t) => {
  const req = (method: string, path: string, body = '', query: Record<string, string> = {}) => ({ method, path, query, body });
  t.same(
    clusterWrites([
      req('GET', '/apis/apps/v1/namespaces/ai-ninja/deployments/phone-gateway'),
      req('PATCH', '/apis/apps/v1/namespaces/ai-ninja/deployments/phone-gateway'),
      req('POST', '/api/v1/namespaces/ai-ninja/events', '{"metadata":{"name":"x.1"}}'),
      req('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'),
      req('PUT', '/apis/apps/v1/namespaces/ai-ninja/deployments/phone-gateway-backup/scale'),
      req('POST', '/api/v1/namespaces/ai-ninja/configmaps', '{"metadata":{"name":"backup"}}'),
      req('DELETE', '/api/v1/namespaces/ai-ninja/pods/phone-gateway-abc'),
      req('PATCH', '/api/v1/namespaces/ai-ninja/configmaps/app-config', '', { dryRun: 'All' }),
    ]),
    [
      'PATCH deployments/phone-gateway',
      'PUT deployments/phone-gateway-backup/scale',
      'POST configmaps/backup',
      'DELETE pods/phone-gateway-abc',
      'PATCH configmaps/app-config (dry-run)',
    ],
  );
});

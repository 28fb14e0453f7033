import t from 'tap';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { startRemediator } from '../../src/main.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { redisForTest } from '../support/redis.ts';

// `serve` runs without a playbook the configuration cannot serve (here: it needs Prometheus, none is configured)
// and says so before an incident: in /readyz and in a gauge. The tools keep refusing (start-refused.test.ts).

const needsPrometheus = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: needs-prom }
spec:
  triggers: [{ matchers: ['alertname="A"'] }]
  steps:
    - id: check
      gate: prometheus.query
      with: { query: 'up == 1', expect: nonEmpty }
`;
const plain = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: plain }
spec:
  triggers: [{ matchers: ['alertname="B"'] }]
  steps:
    - { id: say, action: log, with: { message: hi } }
`;

const redis = await redisForTest();
const dir = await mkdtemp(join(tmpdir(), 'remediator-not-in-force-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
await writeFile(join(dir, 'needs-prom.yaml'), needsPrometheus);
await writeFile(join(dir, 'plain.yaml'), plain);
const config = await loadConfig({
  env: {},
  overrides: (c) => {
    c.server = { host: '127.0.0.1', port: 0 };
    c.redis = { url: redis.url, prefix: 'nif' };
    c.auth = { webhook: { bearerTokens: ['token-0123456789abcdef'] }, operators: [] };
    c.playbooks = { dir, watch: false };
    c.kubernetes = { enabled: false };
  },
});

t.test('the tools refuse to start; serve leaves the playbook out and says why', async (t) => {
  await t.rejects(startRemediator(config, { role: 'all', log: silentLogger() }), {
    code: 'REM_ERR_PLAYBOOK_INVALID',
    message: /needs-prom\.yaml:\d+:\d+: "prometheus\.query" needs prometheus, which is not configured/,
  });

  const service = await startRemediator(config, { role: 'all', log: silentLogger(), unservable: 'leave-out' });
  t.teardown(() => service.close());
  const ready = await fetch(`${service.url}/readyz`);
  t.equal(ready.status, 200, 'ready: the rest of the set is in force');
  const body = (await ready.json()) as {
    checks: { playbooks: { detail: { loaded: string[]; notInForce: Array<{ playbook: string; reasons: string[] }> } } };
  };
  t.same(body.checks.playbooks.detail.loaded, ['plain']);
  t.same(
    body.checks.playbooks.detail.notInForce.map((u) => [u.playbook, u.reasons]),
    [['needs-prom', ['"prometheus.query" needs prometheus, which is not configured']]],
  );
  const metrics = await (await fetch(`${service.url}/metrics`)).text();
  t.match(metrics, /^remediator_playbooks_not_in_force\{playbook="needs-prom"\} 1$/m);
  t.match(metrics, /^remediator_playbooks_loaded 1$/m);
  t.match(metrics, /^remediator_playbook_reload_failing 0$/m);
});

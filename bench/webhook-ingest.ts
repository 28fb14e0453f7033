/**
 * Webhook ingest benchmark: how many Alertmanager notifications one receiver process takes per second, and at what
 * latency, with every episode claimed durably in a real redis-server before the 202.
 *
 * Three loads, each for `--seconds` (default 10) at `--connections` (default 32):
 *   new-episodes   every request carries one alert never seen before → one episode claim + one run + one job each
 *   repeats        the same notification again and again (repeat_interval, HA twins) → deduplicated, nothing new
 *   groups-of-50   one notification of 50 new alerts (a large Alertmanager group)
 * Prints requests/s, alerts/s, latency percentiles, non-2xx answers and the receiver's RSS and heap.
 * The worker is not running: this measures the receive path the durability rule puts on the hot path.
 */
import autocannon from 'autocannon';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.ts';
import { startRemediator } from '../src/main.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { spawnRedis } from '../src/dev/redis-process.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const TOKEN = 'bench-token-0123456789abcdef';

const PLAYBOOK = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: bench }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
  steps:
    - id: note
      action: log
      with: { message: "{{ labels.deployment }} is down" }
`;

export async function benchWebhookIngest(): Promise<void> {
  const redis = await spawnRedis();
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-'));
  await writeFile(join(dir, 'bench.yaml'), PLAYBOOK);
  const config = await loadConfig({
    env: {},
    overrides: (c) => {
      c.server = { host: '127.0.0.1', port: 0 };
      c.redis = { url: redis.url, prefix: 'bench' };
      c.auth = { webhook: { bearerTokens: [TOKEN] }, operators: [] };
      c.playbooks = { dir, watch: false };
      c.kubernetes = { enabled: false };
    },
  });
  const service = await startRemediator(config, { role: 'receiver', log: silentLogger() });
  const template = JSON.parse(await readFile(new URL('../test/fixtures/alertmanager/firing.json', import.meta.url), 'utf8'));
  let seq = 0;
  const notification = (alerts: number): string => {
    const list = [];
    for (let i = 0; i < alerts; i++) {
      const n = seq++;
      list.push({ ...template.alerts[0], labels: { ...template.alerts[0].labels, deployment: `svc-${n}` }, fingerprint: n.toString(16).padStart(16, '0') });
    }
    return JSON.stringify({ ...template, alerts: list });
  };
  const fixed = JSON.stringify(template);
  const loads: Array<{ name: string; alertsPerRequest: number; body: () => string }> = [
    { name: 'new-episodes', alertsPerRequest: 1, body: () => notification(1) },
    { name: 'repeats', alertsPerRequest: 1, body: () => fixed },
    { name: 'groups-of-50', alertsPerRequest: 50, body: () => notification(50) },
  ];
  console.log(`webhook ingest: ${seconds}s per load, ${connections} connections, redis-server ${redis.url}`);
  console.log('load            req/s    alerts/s   p50 ms  p97.5 ms  p99 ms  max ms  non-2xx  rss MiB  heap MiB');
  try {
    for (const load of loads) {
      const result = await autocannon({
        url: `${service.url}/v1/alertmanager`,
        method: 'POST',
        connections,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        requests: [{ setupRequest: (req) => ({ ...req, body: load.body() }) }],
      });
      const mem = process.memoryUsage();
      const non2xx = result.non2xx + result.errors + result.timeouts;
      const reqs = result.requests.average;
      console.log(
        [
          load.name.padEnd(14),
          reqs.toFixed(0).padStart(7),
          (reqs * load.alertsPerRequest).toFixed(0).padStart(10),
          String(result.latency.p50).padStart(8),
          String(result.latency.p97_5).padStart(9),
          String(result.latency.p99).padStart(7),
          String(result.latency.max).padStart(7),
          String(non2xx).padStart(8),
          (mem.rss / 2 ** 20).toFixed(0).padStart(8),
          (mem.heapUsed / 2 ** 20).toFixed(0).padStart(9),
        ].join(' '),
      );
    }
  } finally {
    await service.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchWebhookIngest();

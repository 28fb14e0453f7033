/**
 * Redis topology benchmark: the same receiver on standalone Redis, on Sentinel (1 master, 2 replicas, 3 sentinels)
 * and on Cluster (3 masters with a replica each), all from Debian's packages on loopback. On Sentinel and Cluster a
 * webhook's 202 waits for `WAIT 1` (redis.minReplicasAcked: 1), so the figures show what that durability costs.
 *
 * For each topology:
 *   ingest   `--seconds` (default 5, `--quick` 2) of new episodes at `--connections` (default 32): requests/s and
 *            latency
 *   storm    2,000 deliveries (100 episodes × 20: repeats, HA twins) from 16 senders to a receiver with its worker
 *            running: time until every delivery got its 202, and until every run ended
 */
import autocannon from 'autocannon';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config/load-config.ts';
import { startRemediator } from '../src/main.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { spawnRedis } from '../src/dev/redis-process.ts';
import { spawnRedisCluster, spawnRedisSentinel } from '../src/dev/redis-ha.ts';
import { quickMode } from './bench-processes.ts';

const TOKEN = 'bench-token-0123456789abcdef';
const EPISODES = 100;
const DELIVERIES_PER_EPISODE = 20;
const SENDERS = 16;
const FINAL = new Set(['succeeded', 'completed', 'failed', 'escalated', 'cancelled', 'skipped']);

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

interface Topology {
  name: string;
  settings: Record<string, unknown>;
  stop(): Promise<void>;
}

async function topologies(): Promise<Array<() => Promise<Topology>>> {
  return [
    async () => {
      const r = await spawnRedis();
      return { name: 'standalone', settings: { url: r.url }, stop: () => r.stop() };
    },
    async () => {
      const s = await spawnRedisSentinel({ replicas: 2, sentinels: 3 });
      return { name: 'sentinel', settings: s.settings, stop: () => s.stop() };
    },
    async () => {
      const c = await spawnRedisCluster({ masters: 3, replicasPerMaster: 1 });
      return { name: 'cluster', settings: c.settings, stop: () => c.stop() };
    },
  ];
}

export interface TopologyOptions {
  /** Seconds of ingest per topology. Default 5 (quick: 2). */
  seconds?: number;
  /** autocannon connections of the ingest. Default 32. */
  connections?: number;
}

export async function benchRedisTopologies(options: TopologyOptions = {}): Promise<void> {
  const seconds = options.seconds ?? (quickMode() ? 2 : 5);
  const connections = options.connections ?? 32;
  const template = JSON.parse(await readFile(new URL('../test/fixtures/alertmanager/firing.json', import.meta.url), 'utf8'));
  const alert = (n: number, startsAt = template.alerts[0].startsAt) => ({
    ...template.alerts[0],
    startsAt,
    labels: { ...template.alerts[0].labels, deployment: `svc-${n}` },
    fingerprint: n.toString(16).padStart(16, '0'),
  });
  console.log(
    `redis topologies: ingest ${seconds}s at ${connections} connections; storm ${EPISODES * DELIVERIES_PER_EPISODE} deliveries (${EPISODES} episodes) from ${SENDERS} senders, worker running`,
  );
  console.log('topology     ingest req/s  p50 ms  p99 ms  non-2xx   storm 202s ms  runs ended ms  storm non-2xx');
  for (const start of await topologies()) {
    const topology = await start();
    const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-'));
    await writeFile(join(dir, 'bench.yaml'), PLAYBOOK);
    const config = await loadConfig({
      env: {},
      overrides: (c) => {
        c.server = { host: '127.0.0.1', port: 0 };
        c.redis = { ...topology.settings, prefix: 'bench', minReplicasAcked: 1 };
        c.auth = { webhook: { bearerTokens: [TOKEN] }, operators: [] };
        c.playbooks = { dir, watch: false };
        c.kubernetes = { enabled: false };
        c.worker = { concurrency: 16 };
        c.logging = { level: 'silent' };
      },
    });
    const service = await startRemediator(config, { role: 'all', log: silentLogger() });
    try {
      // Ready: the store answers (a Cluster client needs its slot map first).
      for (;;) {
        try {
          await service.store.ping();
          break;
        } catch {
          await sleep(50);
        }
      }
      let seq = 1_000_000;
      const ingest = await autocannon({
        url: `${service.url}/v1/alertmanager`,
        method: 'POST',
        connections,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ ...template, alerts: [alert(seq++)] }) }) }],
      });

      const order = Array.from({ length: EPISODES * DELIVERIES_PER_EPISODE }, (_, k) => k % EPISODES).sort(() => Math.random() - 0.5);
      const runIds = new Set<string>();
      let next = 0;
      let refused = 0;
      const began = Date.now();
      const sender = async () => {
        while (next < order.length) {
          const body = JSON.stringify({ ...template, alerts: [alert(order[next++]!, '2026-12-01T10:00:00.000Z')] });
          for (;;) {
            const res = await fetch(`${service.url}/v1/alertmanager`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
              body,
            });
            const answer = (await res.json()) as { alerts?: Array<{ runs: Array<{ runId: string }> }> };
            if (res.status === 202) {
              runIds.add(answer.alerts![0]!.runs[0]!.runId);
              break;
            }
            refused++;
          }
        }
      };
      await Promise.all(Array.from({ length: SENDERS }, sender));
      const accepted = Date.now() - began;
      const open = new Set(runIds);
      while (open.size > 0) {
        for (const id of open) if (FINAL.has((await service.store.getRun(id))?.status ?? '')) open.delete(id);
        if (open.size > 0) await sleep(20);
      }
      const ended = Date.now() - began;
      console.log(
        [
          topology.name.padEnd(12),
          ingest.requests.average.toFixed(0).padStart(12),
          String(ingest.latency.p50).padStart(7),
          String(ingest.latency.p99).padStart(7),
          String(ingest.non2xx + ingest.errors + ingest.timeouts).padStart(8),
          String(accepted).padStart(14),
          String(ended).padStart(14),
          String(refused).padStart(14),
        ].join(' '),
      );
    } finally {
      await service.close();
      await topology.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
}

if (import.meta.main) {
  // Parsed only when run alone: imported by bench/run.ts, this file must not judge that command's arguments.
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, connections: { type: 'string' }, quick: { type: 'boolean' } } });
  await benchRedisTopologies({
    ...(values.seconds ? { seconds: Number(values.seconds) } : {}),
    ...(values.connections ? { connections: Number(values.connections) } : {}),
  });
}

/**
 * Resident memory per role, idle and through an alert storm. `remediator serve --role receiver` and `--role worker`
 * run as child processes with the shipped playbooks, a simulated cluster behind the worker's kubeconfig and one
 * redis-server; RSS is read from /proc once it has settled, and idle RSS no sooner than IDLE_AFTER_MS after start.
 *
 * The storm: 10,000 deliveries from 32 concurrent clients to the receiver, about 100 episodes of the four services
 * the shipped service-down playbook takes: repeats of one alert, HA twins (the same body twice in a row), mixed
 * groups of 2–20 alerts with some resolved, and alerts no playbook takes. The worker is stopped first, so the figure
 * is the receiver's alone. Prints idle RSS per role, the receiver's RSS at the end of the storm and its peak.
 */
import autocannon from 'autocannon';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnRedis } from '../src/dev/redis-process.ts';
import { startKubeSim } from '../src/sim/index.ts';
import {
  serve,
  settled,
  rssMiB,
  figure,
  quickMode,
  WEBHOOK_TOKEN,
  type Served,
  warmCompileCache,
  IDLE_AFTER_MS,
} from './bench-processes.ts';

export const RECEIVER_IDLE_MIB = 120;
export const WORKER_IDLE_MIB = 160;
export const RECEIVER_STORM_MIB = 200;

export async function benchMemory(options: { deliveries?: number } = {}): Promise<void> {
  const deliveries = options.deliveries ?? 10_000;
  const redis = await spawnRedis();
  const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 20 });
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-'));
  await warmCompileCache(dir);
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig, { scheme: 'http', namespace: 'ai-ninja' });
  const extra = { kubernetes: { enabled: true, kubeconfig } };
  let receiver: Served | undefined;
  let worker: Served | undefined;
  try {
    receiver = await serve({ role: 'receiver', redisUrl: redis.url, prefix: 'mem', dir, extra });
    worker = await serve({ role: 'worker', redisUrl: redis.url, prefix: 'mem', dir, extra });
    const [receiverIdle, workerIdle] = await Promise.all([
      settled(receiver.proc.pid, { minMs: IDLE_AFTER_MS }),
      settled(worker.proc.pid, { minMs: IDLE_AFTER_MS }),
    ]);
    await worker.proc.stop(10_000);

    const bodies = stormBodies(
      JSON.parse(await readFile(new URL('../test/fixtures/alertmanager/firing.json', import.meta.url), 'utf8')),
      deliveries,
    );
    let next = 0;
    const started = Date.now();
    const result = await autocannon({
      url: `${receiver.url}/v1/alertmanager`,
      method: 'POST',
      connections: 32,
      amount: bodies.length,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
    });
    const after = rssMiB(receiver.proc.pid);
    console.log(
      `memory: storm of ${result.requests.total} deliveries (32 clients) in ${((Date.now() - started) / 1000).toFixed(1)} s, ${result.non2xx + result.errors + result.timeouts} non-2xx, p99 ${result.latency.p99} ms`,
    );
    console.log(figure('receiver idle RSS', receiverIdle, 'MiB', { op: '<=', limit: RECEIVER_IDLE_MIB }));
    console.log(figure('worker idle RSS', workerIdle, 'MiB', { op: '<=', limit: WORKER_IDLE_MIB }));
    console.log(figure(`receiver RSS at the end of the storm`, after.rss, 'MiB', { op: '<=', limit: RECEIVER_STORM_MIB }));
    console.log(`${'receiver peak RSS during the storm (VmHWM)'.padEnd(46)} ${after.peak.toFixed(0).padStart(8)} MiB`);
  } finally {
    await receiver?.proc.stop();
    await worker?.proc.stop();
    await sim.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The storm's request bodies, deterministic (a fixed-seed generator), about 100 episodes. */
export function stormBodies(template: any, count: number): string[] {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const services = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'];
  const alert = (i: number, status: 'firing' | 'resolved' = 'firing') => {
    const service = services[i % services.length]!;
    const unmatched = i % 10 === 9;
    const base = template.alerts[0];
    return {
      ...base,
      status,
      labels: {
        ...base.labels,
        alertname: unmatched ? 'PodRestarting' : 'ServiceDown',
        deployment: service,
        service,
        job: service,
        instance: `10.0.0.${i}:8080`,
      },
      ...(status === 'resolved' ? { endsAt: '2026-11-25T12:30:00.000Z' } : {}),
      fingerprint: (0xabc000 + i).toString(16).padStart(16, '0'),
    };
  };
  const body = (alerts: unknown[]) => JSON.stringify({ ...template, groupKey: `{}:{bench="${rand(1000)}"}`, alerts });
  const out: string[] = [];
  while (out.length < count) {
    const kind = rand(10);
    if (kind < 4) out.push(body([alert(rand(100))]));
    else if (kind < 6) {
      const twin = body([alert(rand(100))]);
      out.push(twin, twin);
    } else {
      const size = 2 + rand(19);
      const group = [];
      for (let i = 0; i < size; i++) group.push(alert(rand(100), rand(10) === 0 ? 'resolved' : 'firing'));
      out.push(body(group));
    }
  }
  return out.slice(0, count);
}

if (import.meta.main) await benchMemory({ deliveries: quickMode() ? 3_000 : 10_000 });

/**
 * Alert → Kubernetes latency, idle, `remediator serve --role all`: how long after a webhook is sent the first
 * Kubernetes request arrives, and the first mutation (the rollout restart's PATCH). A request log (a small proxy in
 * this process) stands in front of the simulated cluster; the service's kubeconfig points at the proxy. Alerts are
 * sent one at a time, each for its own Deployment, each once the previous run ended and the simulated cluster (in a
 * process of its own, bench/kube-sim-child.ts, so that its work never delays the request log's clock) finished rolling
 * it out: idle means nothing else is going on.
 * The first WARM_UP alerts are not counted (the service's code is not compiled yet). Prints p50/p99/max;
 * BENCH_TRACE=1 also prints, for every sample, when the webhook was answered and every request, each with its time after
 * the alert.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, mkdir, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnRedis } from '../src/dev/redis-process.ts';
import { serve, figure, quickMode, WEBHOOK_TOKEN, OPERATOR_TOKEN, type Served, warmCompileCache } from './bench-processes.ts';

const PLAYBOOK = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: bench-restart }
spec:
  triggers: [{ matchers: ['alertname="BenchDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - id: restart
      action: kube.rolloutRestart
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
`;

/** Alerts sent before the counted ones: the first runs of a fresh process compile the code their path takes. */
const WARM_UP = 5;

interface Seen {
  at: number;
  method: string;
  path: string;
}

export async function benchKubeLatency(options: { samples?: number } = {}): Promise<void> {
  const samples = options.samples ?? 100;
  const redis = await spawnRedis();
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const sim = await simProcess(samples + WARM_UP, kubeconfig);
  await warmCompileCache(dir);
  const seen: Seen[] = [];
  const proxy = await requestLog(new URL(sim.url), seen);
  let service: Served | undefined;
  try {
    await writeFile(kubeconfig, (await readFile(kubeconfig, 'utf8')).replaceAll(sim.url, proxy.url));
    const playbooks = join(dir, 'playbooks');
    await mkdir(playbooks);
    await writeFile(join(playbooks, 'restart.yaml'), PLAYBOOK);
    service = await serve({
      role: 'all',
      redisUrl: redis.url,
      prefix: 'lat',
      dir,
      playbooksDir: playbooks,
      // Many targets in a row is the storm breaker's business, not this measurement's.
      extra: { kubernetes: { enabled: true, kubeconfig }, guards: { storm: { targets: 100_000, window: '10m' } } },
    });
    const template = JSON.parse(await readFile(new URL('../test/fixtures/alertmanager/firing.json', import.meta.url), 'utf8'));
    const first: number[] = [];
    const mutation: number[] = [];
    for (let i = 0; i < samples + WARM_UP; i++) {
      const labels = { ...template.alerts[0].labels, alertname: 'BenchDown', namespace: 'bench', deployment: `svc-${i}` };
      const body = JSON.stringify({ ...template, alerts: [{ ...template.alerts[0], labels, fingerprint: (0xbe000 + i).toString(16) }] });
      seen.length = 0;
      const t0 = performance.now();
      const res = await fetch(`${service.url}/v1/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
        body,
      });
      const answered = performance.now();
      const answer = (await res.json()) as { alerts: Array<{ runs: Array<{ runId: string }> }> };
      const runId = answer.alerts[0]?.runs[0]?.runId;
      if (res.status !== 202 || !runId) throw new Error(`webhook answered ${res.status}: ${JSON.stringify(answer)}`);
      await waitFor(() => seen.some((s) => s.method === 'PATCH'), 10_000, `no PATCH for ${runId}`);
      if (process.env.BENCH_TRACE)
        console.log(
          [`${(answered - t0).toFixed(1)} 202 ${runId}`, ...seen.map((s) => `${(s.at - t0).toFixed(1)} ${s.method} ${s.path}`)].join('\n'),
        );
      if (i >= WARM_UP) {
        first.push(seen[0]!.at - t0);
        mutation.push(seen.find((s) => s.method === 'PATCH')!.at - t0);
      }
      await waitFor(
        async () => {
          const run = (await (
            await fetch(`${service!.url}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })
          ).json()) as { status: string };
          return !['queued', 'running', 'waiting'].includes(run.status);
        },
        10_000,
        `run ${runId} did not end`,
      );
      await sim.settle();
    }
    console.log(
      `kube latency: ${samples} alerts one at a time (after ${WARM_UP} not counted), role all, request log in front of the simulated cluster`,
    );
    console.log(`  alert → first Kubernetes request  p50 ${pct(first, 50).toFixed(1)} ms  max ${Math.max(...first).toFixed(1)} ms`);
    console.log(`  alert → first mutation (PATCH)    p50 ${pct(mutation, 50).toFixed(1)} ms  max ${Math.max(...mutation).toFixed(1)} ms`);
    console.log(figure('alert → first Kubernetes request p99', pct(first, 99), 'ms', { op: '<=', limit: 30 }, 1));
    console.log(figure('alert → first mutation p99', pct(mutation, 99), 'ms', { op: '<=', limit: 60 }, 1));
  } finally {
    await service?.proc.stop();
    await new Promise((r) => proxy.server.close(r));
    await sim.stop();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The simulated cluster in its own process (bench/kube-sim-child.ts), seeded with `count` Deployments. */
async function simProcess(count: number, kubeconfig: string): Promise<{ url: string; settle(): Promise<void>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [new URL('./kube-sim-child.ts', import.meta.url).pathname, String(count), kubeconfig], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (what: string): Promise<string> => {
    const line = await Promise.race([lines.next(), exited.then(() => ({ done: true, value: undefined }))]);
    if (line.done) throw new Error(`the simulated cluster's process ended before ${what}`);
    return line.value as string;
  };
  const { url } = JSON.parse(await next('it was ready')) as { url: string };
  return {
    url,
    settle: async () => {
      child.stdin!.write('settle\n');
      await next('its rollouts settled');
    },
    stop: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}

/** A forwarding proxy that notes when each request arrived (performance.now() of this process). */
async function requestLog(upstream: URL, seen: Seen[]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    seen.push({ at: performance.now(), method: req.method ?? 'GET', path: req.url ?? '/' });
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, server };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

if (import.meta.main) await benchKubeLatency({ samples: quickMode() ? 20 : 100 });

/**
 * What the benchmarks share: `remediator serve` and the floor as child processes (so each is measured alone, with
 * its own heap and RSS), their resident memory read from /proc, and a config file written for them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { spawnBinary, waitForHttpReady, type BinaryProcess } from '../src/dev/binary-process.ts';
import { freePort } from '../src/dev/free-port.ts';

export const WEBHOOK_TOKEN = 'bench-webhook-token-0123456789';
export const OPERATOR_TOKEN = 'bench-operator-token-0123456789';

export interface ServeOptions {
  role: 'all' | 'receiver' | 'worker';
  redisUrl: string;
  /** Redis key prefix. */
  prefix: string;
  /** Folder the config file is written to. */
  dir: string;
  /** Default: the shipped playbooks folder. */
  playbooksDir?: string;
  /** Merged over the config (kubernetes, guards, prometheus …). */
  extra?: Record<string, unknown>;
}

export interface Served {
  proc: BinaryProcess;
  /** Base URL; undefined for a worker (no HTTP). */
  url?: string;
}

const BIN = new URL('../bin/remediator.js', import.meta.url).pathname;
const WARM = new URL('../bin/warm-compile-cache.js', import.meta.url).pathname;
const SHIPPED_PLAYBOOKS = new URL('../playbooks', import.meta.url).pathname;

const CHART_VALUES = new URL('../helm/remediator/values.yaml', import.meta.url);
const DOCKERFILE = new URL('../Dockerfile', import.meta.url);

/**
 * The environment a role gets in the image and the chart: NODE_OPTIONS from the chart's values for the receiver and
 * the worker, else (role `all`, the image's default command) the Dockerfile's; the glibc malloc settings
 * (`MALLOC_*`) of the Dockerfile's `ENV` lines, read from it so the two cannot drift; and a compile cache as the
 * Dockerfile sets one. Call warmCompileCache(dir) first, as the image build does.
 */
export async function shippedEnv(role: ServeOptions['role'], dir: string): Promise<Record<string, string>> {
  const values = parseYaml(await readFile(CHART_VALUES, 'utf8')) as Record<string, { nodeOptions?: string } | undefined>;
  const { NODE_OPTIONS: imageNodeOptions, ...image } = imageEnv(await readFile(DOCKERFILE, 'utf8'));
  // In a pod, the container's env (the chart's) replaces the image's ENV of the same name.
  const nodeOptions = (role === 'all' ? undefined : values[role]?.nodeOptions) ?? imageNodeOptions;
  return {
    ...image,
    NODE_COMPILE_CACHE: join(dir, 'node-compile-cache'),
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  };
}

/** The `MALLOC_*` variables and NODE_OPTIONS set by a Dockerfile's `ENV KEY=value …` instructions (continuation lines joined; unquoted values). */
export function imageEnv(dockerfile: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of dockerfile.replace(/\\\n\s*/g, ' ').split('\n')) {
    if (!/^ENV\s/.test(instruction)) continue;
    for (const [, key, value] of instruction.matchAll(/\b(MALLOC_\w+|NODE_OPTIONS)=(\S+)/g)) env[key!] = value!;
  }
  return env;
}

/** Fills the compile cache in `dir` as the image build does (the CLI, every module `serve` loads, the kube client). */
export async function warmCompileCache(dir: string): Promise<void> {
  const env = { ...process.env, NODE_COMPILE_CACHE: join(dir, 'node-compile-cache') };
  await new Promise<void>((resolve, reject) => execFile(process.execPath, [WARM], { env }, (err) => (err ? reject(err) : resolve())));
}

/** Starts `remediator serve --role <role>` with a config file; resolves once it answers /healthz (or has settled). */
export async function serve(options: ServeOptions): Promise<Served> {
  const port = await freePort();
  const config = {
    server: { host: '127.0.0.1', port },
    auth: { webhook: { bearerTokens: [WEBHOOK_TOKEN] }, operators: [{ name: 'bench', token: OPERATOR_TOKEN }] },
    redis: { url: options.redisUrl, prefix: options.prefix },
    playbooks: { dir: options.playbooksDir ?? SHIPPED_PLAYBOOKS, watch: false },
    // The shipped playbooks need Prometheus; a receiver never calls it, a worker in these benchmarks neither.
    prometheus: { url: 'http://127.0.0.1:9' },
    // …and a paging target for their `escalate` steps (nothing escalates in these benchmarks).
    escalation: { targets: { hook: { type: 'webhook', url: 'http://127.0.0.1:9/page', secret: 'bench-webhook-secret-0123456789abcdef' } } },
    logging: { level: 'info' },
    ...options.extra,
  };
  const file = join(options.dir, `${options.role}-${options.prefix}.yaml`);
  await writeFile(file, JSON.stringify(config));
  // The JSON log goes to a file (as to a log collector), read back only to explain a failed start.
  const logFile = join(options.dir, `${options.role}-${options.prefix}.log`);
  const env = Object.entries(await shippedEnv(options.role, options.dir))
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  const proc = await spawnBinary({
    command: '/bin/sh',
    args: ['-c', `exec env ${env} "$0" "$@" >> '${logFile}'`, process.execPath, BIN, 'serve', '--role', options.role, '--config', file],
    debianPackage: 'nodejs',
  });
  try {
    if (options.role === 'worker') {
      await settled(proc.pid);
      return { proc };
    }
    const url = `http://127.0.0.1:${port}`;
    await waitForHttpReady(`${url}/healthz`, proc, { name: `remediator ${options.role}`, timeoutMs: 120_000 });
    return { proc, url };
  } catch (err) {
    await proc.stop();
    const log = await readFile(logFile, 'utf8').catch(() => '');
    throw new Error(`${(err as Error).message}\n${log.trim().split('\n').slice(-5).join('\n')}`, { cause: err });
  }
}

/**
 * Starts a floor on the same Redis: `floor` (bench/floor-server.ts, one BullMQ add per alert) or `record`
 * (bench/record-floor-server.ts, the same plus the store's records of each alert).
 */
export async function serveFloor(redisUrl: string, prefix: string, which: 'floor' | 'record' = 'floor'): Promise<Served> {
  const port = await freePort();
  const proc = await spawnBinary({
    command: process.execPath,
    args: [
      new URL(`./${which === 'floor' ? 'floor' : 'record-floor'}-server.ts`, import.meta.url).pathname,
      redisUrl,
      String(port),
      prefix,
    ],
    debianPackage: 'nodejs',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttpReady(`${url}/healthz`, proc, { name: which === 'floor' ? 'floor' : 'record floor', timeoutMs: 120_000 });
  return { proc, url };
}

/** Resident set size (VmRSS) and its peak (VmHWM) of a process, MiB, from /proc (Linux). */
export function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(/\d+/.exec(status.split('\n').find((l) => l.startsWith(field)) ?? '0')![0]);
  return { rss: kb('VmRSS:') / 1024, peak: kb('VmHWM:') / 1024 };
}

/**
 * Waits until a process's RSS stops moving (start-up done, lazy work settled): 1 s without a 1 MiB change, and not
 * before `minMs` have passed. Resolves with that RSS (MiB).
 */
export async function settled(pid: number, options: { timeoutMs?: number; minMs?: number } = {}): Promise<number> {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 20_000) + (options.minMs ?? 0);
  let last = rssMiB(pid).rss;
  let still = 0;
  while (Date.now() < deadline && (still < 4 || Date.now() - started < (options.minMs ?? 0))) {
    await new Promise((r) => setTimeout(r, 250));
    const now = rssMiB(pid).rss;
    still = Math.abs(now - last) < 1 ? still + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * How long a service is given to reach its idle footprint after it is up: V8's memory reducer, which the service
 * sets going once started (src/observability/release-startup-memory.ts), hands start-up memory back a few seconds
 * later (measured: within 5 s). A pod is idle far longer; reading sooner would measure start-up, not idleness.
 */
export const IDLE_AFTER_MS = 12_000;

/** One figure beside its target: `name  value unit  (target op limit)  ok|MISSED`. */
export function figure(name: string, value: number, unit: string, target: { op: '<=' | '>='; limit: number }, digits = 0): string {
  const ok = target.op === '<=' ? value <= target.limit : value >= target.limit;
  return `${name.padEnd(46)} ${value.toFixed(digits).padStart(8)} ${unit.padEnd(4)} target ${target.op === '<=' ? '≤' : '≥'} ${target.limit} ${unit}  ${ok ? 'ok' : 'MISSED'}`;
}

export function quickMode(argv = process.argv): boolean {
  return argv.includes('--quick');
}

import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

/**
 * A long-running binary started by the dev harness (Prometheus, Alertmanager): spawned without a shell, its stderr
 * kept as a bounded tail for error messages, and stopped by PID, waiting on the child's `exit` event (a killed
 * child can linger as a zombie, so `kill -0` is no proof). If the test process dies first, an `exit` hook kills it.
 */
export interface BinaryProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last few KiB the binary wrote to stderr (its log), for error messages. */
  stderrTail(): string;
  /** Resolves once the process has exited (immediately if it already has). */
  exited(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 2000); resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_BYTES = 8192;

export async function spawnBinary(options: {
  command: string;
  args: string[];
  debianPackage: string;
  cwd?: string;
}): Promise<BinaryProcess> {
  const { command, args, debianPackage } = options;
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: options.cwd });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-TAIL_BYTES);
  });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve());
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'ENOENT' ? ` (not installed? on Debian/Ubuntu: apt-get install --no-install-recommends ${debianPackage})` : '';
    throw new Error(`cannot start ${command}${hint}: ${e.message}`, { cause: err });
  }
  child.on('error', () => {}); // a failed kill() must not become an unhandled 'error' event
  const killAtExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killAtExit);
  void exit.then(() => process.removeListener('exit', killAtExit));

  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid!,
    child,
    stderrTail: () => tail,
    exited: () => exit,
    async stop(graceMs = 2000) {
      if (!running()) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Polls `url` until it answers 2xx, the process exits (its stderr tail is in the error) or `timeoutMs` passes.
 * Every probe is bounded by its own short timeout.
 */
export async function waitForHttpReady(url: string, proc: BinaryProcess, options: { name: string; timeoutMs?: number }): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  let gone = false;
  void proc.exited().then(() => {
    gone = true;
  });
  while (Date.now() < deadline) {
    if (gone) throw new Error(`${options.name} exited before it was ready: ${proc.stderrTail().trim().split('\n').slice(-5).join(' | ')}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `${options.name} was not ready at ${url} within ${timeoutMs} ms (${last}): ${proc.stderrTail().trim().split('\n').slice(-5).join(' | ')}`,
  );
}

/**
 * Spawns a server binary on a free loopback port and waits for its `/-/ready`. Another process may take the port
 * between freePort() and the bind, so an "address already in use" start is retried on a new port (three tries).
 */
async function spawnServerOnFreePort(options: {
  command: string;
  debianPackage: string;
  args: (port: number, url: string) => string[];
  readyTimeoutMs?: number;
}): Promise<{ proc: BinaryProcess; port: number; url: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = await spawnBinary({ command: options.command, debianPackage: options.debianPackage, args: options.args(port, url) });
    try {
      await waitForHttpReady(`${url}/-/ready`, proc, { name: options.command, timeoutMs: options.readyTimeoutMs });
      return { proc, port, url };
    } catch (err) {
      await proc.stop(0);
      if (attempt < 3 && /address already in use/.test(proc.stderrTail())) continue;
      throw err;
    }
  }
}

/** A server started by `spawnServerInTempDir`: its process, address and folder. */
export interface TempDirServer {
  proc: BinaryProcess;
  port: number;
  url: string;
  /** The temporary folder holding its configuration and data. */
  dir: string;
  /** Stops the process (waiting for its exit) and removes the folder. Idempotent. */
  stop(): Promise<void>;
}

/**
 * `spawnServerOnFreePort` for a server that keeps its configuration and data in a temporary folder (Prometheus,
 * Alertmanager): `prepare` writes the configuration into it first; the folder is removed when the start fails and by
 * `stop()`.
 */
export async function spawnServerInTempDir(options: {
  /** Prefix of the folder's name under the OS temp dir. */
  prefix: string;
  command: string;
  debianPackage: string;
  prepare(dir: string): Promise<void>;
  args: (dir: string, port: number, url: string) => string[];
  readyTimeoutMs?: number;
}): Promise<TempDirServer> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix));
  // A test file whose top-level code throws exits without its teardowns: the server and its folder go with it.
  let started: BinaryProcess | undefined;
  const removeAtExit = (): void => {
    started?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  process.once('exit', removeAtExit);
  try {
    await options.prepare(dir);
    const { proc, port, url } = await spawnServerOnFreePort({ ...options, args: (port, url) => options.args(dir, port, url) });
    started = proc;
    let stopped: Promise<void> | undefined;
    const stop = async (): Promise<void> => {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
      process.removeListener('exit', removeAtExit);
    };
    return { proc, port, url, dir, stop: () => (stopped ??= stop()) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    process.removeListener('exit', removeAtExit);
    throw err;
  }
}

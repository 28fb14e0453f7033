import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort } from './free-port.ts';

/**
 * A real `redis-server` (Debian's package) on a free loopback port with its data in a temporary folder.
 * Used by the tests and the demo; never a mock. `stop()` kills it and removes the folder.
 */
export interface RedisProcess {
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SIGKILL when `hard`), keeping the folder so `start()` can bring the same data back (AOF). */
  kill(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and folder. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function spawnRedis(options: { appendonly?: boolean } = {}): Promise<RedisProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', options.appendonly ? 'yes' : 'no',
      '--appendfsync', 'always', '--dir', dir, '--daemonize', 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning'];
    try {
      child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new Error(`cannot start redis-server (Debian/Ubuntu: apt-get install redis-server): ${String(err)}`);
    }
    const spawned = child;
    await new Promise<void>((resolve, reject) => {
      spawned.once('error', (err) => reject(new Error(`cannot start redis-server (Debian/Ubuntu: apt-get install redis-server): ${err.message}`)));
      spawned.once('spawn', () => resolve());
    });
    await waitForPort(port, 5000);
  };

  const kill = async (hard = false): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill,
    start,
    async stop() {
      await kill(true);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.write('PING\r\n');
      });
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

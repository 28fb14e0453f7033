import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
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
  /** Stops the server without ending it (SIGSTOP): connections stay open and commands go unanswered, as on a stalled host. */
  freeze(): void;
  /** Lets a frozen server go on (SIGCONT). */
  thaw(): void;
  stop(): Promise<void>;
}

export async function spawnRedis(options: { appendonly?: boolean } = {}): Promise<RedisProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-redis-'));
  // A test file whose top-level code throws exits without its teardowns: the folder goes too (the server: killAtExit).
  const removeAtExit = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  process.once('exit', removeAtExit);
  let port = 0;
  let child: ChildProcess | undefined;
  // If this process exits without stop() (a test file that throws before its teardown), the server goes with it.
  const killAtExit = (): void => {
    child?.kill('SIGKILL');
  };

  const spawnOnce = async (): Promise<{ exited: Promise<void>; stderr: () => string }> => {
    const args = [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      options.appendonly ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--loglevel',
      'warning',
    ];
    try {
      child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      throw new Error(`cannot start redis-server (Debian/Ubuntu: apt-get install redis-server): ${String(err)}`);
    }
    const spawned = child;
    let log = '';
    for (const stream of [spawned.stdout, spawned.stderr])
      stream?.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-4096)));
    const exited = new Promise<void>((resolve) => spawned.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      spawned.once('error', (err) =>
        reject(new Error(`cannot start redis-server (Debian/Ubuntu: apt-get install redis-server): ${err.message}`)),
      );
      spawned.once('spawn', () => resolve());
    });
    process.once('exit', killAtExit);
    void exited.then(() => process.removeListener('exit', killAtExit));
    return { exited, stderr: () => log };
  };

  /**
   * Starts the server on `port` and waits until it answers as itself: another run's Redis may hold the port (taken
   * between freePort() and the bind), and its PONG must not pass for ours, so the answer must carry our pid.
   * A start on a fresh port (`pickPort`) that finds the port taken moves on to another one (three tries).
   */
  const start = async (pickPort = false): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (pickPort) port = await freePort();
      const { exited, stderr } = await spawnOnce();
      const pid = child!.pid!;
      let gone = false;
      void exited.then(() => (gone = true));
      try {
        await waitForServer(port, pid, 5000, () => gone);
        return;
      } catch (err) {
        child!.kill('SIGKILL');
        await exited;
        if (pickPort && attempt < 3 && /address already in use/i.test(stderr())) continue;
        throw new Error(`${(err as Error).message}${stderr().trim() ? `: ${stderr().trim().split('\n').slice(-3).join(' | ')}` : ''}`);
      }
    }
  };

  const kill = async (hard = false): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  try {
    await start(true);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    process.removeListener('exit', removeAtExit);
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill,
    start: () => start(false),
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async stop() {
      child?.kill('SIGCONT');
      await kill(true);
      await rm(dir, { recursive: true, force: true });
      process.removeListener('exit', removeAtExit);
    },
  };
}

/** Polls `INFO` on the port until the server with process id `pid` answers, its data loaded; throws after `timeoutMs` or once `gone()`. */
async function waitForServer(port: number, pid: number, timeoutMs: number, gone: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const s = createConnection({ host: '127.0.0.1', port }, () => s.write('INFO server persistence\r\n'));
      s.setEncoding('utf8');
      s.setTimeout(1000, () => s.destroy());
      s.on('data', (d: string) => {
        text += d;
        if (/\r\nloading:\d\r\n/.test(text) || text.startsWith('-')) s.destroy();
      });
      s.once('close', () => resolve(text));
      s.once('error', () => undefined);
    });
    const found = /\r\nprocess_id:(\d+)\r\n/.exec(answer);
    if (found && Number(found[1]) === pid && /\r\nloading:0\r\n/.test(answer)) return;
    if (found && Number(found[1]) === pid) last = 'still loading its data';
    if (found) last = `another redis-server (pid ${found[1]}) answers on port ${port}`;
    else if (answer.startsWith('-')) last = answer.trim();
    if (gone()) throw new Error(`redis-server exited before it answered on port ${port}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

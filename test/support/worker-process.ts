import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A worker process, and when it said it takes runs (its log line at level info; never with a higher level). */
export type WorkerProcess = ChildProcess & { ready: Promise<void> };

/** What RunWorker logs once its BullMQ worker is connected (src/queue/run-worker.ts). */
const READY = 'run worker ready: taking runs';

/**
 * `remediator serve --role worker` as separate processes (so a test can SIGKILL one), all killed when the test file
 * ends. Their stdout (the log) is read and dropped; `ready` resolves when the worker logs that it takes runs (the
 * config's logging.level must be info or lower for that). Starting takes long on a loaded machine (over 15 s at load
 * 6 on 2 cores), so a test that must know a worker is working waits for `ready` rather than for some time.
 */
export function workerProcesses(configFile: string): { start(): WorkerProcess; all: WorkerProcess[] } {
  const all: WorkerProcess[] = [];
  t.teardown(() => {
    for (const w of all) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  });
  return {
    all,
    start() {
      const bin = new URL('../../bin/remediator.js', import.meta.url).pathname;
      const child = spawn(process.execPath, [bin, 'serve', '--role', 'worker', '--config', configFile], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const ready = new Promise<void>((resolve) => {
        const lines = createInterface({ input: child.stdout! });
        lines.on('line', (line) => {
          if (line.includes(READY)) resolve();
          if (process.env.WORKER_LOG) process.stderr.write(`[worker ${child.pid}] ${line}\n`);
        });
      });
      const w = Object.assign(child, { ready });
      all.push(w);
      return w;
    },
  };
}

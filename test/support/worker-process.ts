import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * `remediator serve --role worker` as separate processes (so a test can SIGKILL one), all killed when the test file
 * ends.
 */
export function workerProcesses(configFile: string): { start(): ChildProcess; all: ChildProcess[] } {
  const all: ChildProcess[] = [];
  t.teardown(() => {
    for (const w of all) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  });
  return {
    all,
    start() {
      const bin = new URL('../../bin/remediator.js', import.meta.url).pathname;
      const child = spawn(process.execPath, [bin, 'serve', '--role', 'worker', '--config', configFile], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      all.push(child);
      return child;
    },
  };
}

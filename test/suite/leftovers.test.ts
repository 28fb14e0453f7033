import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLeftovers, isRunning } from '../support/leftovers.ts';

// The end-of-run check of `npm test` (test/support/run-suite.ts) must fail loudly when a test leaks, and only about
// its own run.
const idle = ['-e', 'setInterval(() => {}, 1000)'];

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

t.test('finds the processes and temp entries of one run, and nothing of another', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'remediator-leftovers-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const marker = `REMEDIATOR_TEST_RUN=probe-${process.pid}`;
  // Marked by its environment; in a session of its own with an environment that drops the marker; another run's.
  const marked = spawn(process.execPath, idle, { stdio: 'ignore', env: { ...process.env, REMEDIATOR_TEST_RUN: `probe-${process.pid}` } });
  const ownSession = spawn(process.execPath, idle, { stdio: 'ignore', detached: true, env: { PATH: process.env.PATH ?? '' } });
  const otherRun = spawn(process.execPath, idle, { stdio: 'ignore', env: { ...process.env, REMEDIATOR_TEST_RUN: 'another-run' } });
  t.teardown(() => Promise.all([marked, ownSession, otherRun].map(stopped)));
  await Promise.all([marked, ownSession, otherRun].map((c) => new Promise((resolve) => c.once('spawn', resolve))));
  await mkdir(join(root, 'remediator-redis-abc'));

  const left = await findLeftovers({ marker, sessionId: ownSession.pid, tmpRoot: root });
  t.same(left.processes.map((p) => p.pid).sort(), [marked.pid, ownSession.pid].sort(), 'the marked process and the one in the session');
  t.match(left.processes[0]!.command, /setInterval/, 'named by its command line');
  t.same(left.paths, [join(root, 'remediator-redis-abc')]);

  await Promise.all([marked, ownSession].map(stopped));
  await rm(join(root, 'remediator-redis-abc'), { recursive: true });
  t.same(
    await findLeftovers({ marker, sessionId: ownSession.pid, tmpRoot: root }),
    { processes: [], paths: [] },
    'nothing once they are stopped and removed',
  );
});

t.test('npm test fails, naming the process and the folder, when a passing test leaks them; and cleans them up', async (t) => {
  const runner = new URL('../support/run-suite.ts', import.meta.url).pathname;
  const leaky = new URL('./fixtures/leaky.ts', import.meta.url).pathname;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TAP')) delete env[k];
  const child = spawn(process.execPath, [runner, '--disable-coverage', leaky], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    cwd: new URL('../..', import.meta.url).pathname,
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const [, pid, dir] = /leaky pid (\d+) dir (\S+)/.exec(out) ?? [];
  t.ok(pid, out);
  t.equal(code, 1, 'the run fails although its test passed');
  t.match(out, new RegExp(`process ${pid} still running: .*setInterval`), 'the leaked process is named');
  t.match(out, `temp entry left: ${dir}`, 'the leaked folder is named');
  t.notOk(await isRunning(Number(pid)), 'and killed afterwards');
});

t.test('npm test piped to a reader that stops early (`| head`) still removes its folders', async (t) => {
  const runner = new URL('../support/run-suite.ts', import.meta.url).pathname;
  const passing = new URL('./fixtures/passing.ts', import.meta.url).pathname;
  // A TMPDIR of its own, so what the runner makes (its run folder and its compile cache) can be looked for.
  const tmp = await mkdtemp(join(tmpdir(), 'remediator-piped-'));
  t.teardown(() => rm(tmp, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  for (const k of Object.keys(env)) if (k.startsWith('TAP')) delete env[k];
  const child = spawn(process.execPath, [runner, '--disable-coverage', '-R', 'tap', passing], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env,
    cwd: new URL('../..', import.meta.url).pathname,
  });
  // Like `head -1`: the first output read, then the pipe closed; the runner's own last line then meets EPIPE.
  child.stdout.once('data', () => child.stdout.destroy());
  await new Promise((resolve) => child.once('exit', resolve));
  t.same(await readdir(tmp), [], 'no run folder and no compile cache left');
});

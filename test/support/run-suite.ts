import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describeLeftovers, findLeftovers, isRunning, type RunScope } from './leftovers.ts';

/**
 * `npm test`: tap (arguments passed on), scoped to this run, then a check that the run left nothing behind.
 *
 * - TMPDIR is a fresh folder of its own, so every temp folder the tests and the code under test make is inside it;
 * - tap starts a session of its own, and every process carries REMEDIATOR_TEST_RUN=<this run's id>; together they
 *   tell this run's processes from those of other runs on the same machine (see leftovers.ts).
 *
 * When tap has ended, any process of the run still alive or anything left in the folder fails the run (exit 1),
 * each named on stderr; they are then killed by pid and removed so the machine stays clean. A process that is
 * already dying gets a moment to be gone (`SETTLE_MS`).
 */
const SETTLE_MS = 2000;
const TAP = new URL('../../node_modules/tap/dist/esm/run.mjs', import.meta.url).pathname;

// A reader that goes away early (`npm test | head`) must not cut the check and the clean-up below short: a write to
// its closed pipe fails with EPIPE, which is ignored here instead of ending this process before it removes its folders.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

const root = await mkdtemp(join(tmpdir(), 'remediator-suite-'));
// Node's compile cache, shared by every process of the run: the suite starts hundreds of Node processes (each test
// file, and the receivers, workers and CLIs the tests spawn), each compiling the same ~1,300 modules. With the cache
// only the first compiles them (about a third of a process's start-up CPU, on a 2-core machine that is the suite's
// bottleneck). It lives beside TMPDIR, not in it, so the leftovers check still sees only what tests left.
const compileCache = await mkdtemp(join(tmpdir(), 'remediator-suite-compile-cache-'));
const marker = `REMEDIATOR_TEST_RUN=${basename(root)}`;
// First in every process of the run, before tap's own module hooks load (see processinfo-quiet.ts).
const quiet = `--import=${JSON.stringify(new URL('./processinfo-quiet.ts', import.meta.url).href)}`;
const nodeOptions = [process.env.NODE_OPTIONS, quiet].filter(Boolean).join(' ');
const tap = spawn(process.execPath, [TAP, ...process.argv.slice(2)], {
  stdio: 'inherit',
  detached: true, // its own session: see above
  env: { ...process.env, TMPDIR: root, REMEDIATOR_TEST_RUN: basename(root), NODE_COMPILE_CACHE: compileCache, NODE_OPTIONS: nodeOptions },
});
// In its own session tap no longer gets the terminal's Ctrl-C: pass it on to its whole process group.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    try {
      process.kill(-tap.pid!, signal);
    } catch {
      // already gone
    }
  });
}
const status = await new Promise<number>((resolve) => tap.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

const scope: RunScope = { sessionId: tap.pid, marker, tmpRoot: root };
let left = await findLeftovers(scope);
for (const until = Date.now() + SETTLE_MS; left.processes.length > 0 && Date.now() < until; ) {
  await new Promise((r) => setTimeout(r, 100));
  left = await findLeftovers(scope);
}
const lines = describeLeftovers(left);
if (lines.length > 0) {
  process.stderr.write(
    `\nnpm test: the run left ${lines.length} thing(s) behind (a test or helper does not stop or remove what it started):\n${lines.map((l) => `  ${l}\n`).join('')}`,
  );
  for (const p of left.processes) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  for (const p of left.processes) {
    for (const until = Date.now() + SETTLE_MS; (await isRunning(p.pid)) && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 50));
  }
} else {
  process.stdout.write('# npm test: no process of this run is alive and its temp folder is empty\n');
}
await rm(root, { recursive: true, force: true });
await rm(compileCache, { recursive: true, force: true });
process.exit(lines.length > 0 ? 1 : status);

import t from 'tap';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { workerProcesses, type WorkerProcess } from '../support/worker-process.ts';
import { redisForTest } from '../support/redis.ts';
import { startGuardedService, envFlipPlaybook, remediationMarks, FINAL } from '../guards/guard-harness.ts';

// 50 runs over 5 targets on the simulated cluster, worked by 3 worker processes while a killer SIGKILLs a random
// worker at random moments (and starts a new one), and Redis (AOF, fsync always) is SIGKILLed and restarted on the
// same port and folder once in the middle, while the workers work. The killer only kills a worker that has been
// taking runs for a while, and never the last one doing so: a new worker process needs seconds to start (over 15 s
// on a loaded 2-core machine), and a killer that also killed starting workers, or all of them in a burst, left no
// worker running for most of the test, so runs waited for a worker until their maximum duration ended them.
// Afterwards, from the API server's request log and the run records:
// - every run reached a final status;
// - no completed mutation was repeated. Each write of the env-flip playbook carries its run and step
//   (REMEDIATION=<run>-begin|end), and each (run, step) appears in at most one write the server accepted. That holds
//   for the step in flight at a kill as well: the kube actions stamp the object with <run>.<step> in the same write
//   and a re-executed step that reads its own stamp reports success without writing (a second, concurrent copy of
//   the step fails its resourceVersion test and then reads the stamp). Re-running a step whose write never reached
//   the server is not a repeat; those are the only repeats allowed, and the log cannot even see them;
// - no two runs' mutations on one target overlapped: on each target, each run's writes form one block, begin
//   before end (a run may stop after begin when it lost the target or ran out of time; it never writes after
//   another run did);
// - budgets held across the kills and the Redis restart: at most `budget.runs` runs ever wrote to a target, and the
//   others were refused with budget_exhausted, and a completed run's steps are each recorded once;
// - every run's closing completed: a worker killed after the save that ended a run, before its closing decision,
//   leaves the closing open, and a sweeper completes it; no run gets its closing decision twice.
const TARGETS = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics', 'phone-gateway-backup'];
const RUNS_PER_TARGET = 10;
const BUDGET = 6;
const WORKERS = 3;
/** How long a worker has been taking runs before it may be killed. */
const MIN_AGE_MS = 1000;
/** Kills before Redis is restarted, in the middle of the waves (the first KILLS waves are within BUDGET). */
const KILLS = 5;
// Not a speed target: only a guard against a hang, so a stuck run fails the test with what was still pending instead
// of running until tap's own timeout. The test waits on conditions (every run final, no job active, no lock held).
const HANG_GUARD_MS = 10 * 60_000;
// tap's per-file timeout (.taprc) would otherwise end the file first, without saying what was pending.
t.setTimeout(HANG_GUARD_MS + 60_000);

const redis = await redisForTest({ appendonly: true });
const guards = {
  lock: { ttl: '1s', retryAfter: '100ms' },
  budget: { runs: BUDGET, window: '1h' },
  ineffective: { window: 0 },
  storm: { targets: 100 },
};
const svc = await startGuardedService({ playbooks: { 'flip.yaml': envFlipPlaybook(300) }, role: 'receiver', guards, redis });

const dir = await mkdtemp(join(tmpdir(), 'remediator-kill-workers-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const configFile = join(dir, 'config.yaml');
await writeFile(
  configFile,
  `server: { host: 127.0.0.1, port: 0 }
redis: { url: "${redis.url}", prefix: "${svc.config.redis.prefix}" }
playbooks: { dir: "${svc.playbookDir}", watch: false }
kubernetes: { enabled: true, kubeconfig: "${svc.kubeconfig}", requestTimeout: 5s }
worker: { concurrency: 4, lockDuration: 1s, stalledInterval: 500ms, shutdownGrace: 1s }
runs: { maxDuration: 2m, sweepInterval: 1s, closingGrace: 1s }
guards: ${JSON.stringify(guards)}
logging: { level: info }
`,
);
const pool = workerProcesses(configFile);

/** Posts like Alertmanager does: a 5xx (Redis away) is retried. */
async function fire(deployment: string, startsAt: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const [runId] = await svc.fire([deployment], startsAt);
      if (runId) return runId;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await sleep(200);
  }
}

/** Polls `pending` until it returns nothing; past `until` it fails with what was still pending. */
async function waitUntilNone<T>(what: string, pending: () => Promise<T[]>, until: number): Promise<void> {
  for (;;) {
    const left = await pending();
    if (left.length === 0) return;
    if (Date.now() > until)
      throw new Error(
        `hang guard (${HANG_GUARD_MS / 60_000} min) passed still waiting for ${what}: ${JSON.stringify(left.slice(0, 5))}${left.length > 5 ? ` and ${left.length - 5} more` : ''}`,
      );
    await sleep(200);
  }
}

t.test('SIGKILLed workers and a Redis restart: nothing lost, no mutation repeated, locks and budgets hold', async (t) => {
  const started = Date.now();
  // Worker processes that take runs, by when they said so (they log it once connected). Only one that has been
  // taking runs for MIN_AGE_MS is a victim: starting takes from a second to well over 15 s depending on the machine's
  // load, and a killer that counted from the spawn killed workers that had not started yet.
  const live = new Map<WorkerProcess, number>();
  const spawnWorker = () => {
    const w = pool.start();
    let exited = false;
    w.once('exit', () => {
      exited = true;
      live.delete(w);
    });
    return w.ready.then(() => {
      if (!exited) live.set(w, Date.now());
    });
  };
  // The runs are posted once the first workers take runs, so the Redis restart mid-way hits workers at work.
  await Promise.all(Array.from({ length: WORKERS }, spawnWorker));

  // The killer strikes at random moments of the runs' lives: after each new write the API server accepted, it waits
  // 0–600 ms and SIGKILLs a random worker (one taking runs for MIN_AGE_MS, and never the last one taking runs;
  // until there is such a victim, the kill is owed), then starts a new one. Tying kills to progress, and sparing the
  // last worker, keeps a slow machine from killing workers faster than they can start: some worker always works.
  let stop = false;
  let kills = 0;
  // Writes to objects: each worker's start-up pre-flight POSTs SelfSubjectAccessReviews, which are not progress.
  const writes = () => svc.sim.requests.filter((r) => r.method !== 'GET' && !r.path.endsWith('/selfsubjectaccessreviews')).length;
  const killer = (async () => {
    let seen = 0;
    while (!stop) {
      if (writes() === seen) {
        await sleep(20);
        continue;
      }
      seen = writes();
      await sleep(Math.random() * 600);
      const victims = () => (live.size < 2 ? [] : [...live].filter(([, since]) => Date.now() - since > MIN_AGE_MS).map(([w]) => w));
      while (victims().length === 0 && !stop) await sleep(20);
      const candidates = victims();
      const victim = candidates[Math.floor(Math.random() * candidates.length)];
      if (!victim || stop) continue;
      const exited = new Promise((r) => victim.once('exit', r));
      victim.kill('SIGKILL');
      await exited;
      kills++;
      void spawnWorker();
    }
  })();

  const hangAt = started + HANG_GUARD_MS;
  const runIds: string[] = [];
  const targetOf = new Map<string, string>();
  let redisRestarted = false;
  let workingAtRestart = 0;
  for (let wave = 0; wave < RUNS_PER_TARGET; wave++) {
    // The first waves wait for the killer to strike once more each: a new worker may need over 15 s to start on a
    // loaded machine, and the work must not be over before the workers were killed KILLS times. Each of these waves
    // is within the budget, so its runs write, and each write makes the killer strike.
    if (wave >= 1 && wave <= KILLS) await waitUntilNone(`kill number ${wave}`, async () => (kills >= wave ? [] : [{ kills }]), hangAt);
    if (wave === KILLS) {
      // Mid-way: Redis dies (SIGKILL, nothing flushed on the way out) and comes back on the same port and folder.
      workingAtRestart = live.size;
      await redis.kill(true);
      await sleep(500);
      await redis.start();
      redisRestarted = true;
    }
    const ids = await Promise.all(TARGETS.map((d, i) => fire(d, new Date(Date.UTC(2026, 4, 1, 8, wave, i)).toISOString())));
    ids.forEach((id, i) => {
      targetOf.set(id, TARGETS[i]!);
    });
    runIds.push(...ids);
    await sleep(400);
  }
  t.equal(new Set(runIds).size, TARGETS.length * RUNS_PER_TARGET, '50 distinct runs were started');

  // Every run reaches a final status: wait for that condition itself (however long a loaded machine needs), with
  // only the hang guard, whose failure names the runs still open and where they are.
  const ends = new Map<string, any>();
  await waitUntilNone(
    'every run to reach a final status',
    async () => {
      const open: Array<{ id: string; status?: string; step?: string }> = [];
      for (const id of runIds) {
        if (ends.has(id)) continue;
        const res = await svc.api('GET', `/v1/runs/${id}`).catch(() => undefined);
        if (res?.status === 200 && FINAL.has(res.body.status)) ends.set(id, res.body);
        else open.push({ id, status: res?.body?.status, step: res?.body?.state?.steps?.at(-1)?.id });
      }
      return open;
    },
    hangAt,
  );
  stop = true;
  await killer;
  t.ok(redisRestarted, 'Redis was restarted mid-way');
  t.ok(workingAtRestart > 0, `Redis was restarted while workers took runs (${workingAtRestart})`);
  t.ok(kills >= KILLS, `workers were killed mid-work (${kills} SIGKILLs)`);
  t.equal(ends.size, TARGETS.length * RUNS_PER_TARGET, 'every one of the 50 runs reached a final status');
  // What the old 90 s bound stood for: no run got stuck. A stuck run does end, but only when the run deadline
  // (runs.maxDuration) stops it; none may have ended that way, however long the machine took.
  const timedOut = [...ends.values()].filter((r) => /did not end within its maximum duration/.test(r.state?.outcome ?? ''));
  const failedJobs = (await svc.service.queue.queue.getFailed(0, 2)).map((j) => ({
    id: j.id,
    reason: j.failedReason,
    attempts: j.attemptsMade,
  }));
  t.same(
    timedOut.map((r) => r.id),
    [],
    'no run was stuck until its maximum duration ended it',
    {
      first: timedOut
        .slice(0, 3)
        .map((r) => ({ id: r.id, outcome: r.state?.outcome, steps: r.state?.steps?.map((x: any) => `${x.id}:${x.status}`) })),
      failedJobs,
      counts: await svc.service.queue.counts(),
    },
  );
  // No job is left behind in the queue: a job a killed worker held is not stuck in active (nor waiting to run again).
  await waitUntilNone(
    'the run queue to drain',
    async () => Object.entries(await svc.service.queue.counts()).filter(([state, n]) => state !== 'failed' && n > 0),
    hangAt,
  );
  t.same(
    Object.entries(await svc.service.queue.counts()).filter(([state, n]) => state !== 'failed' && n > 0),
    [],
    'no run job is left active, waiting or delayed',
  );

  // No completed mutation repeated: each (run, step) in at most one accepted write.
  for (const target of TARGETS) {
    const marks = remediationMarks(svc, target);
    const seen = new Map<string, number>();
    for (const m of marks) seen.set(`${m.run}-${m.phase}`, (seen.get(`${m.run}-${m.phase}`) ?? 0) + 1);
    t.same(
      [...seen].filter(([, n]) => n > 1),
      [],
      `${target}: no step's write was accepted twice`,
    );

    // No overlap: each run's writes are one block, begin first.
    const blocks: Array<{ run: string; phases: string[] }> = [];
    for (const m of marks) {
      if (blocks.at(-1)?.run === m.run) blocks.at(-1)!.phases.push(m.phase);
      else blocks.push({ run: m.run, phases: [m.phase] });
    }
    t.equal(
      new Set(blocks.map((b) => b.run)).size,
      blocks.length,
      `${target}: no run wrote again after another run did (${blocks.map((b) => b.run.slice(-6)).join(' ')})`,
    );
    t.ok(
      blocks.every((b) => b.phases[0] === 'begin' && b.phases.length <= 2),
      `${target}: each run wrote begin, then at most end`,
    );

    // Budgets: at most BUDGET runs ever acted on the target, across kills and the Redis restart.
    t.ok(blocks.length <= BUDGET, `${target}: ${blocks.length} runs acted, within the budget of ${BUDGET}`);
    const mine = runIds
      .filter((id) => targetOf.get(id) === target)
      .map((id) => ends.get(id))
      .filter(Boolean);
    const acted = new Set(blocks.map((b) => b.run));
    const refused = mine.filter((r) => r.decisions.some((d: any) => d.reason === 'budget_exhausted'));
    t.ok(
      refused.every((r) => !acted.has(r.id)),
      `${target}: no run refused for the budget wrote`,
    );
    const statuses: Record<string, number> = {};
    for (const r of mine) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    t.ok(mine.filter((r) => r.status === 'completed').length >= 1, `${target}: runs still got through`, {
      statuses,
      notCompleted: mine
        .filter((r) => r.status !== 'completed')
        .slice(0, 3)
        .map((r) => r.state?.outcome),
    });
  }

  for (const run of ends.values()) {
    if (run.status === 'completed') {
      t.same(
        run.state.steps.map((s: any) => s.id),
        ['begin', 'hold', 'end'],
        `${run.id}: each step recorded once`,
      );
      const marks = remediationMarks(svc, targetOf.get(run.id)!).filter((m) => m.run === run.id);
      t.same(
        marks.map((m) => m.phase),
        ['begin', 'end'],
        `${run.id}: completed, and both of its writes reached the server once`,
      );
    }
    t.ok(run.decisions.filter((d: any) => d.reason === 'succeeded').length <= 1, `${run.id}: finished at most once`);
  }

  // Nothing is left locked once every run is over (a lock a killed worker held expires within its TTL): wait for the
  // locks to go rather than sleeping for a TTL.
  const check = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  t.teardown(() => check.disconnect());
  await waitUntilNone('the target locks to be released', () => check.keys(`${svc.config.redis.prefix}:guard:lock:*`), hangAt);
  t.same(await check.keys(`${svc.config.redis.prefix}:guard:lock:*`), [], 'no target lock is held');
  await waitUntilNone('the deadline index to empty', () => check.zrange(`${svc.config.redis.prefix}:run-deadlines`, '0', '-1'), hangAt);
  t.equal(await check.zcard(`${svc.config.redis.prefix}:run-deadlines`), 0, 'no run is left in the deadline index');

  // Closings a kill cut short are completed by a sweeper (within about closingGrace + sweepInterval).
  const closings = `${svc.config.redis.prefix}:run-closings`;
  await waitUntilNone('the sweeper to complete the open closings', () => check.zrange(closings, '0', '-1'), hangAt);
  t.same(await check.zrange(closings, '0', '-1'), [], 'no run is left with its closing open');
  // (`escalated` and `cancelled` are also recorded when they happen, before the closing decision repeats them.)
  const closingReasons = new Set(['succeeded', 'failed', 'skipped']);
  const views = await Promise.all(runIds.map(async (id) => (await svc.api('GET', `/v1/runs/${id}`)).body));
  const unclosed = views.filter((v) => !v.finalDecisionAt).map((v) => v.id);
  t.same(unclosed, [], 'every run has its closing decision');
  const twice = views.filter((v) => v.decisions.filter((d: any) => closingReasons.has(d.reason)).length > 1).map((v) => v.id);
  t.same(twice, [], 'no run got its closing decision twice');
});

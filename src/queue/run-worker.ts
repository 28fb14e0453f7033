import { Worker, DelayedError, type Job } from 'bullmq';
import type { Random } from '../engine/backoff.ts';
import type { RedisOptions } from 'bullmq';
import type { Logger } from 'pino';
import { promoteIfDelayed, type RunJobData } from './bullmq-run-queue.ts';
import type { RunStore } from '../store/run-store.ts';
import type { PlaybookCatalog } from '../playbooks/playbook-catalog.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Clock } from '../ports/clock.ts';
import type { HttpClient } from '../ports/http-client.ts';
import type { StepServices } from '../ports/step-services.ts';
import type { MutationGuard } from '../engine/mutation-guard.ts';
import { decisionServices } from '../kube/shared-reads.ts';
import { executeRun, InterruptedError, type ExecutorDeps, type Outcome } from '../engine/run-executor.ts';
import { FINAL_STATUSES, initialRunState, type RunState } from '../engine/run-state.ts';
import { finish } from '../engine/decide.ts';
import { bullmqClients, disconnectClosed, endStrandedClients, strandedClients } from './stranded-clients.ts';
import type { TargetLock } from '../guards/target-lock.ts';
import { RunSupersededError, type RunFence } from './run-fence.ts';
import type { RunCloser } from './run-closer.ts';
import { randomUUID } from 'node:crypto';
import type { RunStopSignals } from './run-stop-signals.ts';
import type { RunWakes } from './run-wakes.ts';

export interface RunWorkerOptions {
  connection: RedisOptions;
  prefix: string;
  queueName: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxObservations: number;
}

export interface RunWorkerDeps {
  /** The jitter source of step retry waits (src/engine/backoff.ts; default Math.random). */
  random?: Random;
  store: RunStore;
  catalog: PlaybookCatalog;
  metrics: Metrics;
  clock: Clock;
  http: HttpClient;
  services: StepServices;
  log: Logger;
  guard?: MutationGuard;
  /** Told when a rung starts or ends (notes on an open incident). */
  onRung?: ExecutorDeps['onRung'];
  /** Works out the object diff of a plan waiting for approval (src/runs/plan-diff.ts). */
  previewMutation?: ExecutorDeps['previewMutation'];
  /** Decisions, the page of an escalated run and everything else after the save that ends a run (run-closer.ts). */
  closer: RunCloser;
  /** Who may save a run's state (see run-fence.ts): one processing at a time, and never after the run ended. */
  fence: RunFence;
  /** Wakes that came while this worker held a run, taken once the run sleeps (run-wakes.ts). */
  wakes: RunWakes;
  /**
   * The per-target locks (when guards are on), renewed while the run is alive: every `ttlMs / 3` while a step runs,
   * and up to its wake time plus `ttlMs` when it goes to sleep, since then no process holds its job.
   */
  targetLocks?: { lock: TargetLock; ttlMs: number };
  /**
   * Cancel requests reaching this process while it holds a run: the step in flight is interrupted. Absent: a cancel
   * is seen when the run is next picked up.
   */
  stops?: RunStopSignals;
}

/**
 * The BullMQ side of the engine. One job per run; each time it is processed it runs steps from the saved cursor
 * until the run must wait, then moves itself to `delayed` (`moveToDelayed` + `DelayedError`), so a waiting run
 * holds no worker slot and no timer. After every step the state is saved in the run record (fenced, below), so a
 * worker killed mid-run repeats at most the step in flight when BullMQ hands the stalled job to another worker. The
 * job carries only the run id: a second copy of the state in its data would double every step's writes and the
 * memory a run holds in Redis, and would never be read, since the record is always at least as new. Each
 * processing claims the run with its job token and saves only while it still owns it, so a worker that lost its job
 * lock (stalled, cut off from Redis) cannot keep writing next to the one that took over.
 */
export class RunWorker {
  readonly worker: Worker<RunJobData>;
  readonly #deps: RunWorkerDeps;
  readonly #opts: RunWorkerOptions;

  constructor(options: RunWorkerOptions, deps: RunWorkerDeps) {
    this.#deps = deps;
    this.#opts = options;
    this.worker = new Worker<RunJobData>(options.queueName, (job, token, signal) => this.#process(job, token, signal), {
      prefix: options.prefix,
      connection: options.connection,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A crashed worker's run is picked up again rather than failed: steps are idempotent and the cursor is saved.
      maxStalledCount: 20,
      autorun: false,
    });
    // BullMQ says `ready` once both of the worker's connections are: from then on it takes runs. A process that starts
    // slowly (a loaded host) is visibly not yet working until this line, which supervisors and tests can wait for.
    this.worker.once('ready', () => deps.log.info('run worker ready: taking runs'));
    this.worker.on('error', (err) => deps.log.error({ err }, 'run worker error'));
    this.worker.on('failed', (job, err) => deps.log.error({ runId: job?.data.runId, err }, 'run job failed unexpectedly'));
  }

  start(): void {
    void this.worker.run();
  }

  /**
   * Stops taking work, lets the step in flight finish within `graceMs`, then aborts it (it will be re-run).
   * With Redis gone it still returns: connections waiting to reconnect are ended first, and again at the grace
   * deadline (Redis may go during the close); see stranded-clients.ts. The connection options must stop retrying
   * once the owner closes (main.ts's `shouldRetry`).
   */
  async close(graceMs: number): Promise<void> {
    const clients = bullmqClients(this.worker);
    // Taken before the close starts, and ended while it runs (stranded-clients.ts says why in that order).
    const stranded = strandedClients(clients);
    const closed = this.worker.close();
    const timer = setTimeout(() => {
      this.worker.cancelAllJobs('shutdown');
      void endStrandedClients(clients);
    }, graceMs);
    try {
      await Promise.all([closed, endStrandedClients(stranded)]);
    } finally {
      clearTimeout(timer);
      disconnectClosed(clients);
    }
  }

  async #process(job: Job<RunJobData>, token: string | undefined, signal: AbortSignal | undefined): Promise<{ status: string }> {
    // Watched before the run is read: a cancel announced earlier is in what is read, a later one aborts the watch.
    const stop = this.#deps.stops?.watch(job.data.runId);
    try {
      return await this.#processWatched(job, token, signal, stop?.signal);
    } finally {
      stop?.release();
    }
  }

  async #processWatched(
    job: Job<RunJobData>,
    token: string | undefined,
    signal: AbortSignal | undefined,
    stop: AbortSignal | undefined,
  ): Promise<{ status: string }> {
    const { store, catalog, fence, closer, log: baseLog } = this.#deps;
    const runId = job.data.runId;
    const view = await store.getRun(runId);
    if (!view) {
      await fence.forget(runId);
      return { status: 'missing' };
    }
    // Ended meanwhile (the sweeper closed it, or another worker ended it): nothing left to do.
    if (FINAL_STATUSES.has(view.status)) return { status: view.status };
    const log = baseLog.child({ runId, playbook: view.playbook });
    let state: RunState = view.state ?? initialRunState();
    if (FINAL_STATUSES.has(state.status)) return { status: state.status };

    const playbook = catalog.get(view.playbook);
    const ctx = playbook ? closer.context(view, playbook) : undefined;
    const owner = token ?? `untokened-${randomUUID()}`;
    // Without its playbook the run cannot go on: it is claimed only to be closed at once (its deadline: now).
    const claimed = await fence.claim(runId, owner, ctx?.deadline?.at ?? this.#deps.clock.now());
    if (claimed !== 'claimed') return { status: claimed };
    const persist = async (s: RunState) => {
      const saved = await fence.save(runId, owner, s, this.#deps.clock.now());
      if (saved !== 'saved') throw new RunSupersededError(saved);
    };

    if (!ctx) {
      const d = finish(structuredClone(state), 'failed', `playbook "${view.playbook}" is no longer loaded`, this.#deps.clock.now());
      try {
        await persist(d.state);
      } catch (err) {
        if (err instanceof RunSupersededError) return { status: err.why };
        throw err;
      }
      await this.#deps.targetLocks?.lock.release(runId);
      await closer.finish(view, d.state);
      return { status: d.state.status };
    }

    if (state.status === 'queued') log.info({ trigger: view.trigger, dryRun: view.dryRun }, `run started: ${view.playbook}`);

    const deps: ExecutorDeps = {
      services: this.#deps.services,
      decisionServices,
      http: this.#deps.http,
      clock: this.#deps.clock,
      log,
      persist,
      guard: this.#deps.guard,
      escalate: closer.escalate,
      onRung: this.#deps.onRung,
      ...(this.#deps.previewMutation ? { previewMutation: this.#deps.previewMutation } : {}),
      observe: (uses, result, seconds) => this.#deps.metrics.stepDuration.observe({ uses, result }, seconds),
      recordDecision: (reason, message, by) => closer.recordDecision(view, reason, message, by),
      ...(stop ? { stop } : {}),
      maxObservations: this.#opts.maxObservations,
      ...(this.#deps.random ? { random: this.#deps.random } : {}),
    };
    const locks = this.#deps.targetLocks;
    const heartbeat =
      locks && ctx.playbook.mutating && !view.dryRun
        ? setInterval(
            () => void locks.lock.renew(runId, locks.ttlMs).catch((err) => log.warn({ err }, 'could not renew target lock')),
            Math.max(20, locks.ttlMs / 3),
          )
        : undefined;
    let outcome: Outcome;
    try {
      outcome = await executeRun(ctx, state, deps, signal ?? new AbortController().signal);
    } catch (err) {
      if (err instanceof RunSupersededError) {
        // Not ours any more: write nothing else. A closed run's job is ours to complete; a superseded one's is not.
        log.warn({ why: err.why }, `run left alone: ${err.message}`);
        return { status: err.why };
      }
      if (err instanceof InterruptedError && token) {
        log.warn('step interrupted by shutdown; another worker will repeat it');
        await job.moveToDelayed(Date.now() + 500, token);
        throw new DelayedError();
      }
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
    state = outcome.state;
    if (outcome.kind === 'sleep') {
      if (!token) throw new Error('a waiting run needs a job token');
      // `outcome.until` is on the engine's clock; BullMQ times delayed jobs on the machine's: sleep as long as the
      // engine asked, so a controlled clock (a replay, a clock ahead or behind) wakes the run when it is due.
      const sleepMs = Math.max(0, outcome.until - this.#deps.clock.now());
      const until = Date.now() + sleepMs;
      // Asleep, no process holds the run, yet it is alive: its locks must last until it wakes, plus the usual TTL.
      if (heartbeat) await locks!.lock.renew(runId, sleepMs + locks!.ttlMs);
      await job.moveToDelayed(until, token);
      // A wake (a cancel, an approval, a resolve, a freed target) that came while this worker held the job could not
      // promote it: it left a mark, taken now that the job is delayed.
      if (await this.#deps.wakes.take(runId)) await promoteIfDelayed(job);
      throw new DelayedError();
    }
    await closer.finish(view, state);
    return { status: state.status };
  }
}

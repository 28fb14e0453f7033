import { Worker, DelayedError, type Job } from 'bullmq';
import type { RedisOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { RunJobData } from './bullmq-run-queue.ts';
import type { RunStore } from '../store/run-store.ts';
import type { PlaybookCatalog } from '../playbooks/playbook-catalog.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Clock } from '../ports/clock.ts';
import type { HttpClient } from '../ports/http-client.ts';
import type { StepServices } from '../engine/step-services.ts';
import type { MutationGuard } from '../engine/mutation-guard.ts';
import { executeRun, InterruptedError, type RunContext, type ExecutorDeps } from '../engine/run-executor.ts';
import { FINAL_STATUSES, initialRunState, type RunState } from '../engine/run-state.ts';
import { finish } from '../engine/decide.ts';
import { bullmqClients, endStrandedClients } from './stranded-clients.ts';
import type { RunView } from '../store/run-record.ts';
import type { DecisionReason } from '../engine/decision.ts';

export interface RunWorkerOptions {
  connection: RedisOptions;
  prefix: string;
  queueName: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxObservations: number;
  retention: { maxRecords: number; maxAgeMs: number };
}

export interface RunWorkerDeps {
  store: RunStore;
  catalog: PlaybookCatalog;
  metrics: Metrics;
  clock: Clock;
  http: HttpClient;
  services: StepServices;
  log: Logger;
  guard?: MutationGuard;
  escalate?: ExecutorDeps['escalate'];
  /** Told when a rung starts or ends (notes on an open incident). */
  onRung?: ExecutorDeps['onRung'];
  /** Called once a run has ended and its final state is stored (e.g. to resolve a page on verified health). */
  onFinished?(view: RunView): Promise<void>;
}

/**
 * The BullMQ side of the engine. One job per run; each time it is processed it runs steps from the saved cursor
 * until the run must wait, then moves itself to `delayed` (`moveToDelayed` + `DelayedError`), so a waiting run
 * holds no worker slot and no timer. After every step the state is saved in the job (`updateData`) and the run
 * record, so a worker killed mid-run repeats at most the step in flight when BullMQ hands the stalled job to
 * another worker.
 */
export class RunWorker {
  readonly worker: Worker<RunJobData>;
  readonly #deps: RunWorkerDeps;
  readonly #opts: RunWorkerOptions;
  #lastTrim = 0;

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
    await endStrandedClients(clients);
    const timer = setTimeout(() => {
      this.worker.cancelAllJobs('shutdown');
      void endStrandedClients(clients);
    }, graceMs);
    try {
      await this.worker.close();
    } finally {
      clearTimeout(timer);
    }
  }

  async #process(job: Job<RunJobData>, token: string | undefined, signal: AbortSignal | undefined): Promise<{ status: string }> {
    const { store, catalog, log: baseLog } = this.#deps;
    const runId = job.data.runId;
    const view = await store.getRun(runId);
    if (!view) return { status: 'missing' };
    const log = baseLog.child({ runId, playbook: view.playbook });
    let state: RunState = (job.data.state as RunState | undefined) ?? view.state ?? initialRunState();
    if (FINAL_STATUSES.has(state.status)) return { status: state.status };

    const persist = async (s: RunState) => {
      await job.updateData({ runId, state: s });
      await store.saveState(runId, s);
    };

    const playbook = catalog.get(view.playbook);
    if (!playbook) {
      const d = finish(structuredClone(state), 'failed', `playbook "${view.playbook}" is no longer loaded`, this.#deps.clock.now());
      await persist(d.state);
      await this.#finished(view, d.state);
      return { status: d.state.status };
    }

    const ctx: RunContext = {
      run: {
        id: runId,
        playbook: view.playbook,
        dryRun: view.dryRun,
        manual: view.trigger !== 'alert',
        alert: view.alertResolvedAt ? { ...view.alert, status: 'resolved', endsAt: view.alertResolvedAt } : view.alert,
        episodeId: view.episodeId,
      },
      playbook,
      params: view.params,
      target: view.target,
      cancel: view.cancel,
      approvals: view.approvals,
    };
    if (state.status === 'queued') log.info({ trigger: view.trigger, dryRun: view.dryRun }, `run started: ${view.playbook}`);

    const deps: ExecutorDeps = {
      services: this.#deps.services,
      http: this.#deps.http,
      clock: this.#deps.clock,
      log,
      persist,
      guard: this.#deps.guard,
      escalate: this.#deps.escalate,
      onRung: this.#deps.onRung,
      observe: (uses, result, seconds) => this.#deps.metrics.stepDuration.observe({ uses, result }, seconds),
      recordDecision: async (reason, message) => {
        await store.decide({ at: new Date(this.#deps.clock.now()).toISOString(), reason, playbook: view.playbook, runId, episodeId: view.episodeId, message });
        this.#deps.metrics.decisions.inc({ reason, playbook: view.playbook });
      },
      maxObservations: this.#opts.maxObservations,
    };
    let outcome;
    try {
      outcome = await executeRun(ctx, state, deps, signal ?? new AbortController().signal);
    } catch (err) {
      if (err instanceof InterruptedError && token) {
        log.warn('step interrupted by shutdown; another worker will repeat it');
        await job.moveToDelayed(Date.now() + 500, token);
        throw new DelayedError();
      }
      throw err;
    }
    state = outcome.state;
    if (outcome.kind === 'sleep') {
      if (!token) throw new Error('a waiting run needs a job token');
      await job.moveToDelayed(Math.max(outcome.until, Date.now()), token);
      throw new DelayedError();
    }
    await this.#finished(view, state);
    return { status: state.status };
  }

  async #finished(view: RunView, state: RunState): Promise<void> {
    const { store, metrics, log } = this.#deps;
    metrics.runs.inc({ playbook: view.playbook, outcome: state.status });
    const reason: DecisionReason = state.status === 'succeeded' || state.status === 'completed' ? 'succeeded' : state.status === 'cancelled' ? 'cancelled' : state.status === 'escalated' ? 'escalated' : 'failed';
    await store.decide({ at: new Date(this.#deps.clock.now()).toISOString(), reason, playbook: view.playbook, runId: view.id, episodeId: view.episodeId, message: state.outcome ?? state.status });
    metrics.decisions.inc({ reason, playbook: view.playbook });
    log.child({ runId: view.id }).info({ status: state.status }, `run ${state.status}: ${state.outcome ?? ''}`);
    if (this.#deps.onFinished) {
      const final = await store.getRun(view.id);
      if (final) await this.#deps.onFinished(final).catch((err) => log.error({ err }, 'after-run hook failed'));
    }
    if (Date.now() - this.#lastTrim > 60_000) {
      this.#lastTrim = Date.now();
      await store.trim(this.#opts.retention.maxRecords, this.#opts.retention.maxAgeMs).catch((err) => log.warn({ err }, 'run retention trim failed'));
    }
  }
}

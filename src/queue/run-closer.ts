import type { Logger } from 'pino';
import type { RunStore } from '../store/run-store.ts';
import type { RunView } from '../store/run-record.ts';
import type { PlaybookCatalog } from '../playbooks/playbook-catalog.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Clock } from '../ports/clock.ts';
import type { MutationGuard } from '../engine/mutation-guard.ts';
import type { DecisionReason } from '../engine/decision.ts';
import { timeOutState, type ExecutorDeps } from '../engine/run-executor.ts';
import type { RunContext } from '../engine/run-context.ts';
import { FINAL_STATUSES, initialRunState, type RunState } from '../engine/run-state.ts';
import type { TargetLock } from '../guards/target-lock.ts';
import type { RunFence } from './run-fence.ts';
import { runDeadline } from './run-deadline.ts';

export interface RunCloserOptions {
  /** runs.maxDuration in ms: a run's deadline unless its playbook sets spec.maxDuration. */
  maxDurationMs: number;
  /** Run retention, applied at most once a minute after a run ends. */
  retention: { maxRecords: number; maxAgeMs: number };
}

export interface RunCloserDeps {
  store: RunStore;
  catalog: PlaybookCatalog;
  fence: RunFence;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
  /** Releases a run's target locks and remembers a fix (SafetyGuard.finishRun); absent when guards are off. */
  guard?: MutationGuard;
  /** The per-target locks, released directly when there is no guard. */
  targetLocks?: { lock: TargetLock };
  /**
   * Hands an escalated run to the escalator (the page): `targets` are the playbook's `onExhausted.targets`, undefined
   * when its playbook is no longer loaded (the severity policy then picks them). Absent when no escalation target is
   * configured: there is nothing to enqueue and an escalated run closes without a page.
   */
  page?(runId: string, targets: string[] | undefined, reason: string): Promise<void>;
  /** Called once a run has ended and its final decision is stored (e.g. to resolve a page on verified health). */
  onFinished?(view: RunView): Promise<void>;
}

/**
 * Everything that happens after the save that ends a run, in every process role:
 * - its decisions (`escalated`, and the closing one: succeeded, failed, escalated, skipped, cancelled),
 * - the page of an escalated run,
 * - releasing its target locks, the after-run hooks (resolve or note the incident), retention.
 *
 * That save also opens the run's closing in Redis (RunFence); `finish` closes it when all of the above is done. A
 * process killed in between leaves the closing open and the stuck-run sweeper calls `redrive`, which redoes only
 * what is not marked done: the page when `escalationEnqueuedAt` is missing, the closing decision when
 * `finalDecisionAt` is missing. An escalation that could not be enqueued (Redis trouble) also leaves the closing
 * open, so the page is tried again at the next sweep rather than lost. The hooks may run twice after a crash; they
 * are idempotent (a resolve goes only where an incident is open).
 *
 * It also closes overdue runs no worker holds (`closeOverdue`), for the sweeper.
 */
export class RunCloser {
  readonly #o: RunCloserOptions;
  readonly #d: RunCloserDeps;
  #lastTrim = 0;

  constructor(options: RunCloserOptions, deps: RunCloserDeps) {
    this.#o = options;
    this.#d = deps;
  }

  /** The executor's context for a stored run (the playbook as loaded now). */
  context(view: RunView, playbook: Playbook): RunContext {
    return {
      run: {
        id: view.id,
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
      deadline: runDeadline(view, playbook, this.#o.maxDurationMs),
      ...(view.holdUntil ? { holdUntil: Date.parse(view.holdUntil) } : {}),
    };
  }

  /** Records a decision with its reason on the run and its episode (the store counts it). */
  async recordDecision(view: RunView, reason: DecisionReason, message: string, by?: string): Promise<void> {
    await this.#d.store.recordDecision({
      at: this.#now(),
      reason,
      playbook: view.playbook,
      runId: view.id,
      episodeId: view.episodeId,
      ...(by ? { by } : {}),
      message,
    });
  }

  /**
   * The executor's escalation hook: enqueues the page, then marks it enqueued. Throws when it could not be enqueued
   * (the executor logs it; the closing stays open and the sweeper tries again).
   */
  readonly escalate: NonNullable<ExecutorDeps['escalate']> = (ctx, _state, reason) =>
    this.#page(ctx.run.id, ctx.playbook.onExhausted.targets, reason);

  async #page(runId: string, targets: string[] | undefined, reason: string): Promise<void> {
    if (!this.#d.page) return;
    await this.#d.page(runId, targets, reason);
    await this.#d.store.markEscalationEnqueued(runId, this.#now());
  }

  /**
   * The closing work after the save that ended the run (its page, if any, was already attempted by the executor):
   * the closing decision (recorded once, however often this runs), the after-run hook, retention. The closing is
   * closed only when nothing is left to redo.
   */
  async finish(view: RunView, state: RunState): Promise<void> {
    const { store, metrics, log } = this.#d;
    const reason = finalReason(state.status);
    // An escalation is recorded with its reason when it happens (executor, closeOverdue, redrive), and a cancel when
    // it is requested (RunStore.requestCancel); closing such a run records nothing more, so one escalation is one
    // `escalated` decision and one cancel one `cancelled` decision.
    const markOnly = reason === 'escalated' || reason === 'cancelled';
    // Counted only by the call that recorded the closing decision, so a redone closing does not count the run twice.
    if (
      await store.recordFinalDecision(
        {
          at: this.#now(),
          reason,
          playbook: view.playbook,
          runId: view.id,
          episodeId: view.episodeId,
          message: state.outcome ?? state.status,
        },
        { markOnly },
      )
    ) {
      metrics.runs.inc({ playbook: view.playbook, outcome: state.status });
    }
    log.child({ runId: view.id }).info({ status: state.status }, `run ${state.status}: ${state.outcome ?? ''}`);
    const final = await store.getRun(view.id);
    if (final && this.#d.onFinished)
      await this.#d.onFinished(final).catch((err) => log.error({ err, runId: view.id }, 'after-run hook failed'));
    if (final && this.#pageMissing(final)) {
      log.error({ runId: view.id }, 'the escalation of this run is not enqueued yet; the stuck-run sweeper tries again');
    } else {
      await this.#d.fence.closed(view.id);
    }
    if (Date.now() - this.#lastTrim > 60_000) {
      this.#lastTrim = Date.now();
      await store
        .trim(this.#o.retention.maxRecords, this.#o.retention.maxAgeMs)
        .catch((err) => log.warn({ err }, 'run retention trim failed'));
    }
  }

  /**
   * Redoes the closing work of a run whose closing stayed open (a process died after the final save, or its page
   * could not be enqueued): releases its locks, enqueues its page if that is not marked done, then `finish`.
   * Idempotent; true when it found a closing to complete.
   */
  async redrive(runId: string): Promise<boolean> {
    const { store, catalog, fence, log } = this.#d;
    const view = await store.getRun(runId);
    const state = view?.state;
    if (!view || !state || !FINAL_STATUSES.has(view.status)) {
      await fence.closed(runId);
      return false;
    }
    const playbook = catalog.get(view.playbook);
    const ctx = playbook ? this.context(view, playbook) : undefined;
    await this.#release(ctx, runId, state);
    const reason = state.escalation?.reason ?? state.outcome ?? 'escalated';
    if (view.status === 'escalated' && !view.decisions.some((d) => d.reason === 'escalated'))
      await this.recordDecision(view, 'escalated', reason);
    if (this.#pageMissing(view)) {
      log.warn({ runId, playbook: view.playbook }, 'enqueueing the escalation of a run whose closing was cut short');
      await this.#page(runId, playbook?.onExhausted.targets, reason);
    }
    await this.finish(view, state);
    return true;
  }

  /**
   * Closes a run that is past its deadline without a worker running it (the stuck-run sweeper calls this): the same
   * timed-out state the executor writes, saved only if the run has not ended meanwhile, so across replicas exactly
   * one closer records `timed_out`, releases the run's locks and pages. True when this call closed it.
   */
  async closeOverdue(runId: string): Promise<boolean> {
    const { store, catalog, fence, log } = this.#d;
    const view = await store.getRun(runId);
    if (!view || FINAL_STATUSES.has(view.status)) {
      await fence.forget(runId);
      return false;
    }
    const playbook = catalog.get(view.playbook);
    const deadline = runDeadline(view, playbook, this.#o.maxDurationMs);
    const now = this.#d.clock.now();
    if (now < deadline.at) return false;
    const { state, reason } = timeOutState(view.state ?? initialRunState(), deadline.limitMs, now);
    if ((await fence.save(runId, undefined, state, now)) !== 'saved') return false;
    log.warn({ runId, playbook: view.playbook, limitMs: deadline.limitMs }, `run closed by the sweeper: ${reason}`);
    await this.recordDecision(view, 'timed_out', `${reason}; no worker was running it`);
    const ctx = playbook ? this.context(view, playbook) : undefined;
    await this.#release(ctx, runId, state);
    await this.recordDecision(view, 'escalated', reason);
    await this.#page(runId, playbook?.onExhausted.targets, reason).catch((err) =>
      log.error({ err, runId }, 'escalation could not be enqueued; the stuck-run sweeper tries again'),
    );
    await this.finish(view, state);
    return true;
  }

  /** A page is owed: the run escalated, escalation is configured, and nothing marks it enqueued. */
  #pageMissing(view: RunView): boolean {
    return view.status === 'escalated' && this.#d.page !== undefined && !view.escalationEnqueuedAt;
  }

  async #release(ctx: RunContext | undefined, runId: string, state: RunState): Promise<void> {
    if (ctx && this.#d.guard?.finishRun) await this.#d.guard.finishRun(ctx, state);
    else await this.#d.targetLocks?.lock.release(runId);
  }

  #now(): string {
    return new Date(this.#d.clock.now()).toISOString();
  }
}

/** The decision that closes a run: its final status, so a run the guards skipped is not counted as a failure. */
function finalReason(status: RunState['status']): DecisionReason {
  switch (status) {
    case 'succeeded':
    case 'completed':
      return 'succeeded';
    case 'cancelled':
    case 'escalated':
    case 'skipped':
      return status;
    default:
      return 'failed';
  }
}

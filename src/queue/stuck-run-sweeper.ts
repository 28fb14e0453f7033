import { Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { RedisClient } from '../store/redis-connection.ts';
import type { RunStore } from '../store/run-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { RunQueue } from './run-queue.ts';
import type { RunFence } from './run-fence.ts';
import type { RunCloser } from './run-closer.ts';

export interface StuckRunSweeperOptions {
  /** How often to look (runs.sweepInterval). */
  intervalMs: number;
  /**
   * How long after its deadline an overdue run is left to the worker that may be about to close it itself
   * (default: `intervalMs`). Only then does the sweeper close it.
   */
  graceMs?: number;
  /** A run still `queued` this long after its creation is queued again (default 30 s). */
  queuedAfterMs?: number;
  /** Overdue runs, and closings, looked at per sweep (default 100); the rest wait for the next one. */
  batch?: number;
  /**
   * How long a run's closing work (its decisions, its page, the after-run hooks; see run-closer.ts) may stay open
   * before the sweeper takes it for cut short and redoes it (runs.closingGrace, default 60 s). It normally takes
   * milliseconds; a sweeper that redid work still in progress could send one extra note on the incident.
   */
  closingGraceMs?: number;
}

export interface StuckRunSweeperDeps {
  store: RunStore;
  runQueue: RunQueue;
  /** The BullMQ queue behind `runQueue`, to tell whether a live worker holds a run's job. */
  queue: Queue;
  fence: RunFence;
  /** A command connection to the same Redis (reads BullMQ's job lock). */
  redis: RedisClient;
  /** Closes overdue runs and redoes cut-short closings. */
  closer: Pick<RunCloser, 'closeOverdue' | 'redrive'>;
  clock: Clock;
  log: Logger;
  /** Resumes GitOps syncs suspended by runs that ended without resuming them (spec.gitops: suspend, a crash). */
  gitops?: { resumeOrphans(): Promise<number> };
  /**
   * Adds the approvers' notice job of runs left waiting for approval without one (a crash between the
   * `awaiting_approval` decision and the job; src/escalation/approval-notices.ts `redrive`). Absent: nobody is told.
   */
  announceApprovals?: () => Promise<string[]>;
}

/**
 * Makes sure no run is lost or stuck forever, whatever happened to its job:
 * - a run recorded whose job was never queued (Redis failed between the two writes and nobody retried) is queued;
 * - a run past its deadline (runs.maxDuration / spec.maxDuration) that no live worker holds is closed: escalated,
 *   `timed_out`, paged once;
 * - a GitOps sync a run suspended (spec.gitops: suspend) and that run ended without resuming is resumed;
 * - a run whose closing work (decisions, page, after-run hooks) a crash cut short is completed (RunCloser.redrive);
 * - a run waiting for approval whose approvers' notice job a crash kept from the queue gets it (announceApprovals). That covers a job that was lost or failed for good (a worker that keeps dying exhausts
 *   BullMQ's stalled count), and a waiting or delayed job nobody picks up. A run whose job a live worker holds (its
 *   BullMQ job lock exists) is left to that worker, which checks the deadline before every step.
 *
 * Every replica may sweep at once: closing goes through the run fence, so each run is closed, recorded and paged
 * once.
 */
export class StuckRunSweeper {
  readonly #o: Required<StuckRunSweeperOptions>;
  readonly #d: StuckRunSweeperDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(options: StuckRunSweeperOptions, deps: StuckRunSweeperDeps) {
    this.#o = { graceMs: options.intervalMs, queuedAfterMs: 30_000, batch: 100, closingGraceMs: 60_000, ...options };
    this.#d = deps;
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.sweep()
        .catch((err) => this.#d.log.warn({ err }, 'stuck-run sweep failed; trying again at the next one'))
        .finally(() => (this.#running = undefined));
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One pass; returns what it did. */
  async sweep(): Promise<{ requeued: number; closed: string[]; redriven: string[]; announced: string[] }> {
    const { store, runQueue, fence, clock, closer, log } = this.#d;
    const queued = await store.queuedRuns(this.#o.queuedAfterMs, clock.now(), this.#o.batch);
    for (const id of queued) await runQueue.enqueue(id);
    const closed: string[] = [];
    for (const id of await fence.overdue(clock.now() - this.#o.graceMs, this.#o.batch)) {
      if (await this.#heldByLiveWorker(id)) continue;
      if (await closer.closeOverdue(id)) closed.push(id);
    }
    const redriven: string[] = [];
    const now = clock.now();
    for (const id of await fence.takeClosings(now - this.#o.closingGraceMs, now, this.#o.batch)) {
      // One failure (Redis trouble, the escalator away) must not stop the others; the closing stays open for later.
      try {
        if (await closer.redrive(id)) redriven.push(id);
      } catch (err) {
        log.warn({ err, runId: id }, 'could not complete the closing of a run; trying again at a later sweep');
      }
    }
    // After the closings: a run closed just now has resumed what it suspended; what is left is an orphan.
    const resumed = (await this.#d.gitops?.resumeOrphans()) ?? 0;
    if (resumed > 0) log.warn({ resumed }, 'resumed GitOps syncs suspended by runs that ended without resuming them');
    let announced: string[] = [];
    try {
      announced = (await this.#d.announceApprovals?.()) ?? [];
    } catch (err) {
      log.warn({ err }, 'could not add the approval notices of waiting runs; trying again at a later sweep');
    }
    return { requeued: queued.length, closed, redriven, announced };
  }

  /**
   * A job in BullMQ's active state whose job lock still exists: a worker that renews it is running the run. (The
   * lock key is `<prefix>:<queue>:<jobId>:lock`, BullMQ's own layout; a dead worker's lock expires after
   * worker.lockDuration.)
   */
  async #heldByLiveWorker(runId: string): Promise<boolean> {
    const queue = this.#d.queue;
    const job = await Job.fromId(queue, runId);
    if (!job || (await job.getState()) !== 'active') return false;
    return (await this.#d.redis.exists(queue.toKey(`${runId}:lock`))) === 1;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { RunStore } from '../store/run-store.ts';
import type { VirtualClock } from './virtual-clock.ts';
import { FINAL_STATUSES } from '../engine/run-state.ts';
import { runSettled } from '../store/run-record.ts';
import { RemediatorError } from '../domain/errors.ts';

/** What settling needs of the run queue: wake a run, and see what became of a run's job. */
export interface SettleQueue {
  wake(runId: string): Promise<void>;
  /** The job's state (`waiting`, `active`, `delayed`, `failed`, …) and, for a failed one, why. */
  job(runId: string): Promise<{ state: string; failedReason?: string }>;
}

export interface SettleDeps {
  store: RunStore;
  queue: SettleQueue;
  clock: VirtualClock;
  /** Runs not known to have ended; ended ones are removed from it. */
  live: Set<string>;
  /** Runs the caller did not start itself (e.g. the engine's own): looked up on every look and added to `live`. */
  discover?(): Promise<Iterable<string>>;
  /**
   * What changes beside the engine (the simulated cluster). While it is busy (pods about to become Ready) the clock
   * does not move and no run is woken, so what it does takes no virtual time and every run sees it done; after each
   * jump it is told, so its own time-based state (progress deadlines) follows the clock before a run looks.
   */
  world?: { busy(): boolean; advanced(): void };
}

export interface SettleOptions {
  /** Virtual time (ms since the epoch) to reach. Runs due before it are played through first. */
  until: number;
  /** Real time after which settling gives up (ms since the epoch, real clock). */
  deadline: number;
  /** Real ms between looks at the runs; default 15. */
  pollMs?: number;
  /** Jump to `until` once nothing is due before it (default true). False: stop where the last run ended. */
  jumpToUntil?: boolean;
  signal?: AbortSignal;
}

/**
 * Plays the engine forward to a virtual time, the way a discrete-event simulation does: while any run is executing
 * (queued, running, or due to wake) it waits in real time; once every run has ended or sleeps past the next due
 * time, it jumps the clock to the earliest wake-up and wakes that run (its BullMQ job was delayed by the jump's
 * worth of real time, so it is promoted now; the engine itself checks `wakeAt` against the clock). When nothing is
 * due before `until`, the clock jumps to `until` and this returns.
 *
 * Jumps happen only when no step is executing, so no step sees time move under it; the engine's own decisions
 * (retry backoff, gate intervals and timeouts, guard windows) all read the same clock.
 */
export async function settleRuns(deps: SettleDeps, options: SettleOptions): Promise<void> {
  const { store, queue, clock, live, world } = deps;
  const pollMs = options.pollMs ?? 15;
  // The clock moves only after two looks in a row found every run ended or asleep: one look can fall between a
  // worker's writes (the run record, then its job's move to delayed) and see a state that is already gone.
  let quietLooks = 0;
  // Runs looked at during this call: an ended one that `discover` lists again is not news.
  const seen = new Set(live);
  for (;;) {
    options.signal?.throwIfAborted();
    if (Date.now() > options.deadline) {
      throw new RemediatorError('REM_ERR_INTERNAL', `ran out of real time with ${live.size} run(s) still busy: ${[...live].join(', ')}`);
    }
    if (world?.busy()) {
      quietLooks = 0;
      await sleep(pollMs, undefined, { signal: options.signal });
      continue;
    }
    const now = clock.now();
    let busy = false;
    let nextWake = Number.POSITIVE_INFINITY;
    // Every 5-15 ms while runs execute: the run's progress only, not its record and decisions.
    const views = await Promise.all([...live].map(async (id) => [id, await store.getProgress(id)] as const));
    for (const [id, view] of views) {
      if (!view || runSettled(view)) {
        live.delete(id);
        continue;
      }
      // Ended, its closing decision about to be recorded (the report reads the decisions).
      if (FINAL_STATUSES.has(view.status)) {
        busy = true;
        continue;
      }
      const wakeAt = view.wakeAt;
      if ((view.status === 'waiting' || view.status === 'awaiting_approval') && wakeAt !== undefined) {
        if (wakeAt <= now) {
          busy = true;
          // Idempotent; a job not yet moved to delayed is woken on the next look.
          await queue.wake(id);
        } else {
          nextWake = Math.min(nextWake, wakeAt);
        }
      } else {
        // queued or running, or asleep without a wake-up time: it is about to change, so it counts as busy (a run
        // that never changes ends the replay at its deadline rather than being passed over by the clock).
        busy = true;
        // A run that is neither ended nor asleep but whose job failed will never move: the engine broke (an
        // unexpected error, not a step failure). A job of such a run in `delayed` is BullMQ's retry of that error
        // on a real-time backoff; promote it so a permanent failure shows in a moment, not after minutes.
        const job = await queue.job(id);
        if (job.state === 'failed')
          throw new RemediatorError('REM_ERR_INTERNAL', `run ${id} cannot go on: its job failed: ${job.failedReason ?? 'no reason given'}`);
        if (job.state === 'delayed') await queue.wake(id);
      }
    }
    // Before the clock may move (the last quiet look): a run nobody told us about would sleep through the jump.
    if (!busy && quietLooks >= 1 && deps.discover) {
      for (const id of await deps.discover()) {
        if (seen.has(id)) continue;
        seen.add(id);
        live.add(id);
        busy = true;
      }
    }
    if (busy || ++quietLooks < 2) {
      if (busy) quietLooks = 0;
      await sleep(pollMs, undefined, { signal: options.signal });
      continue;
    }
    quietLooks = 0;
    if (nextWake <= options.until) {
      clock.advanceTo(nextWake);
      world?.advanced();
      continue;
    }
    if (options.jumpToUntil !== false) {
      clock.advanceTo(options.until);
      world?.advanced();
    }
    return;
  }
}

import type { Clock } from '../ports/clock.ts';

/**
 * A virtual clock for playing the real engine faster than real time (`remediator replay`, `remediator test`): it
 * runs with real time and jumps forward when told to. `settleRuns` jumps it only while no run is executing a step
 * (every run has ended or sleeps until a later time), so an hour of re-sends, retry backoffs and gate polls plays in
 * seconds while each step still sees time pass normally. It never goes back.
 */
export class VirtualClock implements Clock {
  #offset = 0;

  now(): number {
    return Date.now() + this.#offset;
  }

  /** Jumps to `at` (ms since the epoch) if that is later than now. */
  advanceTo(at: number): void {
    const ahead = at - this.now();
    if (ahead > 0) this.#offset += ahead;
  }

  /** How far virtual time is ahead of real time (ms). */
  get offset(): number {
    return this.#offset;
  }
}

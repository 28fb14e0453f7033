import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import { storeCall } from '../store/store-call.ts';

export interface RunWakesOptions {
  /**
   * How long a wake waits for the worker holding the run to put it to sleep. Default 10 minutes: longer than any
   * step saves its state. A wake nobody takes costs the run one early look at its state later, nothing more (a run
   * woken early with nothing changed goes back to sleep, run-executor.ts).
   */
  ttlMs?: number;
}

const DEFAULT_TTL_MS = 10 * 60_000;

/**
 * Wakes that must not be lost while a worker holds the run. A wake (a cancel, an approval, a resolve, a freed target
 * lock) promotes the run's delayed job; a job that is active cannot be promoted, and the worker may be about to put it
 * to sleep on state read before the wake's cause. So every wake is marked first, then promoted, and a worker that
 * puts a run to sleep takes the mark afterwards and promotes the job itself:
 * - the worker took the mark after it was set: the worker promotes;
 * - it looked before: its job was already delayed when the waker promoted it.
 */
export class RunWakes {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #ttlMs: number;

  constructor(redis: RedisClient, keys: Keys, options: RunWakesOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  }

  /** Leaves a wake for the run, before its job is promoted. */
  async mark(runId: string): Promise<void> {
    await storeCall(() => this.#redis.set(this.#keys.runWake(runId), '1', 'PX', this.#ttlMs));
  }

  /** The promotion reached the sleeping job: the mark is not needed. */
  async clear(runId: string): Promise<void> {
    await storeCall(() => this.#redis.del(this.#keys.runWake(runId)));
  }

  /** True once per mark: a wake came while the caller held the run, which must now look at its state again. */
  async take(runId: string): Promise<boolean> {
    return (await storeCall(() => this.#redis.getdel(this.#keys.runWake(runId)))) !== null;
  }
}

import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import type { FixMemory } from './ineffective-policy.ts';
import { storeCall } from '../store/store-call.ts';

/**
 * The last successful fix per playbook and target (which rung, when, which run), kept for the ineffectiveness
 * window. A later success replaces it; nothing else writes it.
 */
export class FixMemoryStore {
  readonly #redis: RedisClient;
  readonly #keys: Keys;

  constructor(redis: RedisClient, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async remember(playbook: string, target: string, fix: FixMemory, windowMs: number): Promise<void> {
    const key = this.#keys.guardFix(playbook, target);
    await storeCall(() =>
      this.#redis.multi().del(key).hset(key, { rung: fix.rung, at: fix.at, runId: fix.runId }).pexpire(key, windowMs).exec(),
    );
  }

  async recall(playbook: string, target: string): Promise<FixMemory | undefined> {
    const h = await storeCall(() => this.#redis.hgetall(this.#keys.guardFix(playbook, target)));
    if (h.runId === undefined) return undefined;
    return { rung: Number(h.rung), at: Number(h.at), runId: h.runId };
  }
}

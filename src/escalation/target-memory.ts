import type { RedisClient } from '../store/redis-connection.ts';
import type { DeliveryKeys } from './delivery-keys.ts';
import type { TargetMemory } from './targets/paging-target.ts';

/** TargetMemory in Redis: one string per target and episode, kept as long as the record of an open incident. */
export class RedisTargetMemory implements TargetMemory {
  readonly #redis: RedisClient;
  readonly #keys: DeliveryKeys;
  readonly #ttlMs: number;

  constructor(redis: RedisClient, keys: DeliveryKeys, options: { ttlMs: number }) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlMs = options.ttlMs;
  }

  get(target: string, episodeKey: string): Promise<string | null> {
    return this.#redis.get(this.#keys.memo(target, episodeKey));
  }

  async set(target: string, episodeKey: string, value: string): Promise<void> {
    await this.#redis.set(this.#keys.memo(target, episodeKey), value, 'PX', this.#ttlMs);
  }
}

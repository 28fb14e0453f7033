import type { RedisClient } from '../store/redis-connection.ts';
import type { DeliveryKeys } from './delivery-keys.ts';
import type { DeliveryItem } from './targets/paging-target.ts';

/**
 * An event that will not be delivered: a provider refused it (4xx other than 408/429) or it kept failing until its
 * attempts ran out. The error is redacted before it gets here; the body never held a secret (see DeliveryItem).
 */
export interface DeadLetter {
  deliveryId: string;
  target: string;
  type: DeliveryItem['type'];
  action: DeliveryItem['action'];
  episodeKey: string;
  level: DeliveryItem['level'];
  /** Why, redacted: `HTTP 400: {"status":"invalid event","errors":["…"]}`. */
  error: string;
  status?: number;
  attempts: number;
  enqueuedAt: string;
  failedAt: string;
  /** The rendered event when its JSON is at most 16 KiB (enough to replay by hand); else omitted. */
  body?: unknown;
}

const BODY_KEEP_CHARS = 16 * 1024;

export class DeadLetterStore {
  readonly #redis: RedisClient;
  readonly #keys: DeliveryKeys;
  readonly #keep: number;

  constructor(redis: RedisClient, keys: DeliveryKeys, options: { keep: number }) {
    this.#redis = redis;
    this.#keys = keys;
    this.#keep = options.keep;
  }

  async add(item: DeliveryItem, failure: { error: string; status?: number; attempts: number; at: string }): Promise<DeadLetter> {
    const record: DeadLetter = {
      deliveryId: item.id,
      target: item.target,
      type: item.type,
      action: item.action,
      episodeKey: item.episodeKey,
      level: item.level,
      error: failure.error,
      ...(failure.status === undefined ? {} : { status: failure.status }),
      attempts: failure.attempts,
      enqueuedAt: item.enqueuedAt,
      failedAt: failure.at,
    };
    const body = JSON.stringify(item.body);
    if (body !== undefined && body.length <= BODY_KEEP_CHARS) record.body = item.body;
    await this.#redis
      .multi()
      .lpush(this.#keys.dead(), JSON.stringify(record))
      .ltrim(this.#keys.dead(), 0, this.#keep - 1)
      .exec();
    return record;
  }

  /** Newest first. */
  async list(limit = 100): Promise<DeadLetter[]> {
    const raw = await this.#redis.lrange(this.#keys.dead(), 0, Math.max(0, limit - 1));
    return raw.map((r) => JSON.parse(r) as DeadLetter);
  }
}

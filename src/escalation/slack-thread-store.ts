import type { RedisClient } from '../store/redis-connection.ts';
import type { DeliveryKeys } from './delivery-keys.ts';

/** Where one incident's Slack message lives: its channel and `ts`, the thread every later event replies in. */
export interface SlackThread {
  channel: string;
  ts: string;
}

/**
 * One Slack thread per episode and slack-app target, kept in Redis so every worker (and a restarted one) edits the
 * same message and replies in the same thread. It expires with the record of open incidents (openIncidentTtl).
 */
export class SlackThreadStore {
  readonly #redis: RedisClient;
  readonly #keys: DeliveryKeys;
  readonly #ttlMs: number;

  constructor(redis: RedisClient, keys: DeliveryKeys, options: { ttlMs: number }) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlMs = options.ttlMs;
  }

  async get(target: string, episodeKey: string): Promise<SlackThread | undefined> {
    const h = await this.#redis.hgetall(this.#keys.slackThread(target, episodeKey));
    return h.channel && h.ts ? { channel: h.channel, ts: h.ts } : undefined;
  }

  async set(target: string, episodeKey: string, thread: SlackThread): Promise<void> {
    const key = this.#keys.slackThread(target, episodeKey);
    await this.#redis.multi().hset(key, { channel: thread.channel, ts: thread.ts }).pexpire(key, this.#ttlMs).exec();
  }
}

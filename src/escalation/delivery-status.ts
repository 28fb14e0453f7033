import type { RedisClient } from '../store/redis-connection.ts';
import type { DeliveryKeys } from './delivery-keys.ts';
import type { DeliveryItem } from './targets/paging-target.ts';

/**
 * Where one event for a paging target stands:
 * - queued: in its chain, not tried yet (or waiting for the target's rate limit);
 * - sent: the target took it (2xx);
 * - retrying: the last attempt failed (a 5xx, 429, 408, or no answer) and another goes at `nextAt`;
 * - failed: the target refused it (a 4xx that sending again cannot fix); it is in the dead letter;
 * - dead-lettered: it will not be sent: its attempts ran out, its target is no longer configured, or the trigger it
 *   needed was refused; it is in the dead letter.
 */
export type DeliveryStateName = 'queued' | 'sent' | 'retrying' | 'failed' | 'dead-lettered';

/** The state of one event (trigger, update or resolve) at one target. No secret: the error is redacted first. */
export interface DeliveryState {
  deliveryId: string;
  target: string;
  type: DeliveryItem['type'];
  action: DeliveryItem['action'];
  level: DeliveryItem['level'];
  /** The run whose report the event carries. */
  runId?: string;
  enqueuedAt: string;
  state: DeliveryStateName;
  /** When it came to this state. */
  at: string;
  /** Attempts made so far. */
  attempts: number;
  /** retrying: when the next attempt goes. */
  nextAt?: string;
  /** The HTTP status of the last answer, when there was one. */
  status?: number;
  /** Why the last attempt failed or the event was dropped (redacted). */
  error?: string;
}

/**
 * The delivery state of every event of an episode, by delivery id: one hash per episode, written by the escalator
 * when it queues an event and by the delivery pump after each attempt, read by the run API and the console. It is a
 * record for people; the chains, not this, decide what is sent. Kept as long as the record of an open incident.
 */
export class DeliveryStatusStore {
  readonly #redis: RedisClient;
  readonly #keys: DeliveryKeys;
  readonly #ttlMs: number;
  readonly #channel: string | undefined;

  /**
   * `runEvents`: the channel run changes are announced on (src/store/run-events.ts); each state written is announced
   * there as a change of the run the event belongs to, so a console showing that run re-reads it. Default: none.
   */
  constructor(redis: RedisClient, keys: DeliveryKeys, options: { ttlMs: number; runEvents?: string }) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlMs = options.ttlMs;
    this.#channel = options.runEvents;
  }

  async record(
    item: DeliveryItem,
    now: Pick<DeliveryState, 'state' | 'at' | 'attempts'> & Partial<Pick<DeliveryState, 'nextAt' | 'status' | 'error'>>,
  ): Promise<void> {
    const record: DeliveryState = {
      deliveryId: item.id,
      target: item.target,
      type: item.type,
      action: item.action,
      level: item.level,
      ...(item.runId === undefined ? {} : { runId: item.runId }),
      enqueuedAt: item.enqueuedAt,
      ...now,
    };
    const key = this.#keys.status(item.episodeKey);
    // `queued` is written by the producer, which may come after a pump already sent it: it never overwrites.
    const m = this.#redis.multi();
    if (now.state === 'queued') m.hsetnx(key, item.id, JSON.stringify(record));
    else m.hset(key, item.id, JSON.stringify(record));
    m.pexpire(key, this.#ttlMs);
    if (this.#channel && item.runId) m.publish(this.#channel, item.runId);
    await m.exec();
  }

  /** Every event of the episode, oldest first. */
  async list(episodeKey: string): Promise<DeliveryState[]> {
    const all = Object.values(await this.#redis.hgetall(this.#keys.status(episodeKey))).map((r) => JSON.parse(r) as DeliveryState);
    return all.sort((a, b) => a.enqueuedAt.localeCompare(b.enqueuedAt) || a.target.localeCompare(b.target));
  }
}

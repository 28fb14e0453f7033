import type { RedisClient } from '../store/redis-connection.ts';
import { storeCall } from '../store/store-call.ts';

/**
 * One entry of an episode's customer notice: a text a person proposed (`drafted`, waiting for an approver), or an
 * answer: the text as approved and sent, or a rejection.
 */
export interface NoticeRecord {
  status: 'drafted' | 'sent' | 'rejected';
  /** The text proposed, approved (sent) or the draft that was rejected. */
  text: string;
  by: string;
  reason: string;
  at: string;
  /** Targets the notice was queued for (sent only). */
  targets?: string[];
}

/** The drafts and answers of an episode's customer notices, oldest first, in one Redis list per episode. */
export class NoticeLog {
  readonly #redis: RedisClient;
  readonly #key: (episodeKey: string) => string;
  readonly #ttlMs: number;

  constructor(redis: RedisClient, key: (episodeKey: string) => string, options: { ttlMs: number }) {
    this.#redis = redis;
    this.#key = key;
    this.#ttlMs = options.ttlMs;
  }

  async add(episodeKey: string, record: NoticeRecord): Promise<void> {
    const key = this.#key(episodeKey);
    await storeCall(() => this.#redis.multi().rpush(key, JSON.stringify(record)).pexpire(key, this.#ttlMs).exec());
  }

  async list(episodeKey: string): Promise<NoticeRecord[]> {
    return (await storeCall(() => this.#redis.lrange(this.#key(episodeKey), 0, -1))).map((s) => JSON.parse(s) as NoticeRecord);
  }
}

/** The answers (sent, rejected) among an episode's notice records, without the drafts. */
export function noticeAnswers(records: NoticeRecord[]): NoticeRecord[] {
  return records.filter((r) => r.status !== 'drafted');
}

import type { RedisClient } from '../store/redis-connection.ts';
import { storeCall } from '../store/store-call.ts';

/** One thing a person did to an episode's incident. */
export interface HumanMark {
  person: string;
  source: string;
  at: string;
}

/**
 * What people did to an episode's incident so far: the first acknowledgement, the first acknowledgement that stopped
 * automation (`takeover`: a Slack Take over, or any acknowledgement with `onHumanAck: stop`) and the first resolve.
 */
export interface HumanMarks {
  ack?: HumanMark;
  takeover?: HumanMark;
  resolve?: HumanMark;
}

/**
 * "People have this incident": the first acknowledgement, take-over and resolve of an episode, in one Redis hash per
 * episode (`<episode key>:human`). The first of each kind wins (HSETNX), so a provider that redelivers an event
 * (PagerDuty delivers at least once) is told apart from a new one, and the response-time tiers read the same mark to
 * know a person answered. Kept as long as the episode's decisions.
 */
export class HumanTakeovers {
  readonly #redis: RedisClient;
  readonly #key: (episodeKey: string) => string;
  readonly #ttlMs: number;

  constructor(redis: RedisClient, key: (episodeKey: string) => string, options: { ttlMs: number }) {
    this.#redis = redis;
    this.#key = key;
    this.#ttlMs = options.ttlMs;
  }

  /** Records the mark unless one of that kind exists; true when this call recorded it. */
  async mark(episodeKey: string, kind: keyof HumanMarks, mark: HumanMark): Promise<boolean> {
    return this.#setOnce(episodeKey, kind, JSON.stringify(mark));
  }

  /**
   * Whether this is the first delivery of a person's note (its provider event id) to the episode; kept in the same
   * hash, so a redelivered note (PagerDuty delivers at least once) is recorded once.
   */
  async firstNote(episodeKey: string, eventId: string): Promise<boolean> {
    return this.#setOnce(episodeKey, `note:${eventId}`, '1');
  }

  async #setOnce(episodeKey: string, field: string, value: string): Promise<boolean> {
    const key = this.#key(episodeKey);
    const [[, set] = []] = (await storeCall(() => this.#redis.multi().hsetnx(key, field, value).pexpire(key, this.#ttlMs).exec())) ?? [];
    return set === 1;
  }

  async get(episodeKey: string): Promise<HumanMarks> {
    const h = await storeCall(() => this.#redis.hgetall(this.#key(episodeKey)));
    const out: HumanMarks = {};
    if (h.ack) out.ack = JSON.parse(h.ack) as HumanMark;
    if (h.takeover) out.takeover = JSON.parse(h.takeover) as HumanMark;
    if (h.resolve) out.resolve = JSON.parse(h.resolve) as HumanMark;
    return out;
  }

  /**
   * Who stopped automation for the episode (the safety guard's `takenOver`): whoever resolved it, else whoever took it
   * over. `ackStops` (onHumanAck: stop) also counts a plain acknowledgement, for marks written before `takeover`
   * existed.
   */
  async stoppedBy(episodeKey: string, ackStops: boolean): Promise<string | undefined> {
    const marks = await this.get(episodeKey);
    return (marks.resolve ?? marks.takeover ?? (ackStops ? marks.ack : undefined))?.person;
  }
}

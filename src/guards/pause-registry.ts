import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import { pauseField, isActive, type PauseRecord, type PauseScope } from './pause-policy.ts';
import { storeCall } from '../store/store-call.ts';
import type { Result } from 'ioredis';

// The Lua scripts this file defines with `defineCommand`, as methods on the client (ioredis adds them at run time).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    remGuardLiftPause(...keysThenArgs: Array<string | number>): Result<string | null, Context>;
  }
}

/** One line of the pause history: who set, lifted or tripped which pause, when and why. */
export interface PauseEvent {
  event: 'set' | 'lifted';
  at: string;
  by: string;
  reason: string;
  pause: PauseRecord;
}

/** Pause events kept in the history. */
export const HISTORY_KEPT = 200;

/**
 * Removes a pause and records who lifted it, atomically, so two operators cannot both lift (and log) one pause.
 * Lifting the global pause also clears the storm counter: the operator says the fleet may act again, and the
 * targets counted before must not trip the breaker (and page) again at the next mutation.
 * KEYS: pauses, log, storm counter. ARGV: field, event JSON, history cap.
 */
const LIFT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[1] == 'global' then redis.call('DEL', KEYS[3]) end
local ev = cjson.decode(ARGV[2])
ev.pause = cjson.decode(cur)
redis.call('LPUSH', KEYS[2], cjson.encode(ev))
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return cur
`;

/**
 * The pauses in Redis: one hash field per scope (global, namespace:<ns>, playbook:<name>), JSON records, and a
 * capped history of every change. Expired pauses (`until` passed) are treated as absent; the storm breaker writes
 * its pause in the same hash from its own script (storm-breaker.ts).
 */
export class PauseRegistry {
  readonly #redis: RedisClient;
  readonly #keys: Keys;

  constructor(redis: RedisClient, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
    redis.defineCommand('remGuardLiftPause', { numberOfKeys: 3, lua: LIFT });
  }

  /** Every pause in force at `now`. */
  async active(now: number): Promise<PauseRecord[]> {
    const all = await storeCall(() => this.#redis.hgetall(this.#keys.guardPauses()));
    return Object.values(all)
      .map((v) => JSON.parse(v) as PauseRecord)
      .filter((p) => isActive(p, now));
  }

  /** Sets (or replaces) the pause of one scope. */
  async set(pause: PauseRecord): Promise<void> {
    const ev: PauseEvent = { event: 'set', at: pause.since, by: pause.by, reason: pause.reason, pause };
    await storeCall(() =>
      this.#redis
        .multi()
        .hset(this.#keys.guardPauses(), pauseField(pause.scope, pause.value), JSON.stringify(pause))
        .lpush(this.#keys.guardPauseLog(), JSON.stringify(ev))
        .ltrim(this.#keys.guardPauseLog(), 0, HISTORY_KEPT - 1)
        .exec(),
    );
  }

  /** Lifts the pause of one scope; returns it, or undefined when there was none. */
  async lift(scope: PauseScope, value: string | undefined, by: string, reason: string, now: number): Promise<PauseRecord | undefined> {
    const ev = { event: 'lifted', at: new Date(now).toISOString(), by, reason };
    const cur = await storeCall(() =>
      this.#redis.remGuardLiftPause(
        this.#keys.guardPauses(),
        this.#keys.guardPauseLog(),
        this.#keys.guardStorm(),
        pauseField(scope, value),
        JSON.stringify(ev),
        HISTORY_KEPT,
      ),
    );
    return cur ? (JSON.parse(cur) as PauseRecord) : undefined;
  }

  /** The latest pause events, newest first. */
  async history(limit: number): Promise<PauseEvent[]> {
    const rows = await storeCall(() => this.#redis.lrange(this.#keys.guardPauseLog(), 0, limit - 1));
    return rows.map((r) => JSON.parse(r) as PauseEvent);
  }
}

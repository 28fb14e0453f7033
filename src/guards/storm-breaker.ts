import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import { stormPause, type StormSettings } from './storm-policy.ts';
import type { PauseRecord } from './pause-policy.ts';
import { storeCall } from '../store/store-call.ts';
import { HISTORY_KEPT } from './pause-registry.ts';
import { CLAIM, claimArgs, claimKeys, claimResult, type ClaimRequest, type ClaimResult } from './target-lock.ts';
import type { Result } from 'ioredis';

// The Lua scripts this file defines with `defineCommand`, as methods on the client (ioredis adds them at run time).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    remGuardStorm(...keysThenArgs: Array<string | number>): Result<[string, string, string?], Context>;
    remGuardStormClaim(...keysThenArgs: Array<string | number>): Result<[string, string, string?, string?], Context>;
  }
}

/**
 * Records that a target needs an automatic mutation and trips the breaker when the fleet crosses the threshold.
 * One script: read the global pause, count, and set the pause, so exactly one caller sees `tripped` (and pages)
 * however many workers race; everyone after it sees `paused`.
 * KEYS: storm zset, pauses hash, pause log. ARGV: target, now, window, threshold, pause JSON, history cap.
 */
const RECORD = `
local now = tonumber(ARGV[2])
local cur = redis.call('HGET', KEYS[2], 'global')
if cur then
  local p = cjson.decode(cur)
  if p.untilMs == nil or tonumber(p.untilMs) > now then return {'paused', cur} end
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
if n > tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[2], 'global', ARGV[5])
  local p = cjson.decode(ARGV[5])
  redis.call('LPUSH', KEYS[3], cjson.encode({ event = 'set', at = p.since, by = p.by, reason = p.reason, pause = p }))
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[6]) - 1)
  return {'tripped', ARGV[5], tostring(n)}
end
return {'ok', tostring(n)}
`;

/**
 * RECORD, then, only when it answers `ok`, the target lock's CLAIM (target-lock.ts), in one script: one round trip
 * for the two last checks before a mutation, and nothing can change between them (a pause set or lifted, another
 * run's claim). Each script runs as a function over its own KEYS and ARGV. Answers RECORD's `paused`/`tripped`
 * reply, or `ok`, the count and CLAIM's reply.
 * KEYS: RECORD's 3, then CLAIM's 5. ARGV: RECORD's 6, then CLAIM's 11.
 */
const RECORD_THEN_CLAIM = `
local function record(KEYS, ARGV)
${RECORD}
end
local function claim(KEYS, ARGV)
${CLAIM}
end
local storm = record({KEYS[1], KEYS[2], KEYS[3]}, {ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]})
if storm[1] ~= 'ok' then return storm end
local c = claim({KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]}, {unpack(ARGV, 7)})
return {'ok', storm[2], c[1], c[2]}
`;

type StormOk = { kind: 'ok'; count: number };

export type StormResult = StormOk | { kind: 'paused'; pause: PauseRecord } | { kind: 'tripped'; pause: PauseRecord; count: number };

export class StormBreaker {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #settings: StormSettings;

  constructor(redis: RedisClient, keys: Keys, settings: StormSettings) {
    this.#redis = redis;
    this.#keys = keys;
    this.#settings = settings;
    redis.defineCommand('remGuardStorm', { numberOfKeys: 3, lua: RECORD });
    redis.defineCommand('remGuardStormClaim', { numberOfKeys: 8, lua: RECORD_THEN_CLAIM });
  }

  /** Counts `target` (ns/Kind/name) at `now`; the answer says whether automatic mutations may go on. */
  async record(target: string, now: number): Promise<StormResult> {
    const [kind, value, count] = await storeCall(() => this.#redis.remGuardStorm(...this.#recordKeys(), ...this.#recordArgs(target, now)));
    if (kind === 'ok') return { kind, count: Number(value) };
    if (kind === 'tripped') return { kind, pause: JSON.parse(value) as PauseRecord, count: Number(count) };
    return { kind: 'paused', pause: JSON.parse(value) as PauseRecord };
  }

  /**
   * `record`, and when automatic mutations may go on, the target lock's claim (TargetLock.claim) in the same atomic
   * step: the answer then carries the claim's. A `paused` or `tripped` answer claimed nothing.
   */
  async recordThenClaim(
    target: string,
    now: number,
    claim: ClaimRequest,
  ): Promise<Exclude<StormResult, StormOk> | (StormOk & { claim: ClaimResult })> {
    const [kind, value, third, fourth] = await storeCall(() =>
      this.#redis.remGuardStormClaim(
        ...this.#recordKeys(),
        ...claimKeys(this.#keys, claim),
        ...this.#recordArgs(target, now),
        ...claimArgs(claim),
      ),
    );
    // ok: the count, CLAIM's kind and value; tripped: the pause and the count; paused: the pause.
    if (kind === 'ok') return { kind, count: Number(value), claim: claimResult(third!, fourth!) };
    if (kind === 'tripped') return { kind, pause: JSON.parse(value) as PauseRecord, count: Number(third) };
    return { kind: 'paused', pause: JSON.parse(value) as PauseRecord };
  }

  #recordKeys(): string[] {
    return [this.#keys.guardStorm(), this.#keys.guardPauses(), this.#keys.guardPauseLog()];
  }

  #recordArgs(target: string, now: number): Array<string | number> {
    const s = this.#settings;
    return [target, now, s.windowMs, s.targets, JSON.stringify(stormPause(s, now)), HISTORY_KEPT];
  }
}

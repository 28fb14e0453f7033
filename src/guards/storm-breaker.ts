import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import { stormPause, type StormSettings } from './storm-policy.ts';
import type { PauseRecord } from './pause-policy.ts';
import { storeCall } from '../store/store-call.ts';
import { HISTORY_KEPT } from './pause-registry.ts';
import type { Result } from 'ioredis';

// The Lua scripts this file defines with `defineCommand`, as methods on the client (ioredis adds them at run time).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    remGuardStorm(...keysThenArgs: Array<string | number>): Result<[string, string, string?], Context>;
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

export type StormResult =
  | { kind: 'ok'; count: number }
  | { kind: 'paused'; pause: PauseRecord }
  | { kind: 'tripped'; pause: PauseRecord; count: number };

export class StormBreaker {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #settings: StormSettings;

  constructor(redis: RedisClient, keys: Keys, settings: StormSettings) {
    this.#redis = redis;
    this.#keys = keys;
    this.#settings = settings;
    redis.defineCommand('remGuardStorm', { numberOfKeys: 3, lua: RECORD });
  }

  /** Counts `target` (ns/Kind/name) at `now`; the answer says whether automatic mutations may go on. */
  async record(target: string, now: number): Promise<StormResult> {
    const s = this.#settings;
    const pause = JSON.stringify(stormPause(s, now));
    const [kind, value, count] = await storeCall(() =>
      this.#redis.remGuardStorm(
        this.#keys.guardStorm(),
        this.#keys.guardPauses(),
        this.#keys.guardPauseLog(),
        target,
        now,
        s.windowMs,
        s.targets,
        pause,
        HISTORY_KEPT,
      ),
    );
    if (kind === 'ok') return { kind, count: Number(value) };
    if (kind === 'tripped') return { kind, pause: JSON.parse(value) as PauseRecord, count: Number(count) };
    return { kind: 'paused', pause: JSON.parse(value) as PauseRecord };
  }
}

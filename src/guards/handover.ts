import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import { storeCall } from '../store/store-call.ts';
import type { Result } from 'ioredis';

// The Lua scripts this file defines with `defineCommand`, as methods on the client (ioredis adds them at run time).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    remGuardHandover(...keysThenArgs: Array<string | number>): Result<number, Context>;
  }
}

/**
 * "A human has this one": when a guard hands a playbook+target over (budget exhausted, a fix that does not hold), it
 * pages once, and later refusals for the same pair within the window are recorded without paging again. The mark
 * holds its end time (engine clock) as well as a TTL, so the window follows the engine's clock.
 * KEYS: mark. ARGV: now, window.
 */
const ONCE = `
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], tostring(tonumber(ARGV[1]) + tonumber(ARGV[2])), 'PX', ARGV[2])
return 1
`;

export class Handover {
  readonly #redis: RedisClient;
  readonly #keys: Keys;

  constructor(redis: RedisClient, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
    redis.defineCommand('remGuardHandover', { numberOfKeys: 1, lua: ONCE });
  }

  /** True for the first caller in the window (it escalates); false while the pair is already handed over. */
  async once(playbook: string, target: string, now: number, windowMs: number): Promise<boolean> {
    const first = await storeCall(() => this.#redis.remGuardHandover(this.#keys.guardHandedOver(playbook, target), now, windowMs));
    return first === 1;
  }
}

import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../store/redis-connection.ts';
import type { DeliveryKeys } from './delivery-keys.ts';

// KEYS: the window's sorted set. ARGV: window ms, max, member. Times come from the Redis server so every worker
// shares one clock. Returns 0 when a slot was taken, else the milliseconds until the oldest send leaves the window.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait`;

/**
 * A sliding-window limiter shared by all workers: at most `max` sends per `windowMs` per bucket (PagerDuty: 120
 * events a minute per routing key; the bucket is a hash of the key, never the key).
 */
export class SlidingWindowLimiter {
  readonly #redis: RedisClient;
  readonly #keys: DeliveryKeys;

  constructor(redis: RedisClient, keys: DeliveryKeys) {
    this.#redis = redis;
    this.#keys = keys;
    if (!('escRateAcquire' in redis)) redis.defineCommand('escRateAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  }

  /** Takes a slot and returns 0, or returns how many milliseconds to wait before asking again. */
  async acquire(bucket: string, max: number, windowMs: number): Promise<number> {
    const fn = (this.#redis as unknown as { escRateAcquire(key: string, windowMs: number, max: number, member: string): Promise<number> })
      .escRateAcquire;
    return fn.call(this.#redis, this.#keys.rate(bucket), windowMs, max, randomUUID());
  }
}

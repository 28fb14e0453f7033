import { Redis } from 'ioredis';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { parseDuration } from '../domain/duration.ts';

/**
 * Two kinds of connection (docs/contracts.md §4.1, BullMQ's "going to production"):
 * - `command`: the receiver and the API. Fails fast when Redis is away (no offline queue, one retry per request, a
 *   command timeout) so a webhook gets a 503 in time and Alertmanager retries.
 * - `blocking`: BullMQ workers and queue events, which must wait for Redis forever (`maxRetriesPerRequest: null`).
 */
export function commandConnection(url: string, commandTimeout: string | number, options: { shouldRetry?: () => boolean } = {}): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: parseDuration(commandTimeout),
    connectTimeout: 2000,
    retryStrategy: (times) => (options.shouldRetry && !options.shouldRetry() ? null : Math.min(100 * 2 ** times, 2000)),
    lazyConnect: false,
  });
  redis.on('error', () => {
    /* surfaced per command as a 503; logging every reconnect attempt would flood */
  });
  return redis;
}

export function blockingConnectionOptions(url: string, options: { shouldRetry?: () => boolean } = {}): BullRedisOptions {
  return {
    url,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect forever, except after the owner started closing: then a Redis that is gone must not keep the
    // process alive with reconnect timers.
    retryStrategy: (times: number) => (options.shouldRetry && !options.shouldRetry() ? null : Math.min(200 * 2 ** times, 5000)),
  };
}

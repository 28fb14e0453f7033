import type { Redis } from 'ioredis';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { blockingConnectionOptions, commandConnection } from './redis-connection.ts';

/**
 * A factory of the two kinds of Redis connection (src/store/redis-connection.ts), handed to a component that opens
 * its own, e.g. the escalator. Built by the composition root, so every component reaches Redis the same way.
 * `shouldRetry` lets the owner stop reconnection once it is closing.
 */
export interface RedisConnections {
  /** A connection that fails fast when Redis is away (enqueueing, reads for the API). */
  command(options: { shouldRetry: () => boolean }): Redis;
  /** Options of a connection that waits for Redis forever (BullMQ workers). */
  blocking(options: { shouldRetry: () => boolean }): BullRedisOptions;
}

export interface RedisConnectionsOptions {
  /** Per-command timeout of the command connection (default 2s). */
  commandTimeout?: string | number;
}

export function redisConnections(url: string, options: RedisConnectionsOptions = {}): RedisConnections {
  return {
    command: ({ shouldRetry }) => commandConnection(url, options.commandTimeout ?? '2s', { shouldRetry }),
    blocking: ({ shouldRetry }) => blockingConnectionOptions(url, { shouldRetry }),
  };
}

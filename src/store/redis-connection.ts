import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { closableCluster } from './closable-cluster.ts';
import { FailoverSafeSentinelConnector } from './failover-safe-sentinel-connector.ts';
import type { ConnectionOptions as BullConnection } from 'bullmq';
import type { RedisConfig } from './redis-config.ts';
import { RemediatorError } from '../domain/errors.ts';
import { parseDuration } from '../domain/duration.ts';

/** A connection to standalone Redis, to the master behind Sentinel, or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: `redis` of the config (only `url` is needed for a standalone Redis). */
export type RedisSettings = Pick<RedisConfig, 'url'> & Partial<Pick<RedisConfig, 'username' | 'password' | 'tls' | 'sentinel' | 'cluster'>>;

export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

export interface ConnectionCallOptions {
  /** Asked before every reconnect: false once the owner started closing, so a Redis that is gone keeps nothing alive. */
  shouldRetry?: () => boolean;
}

/**
 * The one place Redis connections are built, for every topology. The composition root (src/main.ts) makes one and
 * hands it to whatever connects: the store, the run queue and workers, the escalation queue.
 *
 * Two kinds of connection (docs/contracts.md §4.1, BullMQ's "going to production"):
 * - `command`: the receiver and the API. Fails fast when Redis is away (no offline queue, one retry per request, a
 *   command timeout) so a webhook gets a 503 in time and Alertmanager retries. BullMQ producers share it, so the
 *   run a webhook queues travels on the connection its `WAIT` runs on (src/store/durability-barrier.ts).
 * - `worker`: BullMQ workers, which must wait for Redis forever (`maxRetriesPerRequest: null`) and follow a failover.
 */
export interface RedisConnector {
  readonly topology: RedisTopology;
  command(commandTimeout: string | number, options?: ConnectionCallOptions): RedisClient;
  /** What a BullMQ Worker connects with: options, or on Cluster an unconnected template BullMQ duplicates. */
  worker(options?: ConnectionCallOptions): BullConnection;
  /**
   * The key and BullMQ prefix for `base`. On Cluster it is hash-tagged (`{base}`): BullMQ's scripts and ours touch
   * several keys at once, which Cluster allows only within one slot, so an installation lives in one slot.
   */
  prefix(base: string): string;
  /**
   * Disconnects the Cluster clients `worker()` handed out. BullMQ treats a client it is given as shared and never
   * closes it, so without this a stopped service keeps reconnecting to the cluster and its process never exits.
   * Call it after the workers closed. Nothing to do for standalone and Sentinel (BullMQ owns what it builds).
   */
  close(): void;
}

export function redisConnector(settings: RedisSettings): RedisConnector {
  if (settings.sentinel && settings.cluster) {
    throw new RemediatorError('REM_ERR_CONFIG_INVALID', 'redis.sentinel and redis.cluster exclude each other: configure one');
  }
  if (settings.cluster) return clusterConnector(settings, settings.cluster);
  return serverConnector(settings);
}

const failFast = (commandTimeout: string | number) => ({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: parseDuration(commandTimeout),
  connectTimeout: 2000,
});

/**
 * Command connections only (never a blocking one): commands issued in the same tick (concurrent webhooks, a
 * notification's reads) leave in one socket write. Under load the receiver's CPU went to one write syscall per command.
 */
const autoPipelining = { enableAutoPipelining: true } as const;

function quiet<T extends RedisClient>(redis: T): T {
  redis.on('error', () => {
    /* surfaced per command as a 503; logging every reconnect attempt would flood */
  });
  return redis;
}

/** Standalone Redis (`url`) or the master behind Sentinel, which ioredis finds again after a failover. */
function serverConnector(settings: RedisSettings): RedisConnector {
  const s = settings.sentinel;
  const where: RedisOptions = s
    ? {
        sentinels: s.sentinels,
        name: s.name,
        ...(settings.username ? { username: settings.username } : {}),
        ...(settings.password ? { password: settings.password } : {}),
        ...(settings.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
        ...(s.username ? { sentinelUsername: s.username } : {}),
        ...(s.password ? { sentinelPassword: s.password } : {}),
        ...(s.tls ? { sentinelTLS: {} } : {}),
        // Listen to the sentinels' +switch-master: a failover is followed at once, not at the next failed command;
        // with a connector whose reconnects that watch cannot end (failover-safe-sentinel-connector.ts).
        failoverDetector: true,
        Connector: FailoverSafeSentinelConnector,
      }
    : {};
  const retry = (options: ConnectionCallOptions, base: number, cap: number) => (times: number) =>
    options.shouldRetry && !options.shouldRetry() ? null : Math.min(base * 2 ** times, cap);
  // Asking the sentinels again follows the same rule, or a closing client keeps calling sentinels that are gone. So do
  // the failover detector's subscriptions to each sentinel (ioredis's default: every minute, forever): a client closed
  // with QUIT, as BullMQ closes its own, leaves them connected (redis/ioredis#1362, still so in 6.0), and once their
  // sentinel goes they would keep the stopped process alive reconnecting.
  const sentinelRetry = (options: ConnectionCallOptions) =>
    s ? { sentinelRetryStrategy: retry(options, 10, 1000), sentinelReconnectStrategy: retry(options, 1000, 60_000) } : {};
  return {
    topology: s ? 'sentinel' : 'standalone',
    command(commandTimeout, options = {}) {
      const opts: RedisOptions = {
        ...where,
        ...sentinelRetry(options),
        ...failFast(commandTimeout),
        retryStrategy: retry(options, 100, 2000),
        lazyConnect: false,
        ...autoPipelining,
      };
      return quiet(s ? new Redis(opts) : new Redis(settings.url, opts));
    },
    worker(options = {}) {
      return {
        ...(s ? { ...where, ...sentinelRetry(options) } : { url: settings.url }),
        maxRetriesPerRequest: null,
        enableReadyCheck: true,
        // Reconnect forever, except after the owner started closing.
        retryStrategy: retry(options, 200, 5000),
      };
    },
    prefix: (base) => base,
    close: () => undefined,
  };
}

function clusterConnector(settings: RedisSettings, cluster: NonNullable<RedisSettings['cluster']>): RedisConnector {
  const node: RedisOptions = {
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
    ...(settings.tls ? { tls: {} } : {}),
  };
  const clusterRetry = (options: ConnectionCallOptions, cap: number) => (times: number) =>
    options.shouldRetry && !options.shouldRetry() ? null : Math.min(100 * 2 ** times, cap);
  const base: ClusterOptions = {
    // Replicas lag: every read and write goes to the slot's master (BullMQ needs that too).
    scaleReads: 'master',
    // × maxRedirections (16) outlasts a cluster-node-timeout of several seconds while a replica is promoted.
    retryDelayOnFailover: 500,
    retryDelayOnClusterDown: 500,
    slotsRefreshTimeout: 2000,
  };
  const templates: Cluster[] = [];
  return {
    topology: 'cluster',
    command(commandTimeout, options = {}) {
      const f = failFast(commandTimeout);
      return quiet(
        closableCluster(
          new Cluster(cluster.nodes, {
            ...base,
            enableOfflineQueue: false,
            ...autoPipelining,
            clusterRetryStrategy: clusterRetry(options, 2000),
            redisOptions: {
              ...node,
              commandTimeout: f.commandTimeout,
              connectTimeout: f.connectTimeout,
              maxRetriesPerRequest: f.maxRetriesPerRequest,
            },
          }),
        ),
      );
    },
    worker(options = {}) {
      // BullMQ builds a standalone client from options, so a Cluster is handed over as an instance. This one never
      // connects: BullMQ duplicates it for a worker's connections and owns (and closes) the duplicates, which must
      // end whenever they are closed (src/store/closable-cluster.ts).
      const template = closableCluster(
        new Cluster(cluster.nodes, {
          ...base,
          lazyConnect: true,
          clusterRetryStrategy: clusterRetry(options, 5000),
          redisOptions: { ...node, maxRetriesPerRequest: null },
        }),
      );
      templates.push(template);
      return template;
    },
    prefix: (name) => `{${name}}`,
    close: () => {
      for (const t of templates.splice(0)) t.disconnect();
    },
  };
}

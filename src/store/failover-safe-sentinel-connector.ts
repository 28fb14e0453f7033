import { SentinelConnector, type SentinelConnectionOptions } from 'ioredis';

/** What the connector keeps of the `+switch-master` watch of its last connection (private in ioredis's types). */
interface WithDetector {
  failoverDetector: { cleanup(): void } | null;
}

/**
 * ioredis's SentinelConnector, except that a reconnect cannot be ended by the failover detector of the connection that
 * just closed.
 *
 * ioredis 6.0 cleans a connection's `+switch-master` detector up only when the next connection's socket connects. While
 * a client reconnects (its master died, and for a moment the sentinels still name it), the old detector is still
 * subscribed; the failover's `+switch-master` then calls `disconnect()` in the middle of the reconnect, `connect()`
 * rejects with "Connection is closed.", and `Redis.connect()` takes that as final: the client ends and never connects
 * again. A BullMQ worker on such a client stopped taking jobs, silently, until the process restarted (seen in
 * test/store/sentinel-failover.test.ts; test/store/failover-safe-sentinel-connector.test.ts replays it).
 *
 * Dropping the stale detector when a connect starts closes that window; each new connection gets its own detector, as
 * before, so an established connection still follows `+switch-master` at once.
 */
export class FailoverSafeSentinelConnector extends SentinelConnector {
  /** ioredis builds it with the client's options (RedisOptions.Connector). */
  constructor(options: unknown) {
    super(options as SentinelConnectionOptions);
  }

  override connect(eventEmitter: Parameters<SentinelConnector['connect']>[0]): ReturnType<SentinelConnector['connect']> {
    const self = this as unknown as WithDetector;
    self.failoverDetector?.cleanup();
    self.failoverDetector = null;
    return super.connect(eventEmitter);
  }
}

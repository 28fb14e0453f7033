import type { Queue, Worker } from 'bullmq';
import type { RedisClient } from '../store/redis-connection.ts';

/**
 * Why this exists: when Redis is gone, an ioredis client sits in `reconnecting` with a reconnect timer armed.
 * `disconnect()` on such a client clears the timer but never emits `end` (there is no socket left to close), and
 * BullMQ's `Worker.close()` awaits exactly that `end` before it stops its lock-renewal and stalled-check timers
 * (taskforcesh/bullmq#4656, #4065; ioredis 6.0, BullMQ 6.7). Close then never resolves and those timers keep the
 * process alive.
 *
 * The way out uses only public ioredis calls: `disconnect()` marks the client as closed on purpose, then `connect()`
 * makes one attempt at once. Against a Redis that is gone it fails, and a client closed on purpose ends (`end`)
 * instead of waiting to reconnect. Against a Redis that came back it connects, and the owner's close proceeds
 * normally. Callers must also refuse further retries once closing (`shouldRetry` in src/store/redis-connection.ts),
 * so a client mid-attempt ends after that attempt.
 */

/** The ioredis clients BullMQ created for a queue or worker (its command connection and, for a worker, the blocking one). */
export function bullmqClients(part: Queue | Worker | undefined): RedisClient[] {
  if (!part) return [];
  // `_client` is protected in BullMQ's types; reading it is the only way to reach a client whose connection never
  // became ready (the public `client` getter waits for that).
  const backend = part.backend as unknown as Record<'connection' | 'blockingConnection', { _client?: RedisClient } | undefined>;
  return [backend.connection?._client, backend.blockingConnection?._client].filter((c): c is RedisClient => c !== undefined);
}

/**
 * The clients that are between states (neither `ready` nor `end`). An owner takes this list before it starts closing,
 * then closes and ends these together: its close marks it closing at once (so a BullMQ loop whose command fails when
 * its client ends returns rather than arming a 5 s retry delay nobody can clear), and a client that was healthy when
 * the close began is left to the owner's own disconnect.
 */
export function strandedClients(clients: readonly RedisClient[]): RedisClient[] {
  return clients.filter((c) => c.status !== 'ready' && c.status !== 'end');
}

/**
 * Ends every client of `clients` that is waiting to reconnect (see above) and waits, at most `timeoutMs` (default 3 s),
 * until none is between states: each is `ready` (Redis is there) or `end`. Never throws.
 */
export async function endStrandedClients(clients: readonly RedisClient[], options: { timeoutMs?: number } = {}): Promise<void> {
  const pending = strandedClients(clients);
  if (pending.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const settled = pending.map(
    (c) =>
      new Promise<void>((resolve) => {
        const done = () => {
          c.off('end', done);
          c.off('ready', done);
          resolve();
        };
        c.on('end', done);
        c.on('ready', done);
        if (c.status === 'reconnecting' || c.status === 'wait' || c.status === 'close') {
          c.disconnect();
          // A client that was never connected (`wait`) ends inside disconnect(); the others need the attempt.
          if ((c.status as string) !== 'end') c.connect().catch(() => undefined);
        }
        if ((c.status as string) === 'end') done();
      }),
  );
  await Promise.race([Promise.all(settled), new Promise((resolve) => (timer = setTimeout(resolve, options.timeoutMs ?? 3000)))]);
  clearTimeout(timer);
}

/**
 * Disconnects clients their owner has closed. BullMQ closes its connections with QUIT, which on Sentinel leaves
 * ioredis's failover-detector subscriptions to the sentinels connected (redis/ioredis#1362, still so in 6.0): open
 * sockets that keep a stopped process alive. `disconnect()` on a client that has ended closes them; it is harmless
 * otherwise.
 */
export function disconnectClosed(clients: readonly RedisClient[]): void {
  for (const c of clients) c.disconnect();
}

import { Cluster, type Redis } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { RemediatorError } from '../domain/errors.ts';
import type { RedisClient } from './redis-connection.ts';

export interface DurabilityBarrierOptions {
  /** How many replicas must hold the writes (redis.minReplicasAcked, default 1). */
  minReplicas: number;
  /** How long WAIT may block (redis.replicaAckTimeout, default 1 s). */
  timeoutMs: number;
  /** On Cluster: a key of the slot the writes went to (any key under the installation's hash-tagged prefix). */
  slotKey: string;
}

/**
 * What makes a 202 mean durable on replicated Redis. Redis replicates asynchronously: the master acknowledges a write
 * before any replica has it, and a failover loses what had not reached the promoted replica. `confirm()` runs
 * `WAIT minReplicas timeout` after the writes and throws REM_ERR_STORE_UNAVAILABLE (a 503, so Alertmanager retries)
 * when fewer replicas acknowledged in time.
 *
 * WAIT covers the writes sent earlier *on the same connection*, so it runs on the connection that did them: the
 * command connection, which the run queue's producer shares. On Cluster that is the client of the master serving the
 * installation's one slot (see RedisConnector.prefix). Concurrent requests share the connection; a WAIT then also
 * waits for writes sent after this request's, which costs latency, never safety.
 *
 * Best effort, as WAIT itself: a replica that acknowledged can still lose the race to be promoted. It narrows the
 * loss window to writes no replica holds, it does not make Redis strongly consistent.
 */
export class DurabilityBarrier {
  readonly #redis: RedisClient;
  readonly #o: DurabilityBarrierOptions;

  constructor(redis: RedisClient, options: DurabilityBarrierOptions) {
    this.#redis = redis;
    this.#o = options;
  }

  async confirm(signal?: AbortSignal): Promise<void> {
    const acked = await this.replicated(signal);
    if (acked < this.#o.minReplicas) {
      throw new RemediatorError(
        'REM_ERR_STORE_UNAVAILABLE',
        `Redis: ${acked} of ${this.#o.minReplicas} replica(s) acknowledged the writes within ${this.#o.timeoutMs} ms; they are not durable yet`,
      );
    }
  }

  /**
   * How many replicas acknowledged the writes made so far on the connection (WAIT, up to `timeoutMs`), for callers
   * that go on without enough of them (a page must not wait for a replica) but must know when Redis did not answer:
   * then the writes may be lost, and they are done again. Infinity when no replica is asked for (`minReplicas` 0).
   * Throws REM_ERR_STORE_UNAVAILABLE only when Redis did not answer.
   */
  async replicated(signal?: AbortSignal): Promise<number> {
    if (this.#o.minReplicas <= 0) return Number.POSITIVE_INFINITY;
    signal?.throwIfAborted();
    try {
      return await this.#connection().wait(this.#o.minReplicas, this.#o.timeoutMs);
    } catch (err) {
      throw new RemediatorError(
        'REM_ERR_STORE_UNAVAILABLE',
        `Redis: cannot confirm the writes reached a replica: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** How many replicas `confirm` asks for. */
  get minReplicas(): number {
    return this.#o.minReplicas;
  }

  /** The connection the writes went through: the client itself, or on Cluster its client of the slot's master. */
  #connection(): Redis {
    const redis = this.#redis;
    if (!(redis instanceof Cluster)) return redis;
    const master = redis.slots[calculateSlot(this.#o.slotKey)]?.[0];
    const node = master ? redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === master) : undefined;
    if (!node) throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', `Redis Cluster: no master known for the slot of ${this.#o.slotKey}`);
    return node;
  }
}

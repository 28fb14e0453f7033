import { Queue, Job } from 'bullmq';
import type { RunQueue } from './run-queue.ts';
import { RemediatorError } from '../domain/errors.ts';
import { bullmqClients, endStrandedClients } from './stranded-clients.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import type { RunWakes } from './run-wakes.ts';

/** A run's job: the run id alone. The engine's cursor lives in the run record (RunStore.saveState). */
export interface RunJobData {
  runId: string;
}

export interface BullmqRunQueueOptions {
  /**
   * A command connection (RedisConnector.command: fails fast, no offline queue), shared, never closed here: a
   * webhook must get its 503 while Redis is away, and the durability barrier's WAIT must cover the job it queued.
   */
  connection: RedisClient;
  /** BullMQ key prefix (the config's redis.prefix). */
  prefix: string;
  name: string;
  /** Where a wake is marked before the job is promoted, so a worker holding the run finds it (run-wakes.ts). */
  wakes: RunWakes;
}

/**
 * Makes a delayed job run now; true if it did. A job that is not delayed (a worker holds it, or it was promoted
 * meanwhile) is left as it is: the wake's mark reaches a worker that holds it (RunWakes).
 */
export async function promoteIfDelayed(job: Job): Promise<boolean> {
  try {
    if (!(await job.isDelayed())) return false;
    await job.promote();
    return true;
  } catch (err) {
    if (!/not in the delayed state|Missing key/i.test((err as Error).message)) throw err;
    return false;
  }
}

/**
 * Runs as BullMQ jobs whose id is the run id, so adding a run twice is a no-op (docs/contracts.md §4.3: ids have no ':'
 * and are never all digits; run ids are built that way).
 *
 * The queue's producer is the caller's command connection (see BullmqRunQueueOptions.connection).
 */
export class BullmqRunQueue implements RunQueue {
  readonly queue: Queue;
  readonly #wakes: RunWakes;

  constructor(options: BullmqRunQueueOptions) {
    this.#wakes = options.wakes;
    this.queue = new Queue(options.name, {
      prefix: options.prefix,
      // The store's command connection: fail-fast, auto-pipelined, and the one a WAIT before the 202 covers.
      connection: options.connection,
      // BullMQ checks the Redis version once, with an INFO sent when the queue is built, and keeps a failure of that
      // command for the queue's life: on this fail-fast connection one slow answer at start-up (a stalled or
      // failing-over Redis, a starved host) would turn every later enqueue into an immediate "Command timed out",
      // a receiver that answers 503 until restarted. The workers' connections, which wait for Redis, do the check.
      skipVersionCheck: true,
      defaultJobOptions: {
        // Unexpected errors (not step failures, which the engine records) are retried by BullMQ.
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: { count: 1000 },
      },
    });
    this.queue.on('error', () => {
      /* surfaced per call */
    });
  }

  async enqueue(runId: string): Promise<void> {
    try {
      await this.queue.add('run', { runId }, { jobId: runId });
    } catch (err) {
      throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', `cannot queue run ${runId}: ${(err as Error).message}`, { cause: err });
    }
  }

  async enqueueMany(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    if (runIds.length === 1) return this.enqueue(runIds[0]!);
    try {
      await this.queue.addBulk(runIds.map((runId) => ({ name: 'run', data: { runId }, opts: { jobId: runId } })));
    } catch (err) {
      throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', `cannot queue ${runIds.length} runs: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async wake(runId: string): Promise<void> {
    try {
      await this.#wakes.mark(runId);
      const job = await Job.fromId(this.queue, runId);
      // Promoted, or no job left to wake (the run ended): no worker will take the mark.
      if (!job || (await promoteIfDelayed(job))) await this.#wakes.clear(runId);
    } catch (err) {
      throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', `cannot wake run ${runId}: ${(err as Error).message}`, { cause: err });
    }
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
  }

  /**
   * Closes the queue. With Redis gone it ends the (shared) connection instead of letting the close wait for a
   * reconnect: the owner closes right after anyway (src/queue/stranded-clients.ts).
   */
  async close(): Promise<void> {
    await endStrandedClients(bullmqClients(this.queue));
    await this.queue.close();
  }
}

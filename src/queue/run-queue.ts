/**
 * The port the edge and the API use to hand runs to workers. Implemented on BullMQ in `bullmq-run-queue.ts`.
 * `enqueue` is idempotent per run id: enqueuing a run that already has a job does nothing.
 */
export interface RunQueue {
  enqueue(runId: string): Promise<void>;
  /** `enqueue` for several runs in one round trip (a notification's new runs). */
  enqueueMany(runIds: readonly string[]): Promise<void>;
  /** Makes a waiting run look at its state now (a cancel, an approval, a resolve that ends waits). */
  wake(runId: string): Promise<void>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

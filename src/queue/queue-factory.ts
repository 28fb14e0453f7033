import { Queue, Worker, type Processor, type QueueOptions, type WorkerOptions } from 'bullmq';

/**
 * Builds BullMQ queues and workers for a component that owns some (the escalator's delivery queue). Injected by the
 * composition root so the component builds no adapter itself.
 */
export interface QueueFactory {
  queue<T>(name: string, options: QueueOptions): Queue<T>;
  worker<T>(name: string, processor: Processor<T>, options: WorkerOptions): Worker<T>;
}

export const bullmqQueueFactory: QueueFactory = {
  queue: <T>(name: string, options: QueueOptions) => new Queue<T>(name, options),
  worker: <T>(name: string, processor: Processor<T>, options: WorkerOptions) => new Worker<T>(name, processor, options),
};

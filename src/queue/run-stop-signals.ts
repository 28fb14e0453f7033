import type { Logger } from 'pino';
import { RunStopped, type StopRequest } from '../engine/run-stopped.ts';
import type { RedisClient } from '../store/redis-connection.ts';

export interface RunStopSignalsOptions {
  /** The channel cancel requests are announced on (`Keys.runStops()`; messages are run ids). */
  channel: string;
  /** Opens the pub/sub connection (one per process, waiting for Redis rather than failing fast); built by the composition root. */
  connect: () => RedisClient;
  /** The run's stored cancel request: the announcement is only a hint to read it. */
  readCancel: (runId: string) => Promise<StopRequest | undefined>;
  log: Logger;
}

/** What the worker holds while it processes a run: its stop signal, and the way to stop listening. */
export interface RunStopWatch {
  /** Aborted with a RunStopped naming who and why once the run's cancel request reaches this process. */
  signal: AbortSignal;
  release(): void;
}

/**
 * Cancel requests reaching the worker process that holds the run, whichever process made them (a receiver's API, a
 * PagerDuty/Opsgenie acknowledge or resolve, Slack's Take over, the resolution watch): `RunStore.requestCancel`
 * writes the request and, in the same transaction, publishes the run id on one channel every worker process listens
 * to. The process watching that run reads the request and aborts the run's stop signal, so the step in flight is
 * interrupted within a round trip instead of running on (a long gate poll, a held HTTP check, a batch).
 *
 * Nothing is lost between "picked up" and "watched": a worker watches a run before it reads it, and the request is
 * written before it is announced, so a request announced before the watch began is in what the worker reads. While
 * the subscriber is not (yet, or no longer) subscribed, announcements pass it by: once it is subscribed, at start-up
 * or after a reconnect, it reads the request of every watched run again.
 */
export class RunStopSignals {
  readonly #o: RunStopSignalsOptions;
  readonly #watched = new Map<string, Set<AbortController>>();
  #subscriber: RedisClient | undefined;

  constructor(options: RunStopSignalsOptions) {
    this.#o = options;
  }

  /**
   * Subscribes; resolves once the subscription is in place. The worker need not wait for it: runs watched before
   * then have their cancel request read once it is (a request announced meanwhile is not lost).
   */
  async start(): Promise<void> {
    const sub = this.#o.connect();
    this.#subscriber = sub;
    let subscribed = false;
    sub.on('message', (channel: string, runId: string) => {
      if (channel === this.#o.channel && this.#watched.has(runId)) void this.#check(runId);
    });
    sub.on('ready', () => {
      if (!subscribed) return;
      for (const runId of this.#watched.keys()) void this.#check(runId);
    });
    sub.on('error', (err: Error) => this.#o.log.warn({ err }, 'run stop signals: subscriber connection error'));
    await sub.subscribe(this.#o.channel);
    subscribed = true;
    for (const runId of this.#watched.keys()) void this.#check(runId);
  }

  watch(runId: string): RunStopWatch {
    const controller = new AbortController();
    const set = this.#watched.get(runId) ?? new Set<AbortController>();
    this.#watched.set(runId, set);
    set.add(controller);
    return {
      signal: controller.signal,
      release: () => {
        set.delete(controller);
        if (set.size === 0 && this.#watched.get(runId) === set) this.#watched.delete(runId);
      },
    };
  }

  async #check(runId: string): Promise<void> {
    let request: StopRequest | undefined;
    try {
      request = await this.#o.readCancel(runId);
    } catch (err) {
      // Redis is away: the run sees its cancel when it is next picked up.
      this.#o.log.warn({ err, runId }, 'run stop signals: could not read the cancel request');
      return;
    }
    if (!request) return;
    for (const c of this.#watched.get(runId) ?? []) {
      if (c.signal.aborted) continue;
      this.#o.log.info({ runId, by: request.by }, 'run stopped while a worker held it: interrupting its step');
      c.abort(new RunStopped({ by: request.by, reason: request.reason }));
    }
  }

  close(): void {
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
  }
}

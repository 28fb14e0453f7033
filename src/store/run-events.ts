import type { RedisClient } from './redis-connection.ts';

/** One change of a run, as published on the run-events channel: its id and, when known, its new status. */
export interface RunEvent {
  id: string;
  status?: string;
}

/**
 * Run changes fanned out to the receivers over Redis pub/sub, so a console connected to any replica sees what every
 * worker and receiver did. Publishers are the run store (new runs) and the run fence's save script (every state
 * change), both on the channel `Keys.runEvents()`; messages are `<runId>` or `<runId> <status>`.
 *
 * Events are hints to re-read: a subscriber that missed one (a reconnect) still reads the truth from the store.
 * One subscriber connection per process, opened on the first listener (made by `connect`, built by the composition
 * root) and closed by `close`.
 */
export class RunEvents {
  readonly #channel: string;
  readonly #connect: () => RedisClient;
  readonly #listeners = new Set<(event: RunEvent) => void>();
  #subscriber: RedisClient | undefined;

  constructor(channel: string, connect: () => RedisClient) {
    this.#channel = channel;
    this.#connect = connect;
  }

  /** Calls `listener` for every run event until the returned function is called. */
  async subscribe(listener: (event: RunEvent) => void): Promise<() => void> {
    this.#listeners.add(listener);
    if (!this.#subscriber) {
      const sub = this.#connect();
      this.#subscriber = sub;
      sub.on('message', (channel: string, message: string) => {
        if (channel !== this.#channel) return;
        const [id, status] = message.split(' ');
        if (!id) return;
        for (const l of this.#listeners) l(status ? { id, status } : { id });
      });
      await sub.subscribe(this.#channel);
    }
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): void {
    this.#listeners.clear();
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
  }
}

/**
 * The one place Redis key names are built. Every key starts with the configured prefix so several installations can
 * share a Redis. Ids are built by their owners (episodeId, run ids) without ':'.
 */
export class Keys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Hash: fingerprint, startsAt, labels, status, firstSeen, lastSeen, repeats, resolvedAt, run:<playbook> → run id. */
  episode(id: string): string {
    return `${this.prefix}:episode:${id}`;
  }
  episodeDecisions(id: string): string {
    return `${this.prefix}:episode:${id}:decisions`;
  }
  /** Hash: record (JSON, written once), status, state (JSON, written by the worker), cancel, resolvedAt, updatedAt. */
  run(id: string): string {
    return `${this.prefix}:run:${id}`;
  }
  runDecisions(id: string): string {
    return `${this.prefix}:run:${id}:decisions`;
  }
  /** Sorted set of run ids by creation time (ms). */
  runs(): string {
    return `${this.prefix}:runs`;
  }
  /** The BullMQ queue names (BullMQ adds its own prefix segment). */
  runQueue(): string {
    return 'runs';
  }
}

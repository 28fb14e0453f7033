import { LRUCache } from 'lru-cache';

export interface KnownEpisodesOptions {
  /** Most episodes remembered; the least recently delivered are forgotten first. Default 4,096 (about 1 MiB). */
  max?: number;
}

/**
 * The runs this receiver saw stored for recent episodes, with their jobs queued: (episode, playbook) → run id. Most
 * deliveries repeat an episode (repeat_interval, HA twins, retries, group changes); a repeat of a known episode is
 * claimed by these ids alone, without building, serializing and sending a candidate run that the store would only
 * throw away. Only a hint: the store checks the episode still has exactly these runs, and answers `unknown` otherwise
 * (RunStore.ingestFiring), and the caller then claims as for a new alert. So a stale entry, another replica's writes
 * or a Redis that lost its data cost one more round trip, never a wrong answer.
 */
export class KnownEpisodes {
  readonly #cache: LRUCache<string, ReadonlyMap<string, string>>;

  constructor(options: KnownEpisodesOptions = {}) {
    this.#cache = new LRUCache({ max: options.max ?? 4096 });
  }

  /** The episode's run per playbook, when every one of `playbooks` is known; else undefined. */
  runs(episodeId: string, playbooks: readonly string[]): Array<{ runId: string; playbook: string }> | undefined {
    const known = this.#cache.get(episodeId);
    if (!known || playbooks.length === 0) return undefined;
    const out: Array<{ runId: string; playbook: string }> = [];
    for (const playbook of playbooks) {
      const runId = known.get(playbook);
      if (runId === undefined) return undefined;
      out.push({ runId, playbook });
    }
    return out;
  }

  /** Remembers the episode's stored runs (merged with those known before: a reload may add a playbook). */
  remember(episodeId: string, runs: ReadonlyArray<{ runId: string; playbook: string }>): void {
    if (runs.length === 0) return;
    const merged = new Map(this.#cache.get(episodeId));
    for (const r of runs) merged.set(r.playbook, r.runId);
    this.#cache.set(episodeId, merged);
  }

  forget(episodeId: string): void {
    this.#cache.delete(episodeId);
  }
}

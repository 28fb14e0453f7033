import type { TargetMemory } from './targets/paging-target.ts';

/** Where one incident's Slack message lives: its channel and `ts`, the thread every later event replies in. */
export interface SlackThread {
  channel: string;
  ts: string;
}

/**
 * One Slack thread per episode and slack-app target, kept in the targets' memory (src/escalation/target-memory.ts,
 * in Redis) so every worker (and a restarted one) edits the same message and replies in the same thread. It expires
 * with the record of open incidents, as everything a target remembers does.
 */
export class SlackThreadStore {
  readonly #memory: TargetMemory;

  constructor(memory: TargetMemory) {
    this.#memory = memory;
  }

  async get(target: string, episodeKey: string): Promise<SlackThread | undefined> {
    const kept = await this.#memory.get(target, episodeKey);
    if (!kept) return undefined;
    const t = JSON.parse(kept) as Partial<SlackThread>;
    return t.channel && t.ts ? { channel: t.channel, ts: t.ts } : undefined;
  }

  set(target: string, episodeKey: string, thread: SlackThread): Promise<void> {
    return this.#memory.set(target, episodeKey, JSON.stringify({ channel: thread.channel, ts: thread.ts }));
  }
}

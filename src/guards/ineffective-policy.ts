import { formatDuration } from '../domain/duration.ts';

/**
 * Ineffectiveness: a fix that "succeeded" but whose alert fires again soon after did not fix anything. The next run
 * for the same target and playbook then starts one rung higher instead of repeating the same fix, and when there is
 * no higher rung a human takes over.
 */
export interface FixMemory {
  /** The rung the successful run ended on. */
  rung: number;
  /** When it ended (ms). */
  at: number;
  runId: string;
}

export type IneffectiveVerdict = { kind: 'none' } | { kind: 'climb'; rung: number } | { kind: 'exhausted' };

/** What a new run should do given the last success on its target (if any). windowMs 0 = off. */
export function ineffectiveVerdict(memory: FixMemory | undefined, now: number, windowMs: number, rungCount: number): IneffectiveVerdict {
  if (!memory || windowMs <= 0) return { kind: 'none' };
  if (now - memory.at >= windowMs || now < memory.at) return { kind: 'none' };
  const next = memory.rung + 1;
  return next < rungCount ? { kind: 'climb', rung: next } : { kind: 'exhausted' };
}

export function ineffectiveMessage(memory: FixMemory, now: number, rungNames: readonly string[], verdict: IneffectiveVerdict): string {
  const fix = `rung "${rungNames[memory.rung] ?? memory.rung}" of run ${memory.runId}`;
  const ago = formatDuration(now - memory.at);
  if (verdict.kind === 'climb')
    return `the alert came back ${ago} after ${fix} succeeded, so that fix did not hold: starting at rung "${rungNames[verdict.rung]}"`;
  return `the alert came back ${ago} after ${fix} succeeded and there is no higher rung to try`;
}

import { formatDuration } from '../domain/duration.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { RunView } from '../store/run-record.ts';
import { FINAL_STATUSES } from '../engine/run-state.ts';

/** The rungs a run has not finished yet (the one it is on, then the rest), and the longest they may still take. */
export interface RemainingRungs {
  names: string[];
  /** Sum of the deadlines of the steps still ahead: an upper bound of the time automation may still need. */
  maxMs: number;
}

/**
 * What remains of a run's ladder, from the playbook's step deadlines (`deadlineMs`: an action's attempts together, a
 * gate's time to pass, an approval's window). Steps already ended count for nothing. A run that ended has nothing left.
 */
export function remainingRungs(view: RunView, playbook: Playbook | undefined): RemainingRungs {
  if (!playbook || FINAL_STATUSES.has(view.status)) return { names: [], maxMs: 0 };
  const cursor = view.state?.cursor ?? { rung: 0, step: 0 };
  const ended = new Set(
    (view.state?.steps ?? []).filter((s) => s.status === 'succeeded' || s.status === 'failed' || s.status === 'skipped').map((s) => s.id),
  );
  const names: string[] = [];
  let maxMs = 0;
  playbook.rungs.forEach((rung, i) => {
    if (i < cursor.rung) return;
    names.push(rung.name);
    for (const step of rung.steps)
      if (!(i === cursor.rung && ended.has(step.id))) maxMs += step.deadlineMs + (step.approval?.timeoutMs ?? 0);
  });
  return { names, maxMs };
}

/**
 * The ETA people read, saying where it comes from: the time the remaining rungs may still take, or that automation
 * has nothing left and the recovery time is the responders' call.
 */
export function etaText(remaining: RemainingRungs, now: number): string {
  if (remaining.names.length === 0) return 'unknown: automation has no rung left to try; recovery depends on the responders';
  const by = new Date(now + remaining.maxMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `by ${by} at the latest if a remaining rung fixes it (upper bound from the step deadlines of ${remaining.names.map((n) => `"${n}"`).join(', ')}: ${formatDuration(remaining.maxMs)})`;
}

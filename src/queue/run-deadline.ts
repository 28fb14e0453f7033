import type { Playbook } from '../domain/playbook.ts';
import type { RunView } from '../store/run-record.ts';
import { parseDuration } from '../domain/duration.ts';

/**
 * When a run must be over: its creation time plus the playbook's `spec.maxDuration`, or `runs.maxDuration` when the
 * playbook sets none (or is no longer loaded). Counted from creation, so a run nobody picked up times out too.
 */
export function runDeadline(
  view: Pick<RunView, 'createdAt'>,
  playbook: Playbook | undefined,
  defaultMs: number,
): { at: number; limitMs: number } {
  const own = playbook?.doc.spec.maxDuration;
  const limitMs = own === undefined ? defaultMs : parseDuration(own);
  return { at: Date.parse(view.createdAt) + limitMs, limitMs };
}

/**
 * A decision about an alert or a run, always with a reason code. Recorded on the episode and the run, and counted
 * as `remediator_decisions_total{reason,playbook}`.
 */
export const DECISION_REASONS = [
  'started', 'deduplicated', 'unmatched', 'resolved', 'manual', 'retried', 'cancelled',
  'locked', 'cooldown', 'budget_exhausted', 'ineffective', 'storm_paused', 'paused', 'maintenance', 'out_of_scope',
  'absorbed', 'awaiting_approval', 'approved', 'rejected', 'approval_refused', 'approval_expired', 'dry_run', 'escalated', 'succeeded', 'failed', 'skipped', 'timed_out',
] as const;

export type DecisionReason = (typeof DECISION_REASONS)[number];

export interface Decision {
  at: string;
  reason: DecisionReason;
  playbook?: string;
  runId?: string;
  episodeId?: string;
  /**
   * The person (operator name) who made the decision: manual, retried, cancelled, approved, rejected and
   * approval_refused are made by one. Absent when remediator decided by itself.
   */
  by?: string;
  /** One sentence for people. */
  message: string;
}

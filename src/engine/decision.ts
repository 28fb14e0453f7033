/**
 * A decision about an alert or a run, always with a reason code. Recorded on the episode and the run, and counted
 * as `remediator_decisions_total{reason,playbook}`.
 */
export const DECISION_REASONS = [
  'started',
  'deduplicated',
  'unmatched',
  'resolved',
  'manual',
  'retried',
  'cancelled',
  'locked',
  'cooldown',
  'budget_exhausted',
  'ineffective',
  'storm_paused',
  'paused',
  'maintenance',
  'out_of_scope',
  // A fleet run took over a service's own run (correlated incidents).
  'absorbed',
  // A step resolved the objects it acts on from a label selector (kube.batchRestart's selector): which ones.
  'selected',
  'awaiting_approval',
  'approved',
  'rejected',
  'approval_refused',
  'approval_expired',
  'dry_run',
  'escalated',
  'succeeded',
  'failed',
  'skipped',
  'timed_out',
  // Approvals reaching people: approvers told (Slack buttons, notify targets), reminded before expiry.
  'approval_requested',
  'approval_reminded',
  // People taking incidents over or closing them (PagerDuty/Opsgenie acks and resolves, Slack's Take over: all
  // `human_ack` / `human_resolved`), response-time tiers, the customer notice.
  'human_ack',
  'human_resolved',
  // A step a cancel (an operator, a person's acknowledge or resolve, a policy) stopped part-way, naming who stopped it.
  'step_interrupted',
  // A note a person added to the incident at the paging provider, kept as told (never read as an instruction).
  'human_note',
  'response_escalated',
  'response_tier_skipped',
  'notice_approved',
  'notice_rejected',
  // Reverting a finished run; GitOps sync suspended for a run and resumed after it.
  'revert_requested',
  'revert_refused',
  'gitops_suspended',
  'gitops_resumed',
] as const;

export type DecisionReason = (typeof DECISION_REASONS)[number];

export interface Decision {
  at: string;
  reason: DecisionReason;
  playbook?: string;
  runId?: string;
  episodeId?: string;
  /**
   * The person (operator name) who made the decision: manual, retried, cancelled, approved, rejected,
   * approval_refused, human_ack, human_resolved, human_note, notice_approved, notice_rejected, revert_requested and
   * revert_refused are made by one; step_interrupted names who stopped the run. Absent when remediator decided by
   * itself.
   */
  by?: string;
  /** One sentence for people. */
  message: string;
}

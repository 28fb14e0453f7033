import type { AlertView, TargetRef } from '../engine/step-definition.ts';
import { FINAL_STATUSES, type ApprovalDecision, type RunState, type RunStatus } from '../engine/run-state.ts';
import type { Decision } from '../engine/decision.ts';

/** What a run was started with. Written once when the run is created. */
export interface RunRecord {
  id: string;
  playbook: string;
  createdAt: string;
  trigger: 'alert' | 'manual' | 'retry' | 'revert';
  episodeId?: string;
  alert: AlertView;
  params: Record<string, unknown>;
  dryRun: boolean;
  target?: TargetRef;
  /** Manual runs: who and why. */
  operator?: string;
  reason?: string;
  retryOf?: string;
  /** A revert run: the run whose changes it puts back (POST /v1/runs/:id/revert). */
  revertOf?: string;
  /**
   * Not before this time (RFC 3339): the run of a service a fleet playbook counts waits this long (spec.fleet.hold)
   * for the fleet to take it; absorbed meanwhile, it ends without a step.
   */
  holdUntil?: string;
}

/** A run as the API shows it: the record, the live status and the engine state. */
export interface RunView extends RunRecord {
  status: RunStatus;
  updatedAt: string;
  state?: RunState;
  cancel?: { by: string; reason: string; at: string };
  approvals?: Record<string, ApprovalDecision>;
  alertResolvedAt?: string;
  /** When the page of an escalated run was handed to the escalator (absent: not yet, or nothing to page). */
  escalationEnqueuedAt?: string;
  /** When the decision that closes the run was recorded. */
  finalDecisionAt?: string;
  decisions: Decision[];
}

/**
 * The run has ended and its closing decision is recorded. A run's final status is saved first and its closing
 * decision just after (src/queue/run-closer.ts), so a reader that sees a final status may still miss that decision;
 * whoever reads an ended run's decisions waits for this.
 */
export function runSettled(view: Pick<RunView, 'status' | 'finalDecisionAt'>): boolean {
  return FINAL_STATUSES.has(view.status) && view.finalDecisionAt !== undefined;
}

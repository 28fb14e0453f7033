import type { Playbook } from '../domain/playbook.ts';
import type { RunInfo, TargetRef } from './step-definition.ts';
import type { ApprovalDecision } from './run-state.ts';

/** What the executor knows about the run besides its state. Re-read from the store every time the run wakes. */
export interface RunContext {
  run: RunInfo;
  playbook: Playbook;
  /** spec.params with a manual run's overrides applied. */
  params: Record<string, unknown>;
  target?: TargetRef;
  cancel?: { by: string; reason: string };
  /** Operators' answers to plans awaiting approval, by step id. */
  approvals?: Record<string, ApprovalDecision>;
  /**
   * When the run must be over (ms) and the limit it comes from (runs.maxDuration or spec.maxDuration, counted from
   * the run's creation). Past it no further step starts: the run ends escalated with a `timed_out` decision.
   */
  deadline?: { at: number; limitMs: number };
  /** Not before this time (ms): the run waits, queued, until then (a fleet may absorb it meanwhile). */
  holdUntil?: number;
}

import type { Step } from '../domain/playbook.ts';
import type { TargetRef } from './step-definition.ts';
import type { RunState } from './run-state.ts';
import type { RunContext } from './run-context.ts';
import type { DecisionReason } from './decision.ts';
import type { StepServices } from '../ports/step-services.ts';

/**
 * The safety layer in front of every mutating step, one place in the code: actions never check locks, budgets,
 * scope or pauses themselves. The executor consults it:
 * - `startRun` once, before the first step of a run (e.g. an ineffective earlier fix moves the cursor one rung up);
 * - `admit` before every attempt of a mutating step;
 * - `finishRun` once when the run ends (release locks, remember a success for ineffectiveness detection).
 * Every refusal carries a reason code, which the executor records as a decision on the run and the episode.
 */
export interface MutationRequest extends DecisionIo {
  ctx: RunContext;
  state: RunState;
  step: Step;
  target: TargetRef;
  params: unknown;
}

/**
 * What a guard check reads with: the services of the decision it belongs to (the same ones the step then uses, so
 * an object is read once per decision) and the run's signal (aborted at shutdown or cancellation).
 */
export interface DecisionIo {
  services: StepServices;
  signal: AbortSignal;
}

export interface Refusal {
  reason: DecisionReason;
  /** One sentence for people, recorded with the decision. */
  message: string;
  /**
   * What the run does: `wait` and try this step again after `retryAfterMs` (a locked target); `skip-run` end the
   * run as skipped without acting (maintenance, out of scope); `escalate` end it and hand over to a human
   * (budget exhausted, storm breaker, an ineffective fix with no higher rung).
   */
  then: 'wait' | 'skip-run' | 'escalate';
  retryAfterMs?: number;
}

export type GuardVerdict = { admit: true } | { admit: false; refusal: Refusal };

export interface RunStartVerdict {
  /** The state to start from (possibly with the cursor moved to a higher rung). */
  state: RunState;
  /** Decisions to record (e.g. `ineffective`). */
  notes?: Array<{ reason: DecisionReason; message: string }>;
  refusal?: Refusal;
}

export interface MutationGuard {
  startRun?(ctx: RunContext, state: RunState, io: DecisionIo): Promise<RunStartVerdict>;
  admit(req: MutationRequest): Promise<GuardVerdict>;
  finishRun?(ctx: RunContext, state: RunState): Promise<void>;
}

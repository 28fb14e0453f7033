import type { Step } from '../playbooks/playbook.ts';
import type { TargetRef } from './step-definition.ts';
import type { RunState } from './run-state.ts';
import type { StepEvent } from './decide.ts';
import type { RunContext } from './run-executor.ts';

/**
 * The safety layer in front of every mutating step. The executor asks it once per attempt, before the action runs;
 * the action itself never checks locks, budgets, scope or pauses. A refusal becomes the step's event (a skip, or a
 * non-retryable error whose code names the guard) and is recorded as a decision with its reason code.
 */
export interface MutationRequest {
  ctx: RunContext;
  state: RunState;
  step: Step;
  target: TargetRef;
  params: unknown;
}

export type GuardVerdict = { admit: true } | { admit: false; event: StepEvent };

export interface MutationGuard {
  admit(req: MutationRequest): Promise<GuardVerdict>;
}

/**
 * The roles an operator token carries, weakest first. Each role includes every role before it:
 *
 * - `viewer`: read playbooks, runs, timelines and pauses;
 * - `operator`: also start manual runs, retry and cancel runs;
 * - `approver`: also approve or reject a plan a run waits on;
 * - `admin`: also set and lift pauses (the storm breaker's too) and reload playbooks.
 *
 * An operator entry without a role is a `viewer`: a token given out by mistake can read, never act.
 */
export const OPERATOR_ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;

export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export const DEFAULT_OPERATOR_ROLE: OperatorRole = 'viewer';

/** Whether a token with role `has` may do what needs role `needs`. */
export function roleAllows(has: OperatorRole, needs: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(has) >= OPERATOR_ROLES.indexOf(needs);
}

export function isOperatorRole(value: string): value is OperatorRole {
  return (OPERATOR_ROLES as readonly string[]).includes(value);
}

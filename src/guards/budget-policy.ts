import { formatDuration } from '../domain/duration.ts';

/**
 * The remediation budget: at most `runs` mutating runs per target and playbook in a sliding `window`, and an
 * optional cooldown between two mutating runs on a target. A run counts once, at its first admitted mutation on
 * the target. The check and the count happen in one Lua script (target-lock.ts) so two workers cannot both take
 * the last unit; this is the same rule over plain data, used to word refusals and unit-tested on its own.
 */
export interface BudgetLimits {
  runs: number;
  windowMs: number;
  /** 0 = no cooldown. */
  cooldownMs: number;
}

/** Config defaults with the playbook's spec.budget over them. */
export function budgetLimits(
  defaults: BudgetLimits,
  playbook: { runs?: number; windowMs?: number; cooldownMs?: number } | undefined,
): BudgetLimits {
  return {
    runs: playbook?.runs ?? defaults.runs,
    windowMs: playbook?.windowMs ?? defaults.windowMs,
    cooldownMs: playbook?.cooldownMs ?? defaults.cooldownMs,
  };
}

export type BudgetVerdict =
  | { kind: 'counted' }
  | { kind: 'admit' }
  | { kind: 'exhausted'; freesAt: number }
  | { kind: 'cooldown'; until: number };

export interface BudgetSnapshot {
  /** Runs counted for this target and playbook (any age; older ones are ignored). */
  counted: ReadonlyArray<{ runId: string; at: number }>;
  /** The last mutating run on the target (any playbook), for the cooldown. */
  lastStart?: { runId: string; at: number };
}

/** Whether `runId` may start mutating now. An entry exactly `windowMs` old no longer counts. */
export function budgetVerdict(snap: BudgetSnapshot, runId: string, now: number, limits: BudgetLimits): BudgetVerdict {
  const live = snap.counted.filter((c) => c.at > now - limits.windowMs);
  if (live.some((c) => c.runId === runId)) return { kind: 'counted' };
  const last = snap.lastStart;
  if (limits.cooldownMs > 0 && last && last.runId !== runId && now - last.at < limits.cooldownMs)
    return { kind: 'cooldown', until: last.at + limits.cooldownMs };
  if (live.length >= limits.runs) return { kind: 'exhausted', freesAt: Math.min(...live.map((c) => c.at)) + limits.windowMs };
  return { kind: 'admit' };
}

export function exhaustedMessage(target: string, playbook: string, limits: BudgetLimits, freesAt: number): string {
  return `${playbook} already ran ${limits.runs} time(s) on ${target} within ${formatDuration(limits.windowMs)}; the budget frees at ${new Date(freesAt).toISOString()}`;
}

export function cooldownMessage(target: string, limits: BudgetLimits, until: number): string {
  return `${target} was changed by another run less than ${formatDuration(limits.cooldownMs)} ago (cooldown until ${new Date(until).toISOString()})`;
}

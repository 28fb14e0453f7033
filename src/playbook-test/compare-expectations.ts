import { isDeepStrictEqual } from 'node:util';
import type { ObservedEscalation } from './escalation-receiver.ts';
import type { WorldCall } from './scripted-world.ts';
import type { ExpectDoc, RunExpectDoc, StepOutcome } from './test-file-schema.ts';

/** One run of a case as the operator API showed it at the end. */
export interface ObservedRun {
  id: string;
  playbook: string;
  status: string;
  rungs: string[];
  decisions: string[];
  /** Outcome by step id (the last record of each id). */
  steps: Record<string, StepOutcome>;
  /** One line per step for the report: `[restart] rollout (kube.rolloutStatus): failed — timed out …`. */
  story: string[];
  outcome?: string;
}

/** Everything a case observed. */
export interface CaseObservation {
  runs: ObservedRun[];
  mutations: string[];
  escalations: ObservedEscalation[];
  worldCalls: WorldCall[];
  /** Things that went wrong around the engine: a webhook refused, runs still going at the case timeout. */
  problems: string[];
}

/** One difference between `expect` and what happened, naming the field. */
export interface Mismatch {
  field: string;
  expected: unknown;
  actual: unknown;
  /** For `decisions`: the expected list is a subsequence, not the whole list. */
  subsequence?: boolean;
  /** Free text instead of expected/actual (world answers missing, timeouts). */
  message?: string;
}

/**
 * Checks an `expect` section against a case's observation. Only the keys given are checked. `status`, `rungs`,
 * `decisions` and `steps` describe the last run created; `runs` checks every run in creation order. Unanswered
 * world calls and problems always fail the case.
 */
export function compareExpectations(expect: ExpectDoc | undefined, seen: CaseObservation): Mismatch[] {
  const out: Mismatch[] = [];
  for (const p of seen.problems) out.push({ field: 'case', expected: undefined, actual: undefined, message: p });
  const missing = new Map(seen.worldCalls.filter((w) => w.answer === undefined).map((w) => [`${w.service} ${w.call}`, w]));
  for (const c of missing.values()) {
    out.push({ field: `world.${c.service}`, expected: undefined, actual: undefined, message: `no answer for ${c.call}${hint(c)}` });
  }
  if (!expect) return out;
  const last = seen.runs.at(-1);
  out.push(...compareRun(expect, last, ''));
  if (expect.mutations !== undefined && !isDeepStrictEqual(expect.mutations, seen.mutations))
    out.push({ field: 'mutations', expected: expect.mutations, actual: seen.mutations });
  if (expect.escalations !== undefined) {
    const levels = seen.escalations.map((e) => e.level);
    if (!isDeepStrictEqual(expect.escalations, levels)) out.push({ field: 'escalations', expected: expect.escalations, actual: levels });
  }
  if (expect.runs !== undefined) {
    if (expect.runs.length !== seen.runs.length)
      out.push({
        field: 'runs',
        expected: `${expect.runs.length} run(s)`,
        actual: `${seen.runs.length}: ${seen.runs.map((r) => `${r.playbook} ${r.status}`).join(', ') || 'none'}`,
      });
    expect.runs.forEach((want, i) => {
      const run = seen.runs[i];
      if (want.playbook !== undefined && want.playbook !== run?.playbook)
        out.push({ field: `runs[${i}].playbook`, expected: want.playbook, actual: run?.playbook ?? '(no run)' });
      out.push(...compareRun(want, run, `runs[${i}].`));
    });
  }
  return out;
}

function compareRun(want: RunExpectDoc, run: ObservedRun | undefined, prefix: string): Mismatch[] {
  const out: Mismatch[] = [];
  const none = '(no run was started)';
  if (want.status !== undefined && want.status !== run?.status)
    out.push({ field: `${prefix}status`, expected: want.status, actual: run?.status ?? none });
  if (want.rungs !== undefined && !isDeepStrictEqual(want.rungs, run?.rungs ?? []))
    out.push({ field: `${prefix}rungs`, expected: want.rungs, actual: run?.rungs ?? [] });
  if (want.decisions !== undefined && !isSubsequence(want.decisions, run?.decisions ?? [])) {
    out.push({ field: `${prefix}decisions`, expected: want.decisions, actual: run?.decisions ?? [], subsequence: true });
  }
  for (const [id, outcome] of Object.entries(want.steps ?? {})) {
    const actual = run?.steps[id] ?? 'not-run';
    if (actual !== outcome) out.push({ field: `${prefix}steps.${id}`, expected: outcome, actual });
  }
  return out;
}

function isSubsequence(want: readonly string[], have: readonly string[]): boolean {
  let i = 0;
  for (const h of have) if (i < want.length && h === want[i]) i++;
  return i === want.length;
}

function hint(c: WorldCall): string {
  if (c.service === 'prometheus') return ' (add a world.prometheus entry whose query is contained in it)';
  if (c.service === 'alertmanager') return ' (add world.alertmanager.resolved)';
  return c.call.startsWith('CONNECT') ? '' : ' (add a world.http entry with this url)';
}

import { formatPosition, formatProblem, type SourcePosition, type SourceProblem } from '../schema/yaml-source.ts';
import type { CaseResult } from './run-case.ts';
import type { Mismatch } from './compare-expectations.ts';
import { formatVirtualTime } from './format-virtual-time.ts';

/**
 * Human output of `remediator test`, like promtool's: one line per case (`ok`/`FAIL`, file › name, the real time it
 * took and the virtual time its playbooks covered), and for
 * a failure the expected-vs-actual diff of each field that differs, then the story of the run.
 */
export function caseLine(file: string, result: CaseResult): string {
  return `${result.passed ? 'ok  ' : 'FAIL'} ${file} › ${result.name} (${seconds(result.durationMs)}, ${formatVirtualTime(result.virtualMs)} virtual)`;
}

export function failureDetails(result: CaseResult, position?: SourcePosition): string[] {
  if (result.passed) return [];
  const out: string[] = [];
  if (position) out.push(`     at ${formatPosition(position)}`);
  for (const m of result.mismatches) out.push(...mismatchLines(m).map((l) => `     ${l}`));
  const runs = result.observation?.runs ?? [];
  for (const r of runs) {
    out.push(`     run ${r.id} (${r.playbook}): ${r.status}${r.outcome ? ` — ${r.outcome}` : ''}`);
    for (const line of r.story) out.push(`       ${line}`);
  }
  return out;
}

/** One field's difference; lists are diffed line by line (`-` expected only, `+` actual only). */
export function mismatchLines(m: Mismatch): string[] {
  if (m.message !== undefined) return [`${m.field}: ${m.message}`];
  if (Array.isArray(m.expected) && Array.isArray(m.actual)) {
    const head = m.subsequence ? `${m.field}: expected these in order (others may come between), got:` : `${m.field}:`;
    return [head, ...listDiff(m.expected.map(String), m.actual.map(String), m.subsequence === true).map((l) => `  ${l}`)];
  }
  return [`${m.field}: expected ${show(m.expected)}, got ${show(m.actual)}`];
}

export function problemLines(problems: readonly SourceProblem[]): string[] {
  return problems.map((p) => `ERROR ${formatProblem(p)}`);
}

export function summaryLine(passed: number, failed: number, fileErrors: number, ms: number): string {
  const parts = [`${passed} passed`, `${failed} failed`, ...(fileErrors > 0 ? [`${fileErrors} file(s) with errors`] : [])];
  return `${failed + fileErrors === 0 ? 'PASS' : 'FAIL'}: ${parts.join(', ')} in ${seconds(ms)}`;
}

/**
 * A line diff by longest common subsequence. For a subsequence expectation, actual-only lines are context (` `),
 * not errors.
 */
export function listDiff(expected: string[], actual: string[], subsequence = false): string[] {
  const n = expected.length;
  const m = actual.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = expected[i] === actual[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      out.push(`  ${expected[i]}`);
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push(`${subsequence ? ' ' : '+'} ${actual[j]}`);
      j++;
    } else {
      out.push(`- ${expected[i]}`);
      i++;
    }
  }
  return out.length > 0 ? out : ['(both empty)'];
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

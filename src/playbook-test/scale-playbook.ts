import { parseDocument, stringify } from 'yaml';
import type { TSchema } from '@sinclair/typebox';
import { Duration, parseDuration } from '../domain/duration.ts';
import type { StepRegistry } from '../engine/step-registry.ts';

/**
 * `timeScale`: every duration of a playbook multiplied, so a ladder of rungs whose gates wait minutes runs in
 * seconds. The one place test time is compressed (the simulated cluster's progress deadline follows the same
 * factor, see scaledProgressDeadlineSeconds).
 *
 * Scaled: a step's `interval`, `timeout` (a gate's window, an action's attempt), `deadline`, `retry.backoff`,
 * `retry.maxBackoff`, `approval.timeout`, and every duration parameter in `with` (e.g. `wait.duration`,
 * `prometheus.query.stabilization`) except per-request `timeout`s, which bound real I/O. A gate that relies on its
 * default interval and timeout gets them written out, scaled. Not scaled: `spec.budget` (guard windows stay real,
 * so a test's alerts all fall inside them, as an incident's do), templated values (`{{ … }}`), per-poll
 * `pollTimeout`. Floors keep the engine sane: intervals ≥ 10 ms, action attempt timeouts ≥ 1 s.
 */
const DURATION_PATTERN = (Duration() as unknown as { anyOf: Array<{ pattern?: string }> }).anyOf[0]!.pattern;
const DEFAULT_GATE = { intervalMs: 5_000, timeoutMs: 300_000 };
const MIN_INTERVAL_MS = 10;
const MIN_ATTEMPT_MS = 1_000;

/** A step as written in the playbook, before validation: the fields whose durations are rescaled, in any form. */
interface RawStep {
  action?: string;
  gate?: string;
  interval?: unknown;
  timeout?: unknown;
  deadline?: unknown;
  retry?: { backoff?: unknown; maxBackoff?: unknown };
  approval?: unknown;
  with?: Record<string, unknown>;
}

export function scalePlaybookText(text: string, scale: number, registry: StepRegistry): string {
  const doc = parseDocument(text).toJS({ maxAliasCount: 100 }) as { spec?: { steps?: RawStep[]; rungs?: Array<{ steps?: RawStep[] }> } };
  if (scale === 1) return text;
  const spec = doc.spec ?? {};
  const steps: RawStep[] = [...(spec.steps ?? []), ...(spec.rungs ?? []).flatMap((r) => r.steps ?? [])];
  const by = (value: unknown, floor = 1): unknown => {
    if (value === undefined || (typeof value === 'string' && value.includes('{{'))) return value;
    return Math.max(floor, Math.round(parseDuration(value as string | number) * scale));
  };
  for (const s of steps) {
    const def = registry.get(s.gate ?? s.action ?? '');
    if (s.gate !== undefined) {
      const d = def?.kind === 'gate' ? (def.defaults ?? {}) : {};
      s.interval = by(s.interval ?? d.intervalMs ?? DEFAULT_GATE.intervalMs, MIN_INTERVAL_MS);
      s.timeout = by(s.timeout ?? d.timeoutMs ?? DEFAULT_GATE.timeoutMs);
    } else if (s.timeout !== undefined) {
      s.timeout = by(s.timeout, MIN_ATTEMPT_MS);
    }
    if (s.deadline !== undefined) s.deadline = by(s.deadline);
    if (s.retry?.backoff !== undefined) s.retry.backoff = by(s.retry.backoff);
    if (s.retry?.maxBackoff !== undefined) s.retry.maxBackoff = by(s.retry.maxBackoff);
    if (s.approval && typeof s.approval === 'object') {
      const approval = s.approval as { timeout?: unknown };
      approval.timeout = by(approval.timeout ?? '15m');
    }
    if (def && s.with && typeof s.with === 'object') {
      const props = (def.params as { properties?: Record<string, TSchema> }).properties ?? {};
      for (const [key, schema] of Object.entries(props)) {
        if (key !== 'timeout' && isDuration(schema) && s.with[key] !== undefined) s.with[key] = by(s.with[key]);
      }
    }
  }
  return stringify(doc);
}

/**
 * The kube-sim progress deadline (seconds, at least 1) that corresponds to Kubernetes' `seconds` under `scale`,
 * so a hanging rollout ends in ProgressDeadlineExceeded at the same point of the scaled incident as in real time.
 */
export function scaledProgressDeadlineSeconds(seconds: number, scale: number): number {
  return Math.max(1, Math.round(seconds * scale));
}

function isDuration(schema: TSchema): boolean {
  const anyOf = (schema as { anyOf?: Array<{ pattern?: string }> }).anyOf;
  return Array.isArray(anyOf) && anyOf.some((b) => b.pattern === DURATION_PATTERN);
}

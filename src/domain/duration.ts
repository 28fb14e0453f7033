import { Type, type StringOptions } from '@sinclair/typebox';
import { RemediatorError } from './errors.ts';

/** Durations in playbooks and config are strings like `500ms`, `30s`, `2m`, `1h30m`, or a number of milliseconds. */
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function Duration(options: StringOptions = {}) {
  const { default: dflt, description, ...rest } = options;
  // The default sits on the union itself: Ajv ignores defaults inside anyOf branches.
  return Type.Union(
    [Type.String({ pattern: DURATION.source, ...rest }), Type.Integer({ minimum: 0 })],
    dflt === undefined ? { description } : { description, default: dflt },
  );
}

/** Milliseconds for a duration string or number. Throws REM_ERR_BAD_REQUEST with the offending text. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  if (!DURATION.test(value))
    throw new RemediatorError('REM_ERR_BAD_REQUEST', `"${value}" is not a duration (use e.g. 500ms, 30s, 2m, 1h30m)`);
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * (UNIT[m[2]!] ?? 0);
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}

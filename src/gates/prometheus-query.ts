import { Type } from '@sinclair/typebox';
import { Duration, formatDuration, parseDuration } from '../domain/duration.ts';
import { RemediatorError } from '../domain/errors.ts';
import { defineGate, type Observation } from '../engine/step-definition.ts';
import type { PromSample } from '../ports/prometheus-api.ts';

const Op = Type.Union(['<', '<=', '>', '>=', '==', '!='].map((o) => Type.Literal(o)));
type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** How many samples an observation keeps (the run record is bounded). */
const KEEP_SAMPLES = 10;

/**
 * Runs one instant PromQL query per poll and judges the answer (docs/contracts.md §6):
 * - `expect: nonEmpty` / `empty`: the vector has series / has none (encode the condition in PromQL:
 *   `up{job="x"} == 1`, or the alert's own expression for `empty`).
 * - `expect: {op, value, aggregate}`: every (`all`, the default) or some (`any`) sample compares true. NaN never
 *   does. An empty answer is `nodata` (never a pass) unless the playbook says `noData: pass` or `fail`.
 * - `stabilization`: the condition must have held on every poll for this long before a poll passes.
 * `bad_data` (the query does not parse) and matrix/string results are `fatal`: no amount of polling fixes them.
 * Timeouts, an unavailable or unreachable Prometheus, a proxy's 502: `fail`, keep polling.
 */
export const prometheusQueryGate = defineGate({
  name: 'prometheus.query',
  summary: 'Poll a PromQL instant query until its result is empty, non-empty or passes a threshold.',
  needs: ['prometheus'],
  params: Type.Object(
    {
      query: Type.String({ minLength: 1, description: 'PromQL instant query, e.g. up{job="checkout"} == 1.' }),
      expect: Type.Union(
        [
          Type.Literal('empty'),
          Type.Literal('nonEmpty'),
          Type.Object(
            {
              op: Op,
              value: Type.Number(),
              aggregate: Type.Optional(
                Type.Union([Type.Literal('all'), Type.Literal('any')], {
                  default: 'all',
                  description: 'all: every sample must compare true; any: one is enough.',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ],
        { description: 'empty | nonEmpty | {op, value, aggregate?}.' },
      ),
      noData: Type.Optional(
        Type.Union([Type.Literal('fail'), Type.Literal('pass')], {
          description: 'What an empty answer to a threshold means. Default: no data, which never passes.',
        }),
      ),
      stabilization: Type.Optional(
        Duration({ description: 'The condition must hold continuously this long (e.g. 30s) before the gate counts a pass.' }),
      ),
      timeout: Type.Optional(Duration({ description: 'Per-query timeout (default 8s; keep it under the step pollTimeout).' })),
    },
    { additionalProperties: false },
  ),
  defaults: { intervalMs: 10_000, timeoutMs: 300_000, successes: 3 },
  async check(ctx): Promise<Observation> {
    const prom = ctx.services.prometheus;
    if (!prom) throw new RemediatorError('REM_ERR_DEPENDENCY_MISSING', 'prometheus.query needs a Prometheus, and none is configured');
    const p = ctx.params;
    const started = performance.now();
    const r = await prom.query(p.query, { signal: ctx.signal, timeoutMs: p.timeout === undefined ? 8000 : parseDuration(p.timeout) });
    const latencyMs = Math.round(performance.now() - started);
    const warnings = [...r.warnings, ...r.infos];
    if (warnings.length > 0) ctx.log.warn({ query: p.query, warnings }, 'Prometheus attached warnings to a gate query');
    const notes = warnings.length > 0 ? ` (warnings: ${warnings.join('; ')})` : '';
    // The engine keeps the last state unless a poll returns a new one, so a broken window is reset explicitly.
    const reset = p.stabilization === undefined ? {} : { state: { holdingSince: null } };
    const base = { latencyMs, ...(r.status === 'error' && r.httpStatus !== undefined ? { statusCode: r.httpStatus } : {}), ...reset };

    if (r.status === 'error') {
      const summary = `Prometheus ${r.errorType}: ${r.error}`;
      const value = { errorType: r.errorType, error: r.error, ...(warnings.length ? { warnings } : {}) };
      return { ...base, verdict: r.errorType === 'bad_data' ? 'fatal' : 'fail', summary, value };
    }
    if (r.resultType === 'matrix' || r.resultType === 'string') {
      return {
        ...base,
        verdict: 'fatal',
        summary: `the query returned a ${r.resultType}; an instant gate needs a vector or a scalar`,
        value: { resultType: r.resultType },
      };
    }

    const samples: PromSample[] =
      r.resultType === 'vector' ? r.samples : [{ labels: {}, value: r.value, raw: r.raw, timestamp: r.timestamp }];
    const value = {
      resultType: r.resultType,
      series: samples.length,
      samples: samples.slice(0, KEEP_SAMPLES).map((s) => ({ labels: s.labels, value: s.raw })),
      ...(warnings.length ? { warnings } : {}),
    };
    const seen = describe(samples, r.resultType);

    let holds: boolean;
    let why: string;
    const expect = p.expect;
    if (expect === 'empty' || expect === 'nonEmpty') {
      if (r.resultType === 'scalar')
        return {
          ...base,
          verdict: 'fatal',
          summary: `the query returned a scalar, which is never ${expect === 'empty' ? 'empty' : 'absent'}; compare it with {op, value}`,
          value,
        };
      holds = expect === 'empty' ? samples.length === 0 : samples.length > 0;
      why = `${seen}, expected ${expect === 'empty' ? 'no series' : 'at least one series'}`;
    } else if (samples.length === 0) {
      if (p.noData === undefined) return { ...base, verdict: 'nodata', summary: `no series for ${p.query}${notes}`, value };
      holds = p.noData === 'pass';
      why = `no series (noData: ${p.noData})`;
    } else {
      const aggregate = expect.aggregate ?? 'all';
      const good = samples.filter((s) => compare(s.value, expect.op as CompareOp, expect.value)).length;
      holds = aggregate === 'all' ? good === samples.length : good > 0;
      const wanted = `${expect.op} ${expect.value}`;
      why =
        samples.length === 1
          ? `${seen}, expected ${wanted}`
          : `${good} of ${samples.length} series ${wanted} (${aggregate} required): ${seen}`;
    }

    if (!holds) return { ...base, verdict: 'fail', summary: `${why}${notes}`, value };
    if (p.stabilization === undefined) return { ...base, verdict: 'pass', summary: `${why}${notes}`, value };
    const need = parseDuration(p.stabilization);
    const previous = ctx.state as { holdingSince?: number | null } | undefined;
    const now = ctx.clock.now();
    const since = previous?.holdingSince ?? now;
    const held = now - since;
    const state = { holdingSince: since };
    if (held < need)
      return {
        ...base,
        verdict: 'fail',
        summary: `${why}; holding for ${formatDuration(held)} of ${formatDuration(need)}${notes}`,
        value,
        state,
      };
    return { ...base, verdict: 'pass', summary: `${why}; held for ${formatDuration(held)}${notes}`, value, state };
  },
});

/** NaN never satisfies any comparison, `!=` included (a NaN sample is not evidence of anything). */
export function compare(v: number, op: CompareOp, threshold: number): boolean {
  if (Number.isNaN(v)) return false;
  switch (op) {
    case '<':
      return v < threshold;
    case '<=':
      return v <= threshold;
    case '>':
      return v > threshold;
    case '>=':
      return v >= threshold;
    case '==':
      return v === threshold;
    case '!=':
      return v !== threshold;
  }
}

/** `up{job="x"} = 0`, `scalar = 3`, `no series`, or the first few of many. */
function describe(samples: PromSample[], resultType: 'vector' | 'scalar'): string {
  if (resultType === 'scalar') return `scalar = ${samples[0]?.raw}`;
  if (samples.length === 0) return 'no series';
  const shown = samples.slice(0, 3).map((s) => `${seriesName(s.labels)} = ${s.raw}`);
  return samples.length > 3 ? `${shown.join(', ')} and ${samples.length - 3} more` : shown.join(', ');
}

function seriesName(labels: Record<string, string>): string {
  const { __name__: name = '', ...rest } = labels;
  const pairs = Object.entries(rest).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const text = `${name}{${pairs.join(',')}}`;
  return text.length > 160 ? `${text.slice(0, 160)}…}` : text;
}

import { Type } from '@sinclair/typebox';
import { Duration, parseDuration } from '../domain/duration.ts';
import { RemediatorError, isRemediatorError } from '../domain/errors.ts';
import { defineGate, type Observation } from '../engine/step-definition.ts';
import { formatMatcher, isMatcherLabelName, type AmAlert } from '../ports/alertmanager-api.ts';

/** How many of the still-active alerts an observation keeps (the run record is bounded). */
const KEEP_ALERTS = 10;

/**
 * Asks Alertmanager (API v2) whether the run's alert is still active: passes when it is not. This is how a run
 * knows the alert itself cleared, rather than trusting that the fix worked.
 *
 * By default it looks for exactly the run's alert: equality matchers for every label narrow the query, then an
 * alert counts only if it has the same fingerprint or the same label set (an alert with one more label is another
 * series). With `labels`, only those labels of the run's alert are matched and any matching alert counts (e.g.
 * `[alertname, namespace, service]`: no instance of this alert for the service is firing). `matchers` are added
 * to either. Silenced and inhibited alerts count as active: a silence hides a problem, it does not fix it.
 */
export const alertmanagerResolvedGate = defineGate({
  name: 'alertmanager.resolved',
  summary: "Poll Alertmanager until the run's alert is no longer active.",
  needs: ['alertmanager'],
  params: Type.Object(
    {
      labels: Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), {
          minItems: 1,
          description:
            "Match only these labels of the run's alert, and count any alert that has them. Default: the alert's exact label set.",
        }),
      ),
      matchers: Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), { description: 'Extra Alertmanager matchers, e.g. severity=~"critical|page".' }),
      ),
      includeSilenced: Type.Optional(
        Type.Boolean({ default: true, description: 'Whether a silenced alert still counts as active (default true).' }),
      ),
      timeout: Type.Optional(Duration({ description: 'Per-request timeout (default 8s; keep it under the step pollTimeout).' })),
    },
    { additionalProperties: false },
  ),
  defaults: { intervalMs: 15_000, timeoutMs: 600_000, successes: 2 },
  async check(ctx): Promise<Observation> {
    const am = ctx.services.alertmanager;
    if (!am) throw new RemediatorError('REM_ERR_DEPENDENCY_MISSING', 'alertmanager.resolved needs an Alertmanager, and none is configured');
    const p = ctx.params;
    const alert = ctx.run.alert;
    const exact = p.labels === undefined;

    const names = p.labels ?? Object.keys(alert.labels);
    const missing = names.filter((n) => !(n in alert.labels));
    if (missing.length > 0) return { verdict: 'fatal', summary: `the run's alert has no label ${missing.join(', ')} to match on` };
    // A label Alertmanager cannot parse in a matcher is left to the exact comparison below.
    const matchers = [...names.filter(isMatcherLabelName).map((n) => formatMatcher(n, alert.labels[n]!)), ...(p.matchers ?? [])];
    if (matchers.length === 0)
      return { verdict: 'fatal', summary: "nothing to match on: the run's alert has no labels and no matchers were given" };

    const started = performance.now();
    let listed: AmAlert[];
    try {
      listed = await am.listAlerts(
        { matchers, includeSilenced: p.includeSilenced ?? true, includeInhibited: true, includeUnprocessed: true, includeActive: true },
        { signal: ctx.signal, timeoutMs: p.timeout === undefined ? 8000 : parseDuration(p.timeout) },
      );
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
      const status = isRemediatorError(err) ? (err.details?.status as number | undefined) : undefined;
      const message = err instanceof Error ? err.message : String(err);
      // 400 is Alertmanager refusing the matchers: a playbook bug that polling will not fix.
      return {
        verdict: status === 400 ? 'fatal' : 'fail',
        summary: message,
        ...(status !== undefined ? { statusCode: status } : {}),
        latencyMs: Math.round(performance.now() - started),
      };
    }
    const latencyMs = Math.round(performance.now() - started);

    const active = exact
      ? listed.filter((a) => (alert.fingerprint !== '' && a.fingerprint === alert.fingerprint) || sameLabels(a.labels, alert.labels))
      : listed;
    const value = {
      matchers,
      active: active.length,
      ...(exact ? { related: listed.length - active.length } : {}),
      alerts: active.slice(0, KEEP_ALERTS).map((a) => ({
        fingerprint: a.fingerprint,
        labels: a.labels,
        state: a.status.state,
        startsAt: a.startsAt,
        ...(a.status.silencedBy.length ? { silencedBy: a.status.silencedBy } : {}),
        ...(a.status.inhibitedBy.length ? { inhibitedBy: a.status.inhibitedBy } : {}),
      })),
    };
    const name = alert.labels.alertname ?? 'the alert';
    if (active.length === 0) {
      const others = exact && listed.length > 0 ? ` (${listed.length} other alert(s) with more labels still active)` : '';
      return { verdict: 'pass', summary: `${name} is no longer active in Alertmanager${others}`, value, latencyMs };
    }
    const first = active[0]!;
    const how = first.status.silencedBy.length ? ', silenced' : first.status.inhibitedBy.length ? ', inhibited' : '';
    const more = active.length > 1 ? ` and ${active.length - 1} more` : '';
    return { verdict: 'fail', summary: `${name} still active in Alertmanager (since ${first.startsAt}${how})${more}`, value, latencyMs };
  },
});

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

import type { IncidentReport, IncidentRung } from '../incident.ts';

/** Small text helpers shared by the renderers. All pure. */

/**
 * Cuts `text` to at most `max` characters (UTF-16 code units: what JSON Schema `maxLength` and the providers' limits
 * count, closely enough) without splitting a surrogate pair, ending with `…` when cut.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, Math.max(0, max));
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** UTF-8 bytes of a string. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** `✓` succeeded, `✗` failed, `–` skipped, `…` running, `·` pending. */
export function rungMark(r: IncidentRung): string {
  switch (r.outcome) {
    case 'succeeded':
      return '✓';
    case 'failed':
      return '✗';
    case 'skipped':
      return '–';
    case 'running':
      return '…';
    default:
      return '·';
  }
}

/** `✗ restart — rollout did not become ready (14:31:02–14:33:10 UTC)` */
export function rungLine(r: IncidentRung): string {
  const span = r.startedAt ? ` (${clock(r.startedAt)}${r.endedAt ? `–${clock(r.endedAt)}` : ''} UTC)` : '';
  const why = r.reason ? ` — ${r.reason}` : r.outcome === 'succeeded' || r.outcome === 'failed' ? '' : ` — ${r.outcome}`;
  return `${rungMark(r)} ${r.name}${why}${span}`;
}

/** `3 of 4 rungs tried, 1 succeeded` */
export function progressLine(report: IncidentReport): string {
  const total = report.rungs.length;
  if (total === 0) return 'no remediation rungs';
  const tried = report.rungs.filter((r) => r.outcome === 'succeeded' || r.outcome === 'failed').length;
  const ok = report.rungs.filter((r) => r.outcome === 'succeeded').length;
  const running = report.rungs.find((r) => r.outcome === 'running');
  return `${tried} of ${total} rungs tried, ${ok} succeeded${running ? `; now: ${running.name}` : ''}`;
}

/** `14:31:02` from an RFC 3339 timestamp (UTC); the input itself when it does not parse. */
export function clock(at: string): string {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return at;
  return new Date(ms).toISOString().slice(11, 19);
}

/** `2026-01-01 14:31:02 UTC` */
export function dateTime(at: string): string {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return at;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `+2m5s` between two timestamps; '' when either does not parse. */
export function offset(from: string, at: string): string {
  const a = Date.parse(from);
  const b = Date.parse(at);
  if (Number.isNaN(a) || Number.isNaN(b)) return '';
  const ms = Math.max(0, b - a);
  const s = Math.round(ms / 1000);
  if (s < 60) return `+${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `+${m}m${s % 60}s` : `+${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `+${h}h${m % 60}m` : `+${h}h`;
}

/** What the target is, for one-line summaries: `ai-ninja/Deployment/phone-gateway`, or the services. */
export function subject(report: IncidentReport): string {
  if (report.target)
    return `${report.target.namespace === undefined ? '' : `${report.target.namespace}/`}${report.target.kind}/${report.target.name}`;
  if (report.services.length > 0) return report.services.join(', ');
  return report.alert.labels.namespace ?? 'unknown target';
}

export const STATUS_TEXT: Readonly<Record<IncidentReport['status'], string>> = {
  remediating: 'automatic remediation in progress',
  escalated: 'automation could not fix it; escalated to a human',
  recovered: 'recovered and verified',
  failed: 'remediation failed',
};

/**
 * A bounded JSON rendering of the diagnosis snapshot: the JSON text when it fits in `maxChars`, else its first
 * `maxChars` characters with a note of the full size. Undefined when there is no snapshot.
 */
export function snapshotText(snapshot: unknown, maxChars: number): string | undefined {
  if (snapshot === undefined) return undefined;
  let text: string;
  try {
    text = typeof snapshot === 'string' ? snapshot : JSON.stringify(snapshot);
  } catch {
    text = String(snapshot);
  }
  if (text === undefined) return undefined;
  if (text.length <= maxChars) return text;
  return `${truncate(text, maxChars)} (snapshot cut: ${text.length} chars in full; see the run record)`;
}

/** Links worth a click, in order: run, runbook, dashboard, source graph. Only absolute http(s) URLs. */
export function incidentLinks(report: IncidentReport): Array<{ href: string; text: string }> {
  const out: Array<{ href: string; text: string }> = [];
  const add = (href: string | undefined, text: string) => {
    if (href && /^https?:\/\//i.test(href)) out.push({ href, text });
  };
  add(report.run.url, `Remediation run ${report.run.id}`);
  add(report.run.reportUrl, 'Incident report');
  add(report.alert.runbookUrl, 'Runbook');
  add(report.alert.dashboardUrl, 'Dashboard');
  add(report.alert.generatorURL, 'Alert source');
  return out;
}

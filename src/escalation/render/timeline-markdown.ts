import type { IncidentReport, TimelineEntry } from '../incident.ts';
import { clock, dateTime, offset, STATUS_TEXT, subject } from './text.ts';

const KIND_LABEL: Readonly<Record<TimelineEntry['kind'], string>> = {
  alert: '🔔 Alert received',
  decision: '🧭 Decision',
  action: '🔧 Action',
  gate: '🔎 Verification gate',
  escalation: '📟 Escalation',
  recovery: '✅ Recovery',
  note: '📝 Note',
};

/**
 * The post-incident timeline in Markdown, the runbook's "incident timeline" section filled from the run: when the
 * alert came, when it was confirmed, each action and gate with its time and result, escalations, recovery and its
 * verification, followed by the remediation ladder. Served at `GET /v1/runs/:id/timeline`; pure.
 */
export function renderTimelineMarkdown(report: IncidentReport): string {
  const start = report.alert.startsAt;
  const entries = report.timeline
    .map((e, i) => ({ e, i, t: Date.parse(e.at) }))
    .sort((a, b) => (Number.isNaN(a.t) || Number.isNaN(b.t) ? a.i - b.i : a.t - b.t || a.i - b.i))
    .map((x) => x.e);
  const recovery = [...entries].reverse().find((e) => e.kind === 'recovery');

  const out: string[] = [`# Incident timeline: ${cell(report.alert.name)} (${report.level})`, '', cell(report.alert.summary), ''];
  out.push('| | |', '|---|---|');
  out.push(`| Episode | \`${report.episodeKey}\` |`);
  out.push(`| Services | ${cell(report.services.join(', ') || '-')} |`);
  if (report.target) out.push(`| Target | ${cell(subject(report))} |`);
  out.push(`| Status | ${cell(STATUS_TEXT[report.status])} |`);
  out.push(`| Started | ${dateTime(start)} |`);
  if (recovery)
    out.push(`| Recovered | ${dateTime(recovery.at)} (${offset(start, recovery.at).replace('+', '') || '?'} after the alert started) |`);
  out.push(
    `| Run | ${report.run.url ? `[${cell(report.run.id)}](${report.run.url})` : `\`${cell(report.run.id)}\``} — playbook \`${cell(report.run.playbook)}\` |`,
  );
  if (report.owner) out.push(`| Owner | @${cell(report.owner)} |`);
  out.push('');

  out.push('## Timeline (UTC)', '');
  if (entries.length === 0) out.push('_No events recorded._');
  else {
    out.push('| Time | Since start | Event | Result | What happened |', '|---|---|---|---|---|');
    for (const e of entries) {
      const result = e.ok === undefined ? '' : e.ok ? '✓' : '✗';
      out.push(`| ${clock(e.at)} | ${offset(start, e.at)} | ${KIND_LABEL[e.kind]} | ${result} | ${cell(e.text)} |`);
    }
  }
  out.push('');

  out.push('## Remediation ladder', '');
  if (report.rungs.length === 0) out.push('_No remediation rungs ran._');
  else {
    out.push('| # | Rung | Outcome | Started | Ended | Took | Why |', '|---|---|---|---|---|---|---|');
    report.rungs.forEach((r, i) => {
      const took = r.startedAt && r.endedAt ? offset(r.startedAt, r.endedAt).replace('+', '') : '';
      out.push(
        `| ${i + 1} | ${cell(r.name)} | ${r.outcome} | ${r.startedAt ? clock(r.startedAt) : ''} | ${r.endedAt ? clock(r.endedAt) : ''} | ${took} | ${cell(r.reason ?? '')} |`,
      );
    });
  }
  out.push('');
  return out.join('\n');
}

/** Text safe inside a Markdown table cell: no pipes or line breaks. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

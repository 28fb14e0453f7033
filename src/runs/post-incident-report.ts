import type { Decision } from '../engine/decision.ts';
import type { IncidentReport } from '../escalation/incident.ts';
import { clock, dateTime, offset, STATUS_TEXT } from '../escalation/render/text.ts';
import type { RunView } from '../store/run-record.ts';
import type { HumanMarks } from './human-takeover.ts';
import { FINAL_STATUSES } from '../engine/run-state.ts';

const SOURCE: Readonly<Record<string, string>> = { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie' };
const source = (s: string) => SOURCE[s] ?? s;

/** What the post-incident report is written from: every run of the episode with its report, the decisions, what people did. */
export interface PostIncidentInput {
  episodeKey: string;
  runs: Array<{ view: RunView; report: IncidentReport }>;
  /** The episode's decisions and its runs' (deduplicated), in any order. */
  decisions: Decision[];
  human: HumanMarks;
  /** The customer notice, when one was drafted (src/runs/customer-notice-flow.ts). */
  notice?: { status: string; decidedBy?: string; at?: string };
  /** When the report is produced (RFC 3339). */
  now: string;
}

type Phase = 'Detection' | 'Confirmation' | 'Action' | 'Verification' | 'Escalation' | 'People' | 'Recovery' | 'Decision';

const PEOPLE: ReadonlySet<Decision['reason']> = new Set([
  'human_ack',
  'human_resolved',
  'approved',
  'rejected',
  'approval_refused',
  'manual',
  'retried',
  'cancelled',
  'notice_approved',
  'notice_rejected',
  'human_note',
  'step_interrupted',
]);

/**
 * The post-incident report in Markdown, the seed's "post-incident review within 24 hours": the summary, one timeline
 * across every run of the incident (detection, confirmation, each action, verification, escalations and pages, what
 * people did, recovery), what automation tried per run (✓/✗), every decision, pages and acknowledgements, and the
 * review sections people fill in (root cause by five whys, lessons, improvements). Pure.
 */
export function renderPostIncidentReport(given: PostIncidentInput): string {
  // People's notes are shown as text: nothing in them becomes a link, an image or HTML in the report.
  const input = {
    ...given,
    decisions: given.decisions.map((d) =>
      d.reason === 'human_note' ? { ...d, message: inert(d.message), ...(d.by ? { by: inert(d.by) } : {}) } : d,
    ),
  };
  const first = input.runs[0]?.report;
  const last = input.runs.at(-1)?.report;
  const out: string[] = [];
  const name = first?.alert.name ?? input.episodeKey;
  const level = last?.level ?? first?.level ?? '?';
  out.push(`# Post-incident report: ${cell(name)} (${level})`, '');
  if (first) out.push(cell(first.alert.summary), '');

  const started = first?.alert.startsAt;
  const recovered = input.decisions
    .filter((d) => d.reason === 'succeeded' || (d.reason === 'resolved' && d.runId))
    .map((d) => d.at)
    .sort()
    .at(-1);
  out.push('| | |', '|---|---|');
  out.push(`| Episode | \`${input.episodeKey}\` |`);
  out.push(`| Level | ${level} |`);
  if (first) out.push(`| Services | ${cell(first.services.join(', ') || '-')} |`);
  if (started) out.push(`| Started | ${dateTime(started)} |`);
  out.push(`| Status | ${last ? cell(STATUS_TEXT[last.status]) : 'no run recorded'} |`);
  if (recovered && started)
    out.push(`| Recovered | ${dateTime(recovered)} (${offset(started, recovered).replace('+', '')} after the alert started) |`);
  if (input.human.ack)
    out.push(
      `| Acknowledged | ${cell(input.human.ack.person)} in ${source(input.human.ack.source)} at ${dateTime(input.human.ack.at)}${started ? ` (${offset(started, input.human.ack.at)})` : ''} |`,
    );
  if (input.human.resolve)
    out.push(
      `| Resolved by | ${cell(input.human.resolve.person)} in ${source(input.human.resolve.source)} at ${dateTime(input.human.resolve.at)} |`,
    );
  out.push(`| Runs | ${input.runs.map((r) => `\`${r.view.id}\` (${r.view.playbook}, ${r.view.status})`).join(', ') || '-'} |`);
  if (last?.owner) out.push(`| Owner | @${cell(last.owner)} |`);
  if (input.notice)
    out.push(
      `| Customer notice | ${input.notice.status}${input.notice.decidedBy ? ` by ${cell(input.notice.decidedBy)}` : ''}${input.notice.at ? ` at ${dateTime(input.notice.at)}` : ''} |`,
    );
  out.push(`| Report produced | ${dateTime(input.now)} |`, '');

  out.push('## Timeline (UTC)', '');
  const rows = timeline(input);
  if (rows.length === 0) out.push('_No events recorded._');
  else {
    out.push('| Time | Since start | Phase | Run | Result | What happened |', '|---|---|---|---|---|---|');
    for (const r of rows)
      out.push(
        `| ${clock(r.at)} | ${started ? offset(started, r.at) : ''} | ${r.phase} | ${r.run ? `\`${r.run}\`` : ''} | ${r.ok === undefined ? '' : r.ok ? '✓' : '✗'} | ${cell(r.text)} |`,
      );
  }
  out.push('');

  out.push('## What automation tried', '');
  if (input.runs.length === 0) out.push('_No run._', '');
  for (const { view, report } of input.runs) {
    out.push(`### Run \`${view.id}\` — playbook \`${cell(view.playbook)}\`, ${view.trigger}, ended ${view.status}`, '');
    if (report.rungs.length === 0) out.push('_No remediation rungs._', '');
    else {
      out.push('| # | Rung | Result | Why |', '|---|---|---|---|');
      const ended = FINAL_STATUSES.has(view.status);
      report.rungs.forEach((r, i) => {
        // A rung still "running" in the state of a run that ended was cut short (cancelled, taken over, timed out).
        const result =
          r.outcome === 'succeeded'
            ? '✓ succeeded'
            : r.outcome === 'pending'
              ? 'not tried'
              : r.outcome === 'running'
                ? ended
                  ? `✗ stopped (run ${view.status})`
                  : '… running'
                : `✗ ${r.outcome}`;
        out.push(`| ${i + 1} | ${cell(r.name)} | ${result} | ${cell(r.reason ?? '')} |`);
      });
      out.push('');
    }
  }

  out.push('## Decisions', '');
  const decisions = [...input.decisions].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (decisions.length === 0) out.push('_None recorded._');
  else {
    out.push('| Time | Run | Decision | By | Why |', '|---|---|---|---|---|');
    for (const d of decisions)
      out.push(
        `| ${clock(d.at)} | ${d.runId ? `\`${d.runId}\`` : ''} | ${d.reason} | ${cell(d.by ?? 'remediator')} | ${cell(d.message)} |`,
      );
  }
  out.push('');

  out.push('## Pages and acknowledgements', '');
  const pages = decisions.filter((d) => d.reason === 'escalated' || d.reason === 'response_escalated');
  const paged = input.runs.flatMap(({ view }) =>
    (view.state?.steps ?? [])
      .filter((s) => s.uses === 'escalate' && s.status === 'succeeded')
      .map((s) => ({ at: s.endedAt ?? s.startedAt, run: view.id, text: s.summary ?? 'paged' })),
  );
  const lines = [
    ...paged.map((p) => ({ at: p.at, text: `page from run \`${p.run}\`: ${cell(p.text)}` })),
    ...pages.map((d) => ({ at: d.at, text: `${d.reason === 'escalated' ? 'escalated' : 'response-time tier'}: ${cell(d.message)}` })),
    ...(input.human.ack
      ? [{ at: input.human.ack.at, text: `acknowledged by ${cell(input.human.ack.person)} (${source(input.human.ack.source)})` }]
      : []),
    ...(input.human.resolve
      ? [{ at: input.human.resolve.at, text: `resolved by ${cell(input.human.resolve.person)} (${source(input.human.resolve.source)})` }]
      : []),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (lines.length === 0) out.push('_Nobody was paged._');
  else for (const l of lines) out.push(`- ${dateTime(l.at)}: ${l.text}`);
  if (!input.human.ack && lines.length > 0) out.push('- _No acknowledgement was received from PagerDuty or Opsgenie._');
  out.push('');

  out.push('## Notes from people', '');
  const notes = decisions.filter((d) => d.reason === 'human_note');
  if (notes.length === 0) out.push('_No note was added at the paging provider._');
  else for (const n of notes) out.push(`- ${dateTime(n.at)}: ${cell(n.message)}`);
  out.push('');

  out.push('## Post-incident review (within 24 hours; to be completed by the responders)', '');
  out.push('### Root cause: five whys', '');
  out.push(`1. Why did ${cell(name)} fire? _…_`, '2. Why? _…_', '3. Why? _…_', '4. Why? _…_', '5. Why? _…_', '', '**Root cause:** _…_', '');
  out.push(
    '### Impact',
    '',
    '- Users affected: _…_',
    `- Services affected: ${first ? cell(first.services.join(', ') || '_…_') : '_…_'}`,
    '- Business loss: _…_',
    '',
  );
  out.push('### Lessons learned', '', '- What went well: _…_', '- What went badly: _…_', '- Where we were lucky: _…_', '');
  out.push('### Improvements', '', '| Action | Owner | Due | Tracking |', '|---|---|---|---|', '| _…_ | _…_ | _…_ | _…_ |', '');
  return out.join('\n');
}

interface Row {
  at: string;
  phase: Phase;
  run?: string;
  ok?: boolean;
  text: string;
}

function timeline(input: PostIncidentInput): Row[] {
  const rows: Row[] = [];
  const first = input.runs[0];
  if (first)
    rows.push({
      at: first.report.alert.startsAt,
      phase: 'Detection',
      text: `${first.report.alert.name} fired: ${first.report.alert.summary}`,
    });
  for (const d of input.decisions) {
    const phase: Phase =
      d.reason === 'started' || d.reason === 'manual' || d.reason === 'deduplicated'
        ? 'Confirmation'
        : d.reason === 'escalated' || d.reason === 'response_escalated'
          ? 'Escalation'
          : d.reason === 'resolved' || d.reason === 'succeeded'
            ? 'Recovery'
            : PEOPLE.has(d.reason) && d.by
              ? 'People'
              : 'Decision';
    rows.push({ at: d.at, phase, ...(d.runId ? { run: d.runId } : {}), text: `${d.reason}${d.by ? ` (${d.by})` : ''}: ${d.message}` });
  }
  for (const { view } of input.runs) {
    for (const s of view.state?.steps ?? []) {
      const ended = s.status === 'succeeded' || s.status === 'failed';
      rows.push({
        at: s.endedAt ?? s.startedAt,
        phase: s.kind === 'gate' ? 'Verification' : 'Action',
        run: view.id,
        ...(ended ? { ok: s.status === 'succeeded' } : {}),
        text: `${s.id} (${s.uses}): ${s.status}${s.summary ? ` — ${s.summary}` : ''}${s.error ? ` — ${s.error.message}` : ''}`,
      });
    }
  }
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => Date.parse(a.r.at) - Date.parse(b.r.at) || a.i - b.i)
    .map((x) => x.r);
}

/** Text written by people outside remediator, made inert in Markdown: no link, image, autolink or HTML can form. */
function inert(text: string): string {
  return text.replace(/[&<>[\]]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text safe inside a Markdown table cell: no pipes or line breaks. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

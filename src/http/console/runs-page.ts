import { html, type SafeHtml } from './html.ts';
import { statusBadge, time } from './layout.ts';
import type { RunView } from '../../store/run-record.ts';
import type { RunStatus } from '../../engine/run-state.ts';

export const STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'waiting',
  'awaiting_approval',
  'succeeded',
  'completed',
  'failed',
  'escalated',
  'cancelled',
  'skipped',
];

/** The time windows the list offers, by the value of its `since` field. */
export const WINDOWS: Record<string, { label: string; ms?: number }> = {
  '': { label: 'any time' },
  '1h': { label: 'last hour', ms: 3_600_000 },
  '24h': { label: 'last 24 hours', ms: 86_400_000 },
  '7d': { label: 'last 7 days', ms: 7 * 86_400_000 },
};

export interface RunsQuery {
  status?: string;
  playbook?: string;
  target?: string;
  since?: string;
  cursor?: string;
}

function query(q: RunsQuery, change: Partial<RunsQuery>): string {
  const merged = { ...q, cursor: undefined, ...change };
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(merged)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `/?${s}` : '/';
}

function targetText(r: RunView): string {
  const t = r.target;
  if (!t) return '—';
  return t.namespace ? `${t.namespace}/${t.kind}/${t.name}` : `${t.kind}/${t.name}`;
}

/** The runs list: filters, counts by status (in the chosen window), one page of runs and the link to the next. */
export function runsPage(opts: {
  q: RunsQuery;
  runs: RunView[];
  next?: string;
  counts: Partial<Record<RunStatus, number>>;
  playbooks: string[];
}): SafeHtml {
  const { q } = opts;
  const total = Object.values(opts.counts).reduce((a, b) => a + (b ?? 0), 0);
  return html`<h1>Runs</h1>
<form class="filters" method="get" action="/" role="search" aria-label="Filter runs">
  <label>Status <select name="status"><option value="">any</option>${STATUSES.map((s) => html`<option value="${s}"${q.status === s ? html` selected` : ''}>${s}</option>`)}</select></label>
  <label>Playbook <select name="playbook"><option value="">any</option>${opts.playbooks.map((p) => html`<option value="${p}"${q.playbook === p ? html` selected` : ''}>${p}</option>`)}</select></label>
  <label>Target <input name="target" value="${q.target ?? ''}" placeholder="namespace/name"></label>
  <label>Created <select name="since">${Object.entries(WINDOWS).map(([k, w]) => html`<option value="${k}"${(q.since ?? '') === k ? html` selected` : ''}>${w.label}</option>`)}</select></label>
  <button type="submit">Filter</button>
</form>
<div data-live-region>
<nav aria-label="Counts by status" class="counts"><ul>
  <li><a href="${query(q, { status: undefined })}"${!q.status ? html` aria-current="true"` : ''}>all <strong data-count="all">${total}</strong></a></li>
  ${STATUSES.map((s) => html`<li><a href="${query(q, { status: s })}"${q.status === s ? html` aria-current="true"` : ''}>${s.replace('_', ' ')} <strong data-count="${s}">${opts.counts[s] ?? 0}</strong></a></li>`)}
</ul></nav>
<table class="runs">
<caption class="visually-hidden">Runs, newest first</caption>
<thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Playbook</th><th scope="col">Target</th><th scope="col">Alert</th><th scope="col">Trigger</th><th scope="col">Created</th></tr></thead>
<tbody>
${opts.runs.length === 0 ? html`<tr><td colspan="7">No runs match.</td></tr>` : ''}
${opts.runs.map(
  (r) => html`<tr data-run="${r.id}">
  <td><a href="/runs/${r.id}">${r.id}</a>${r.dryRun ? html` <span class="tag">dry run</span>` : ''}</td>
  <td>${statusBadge(r.status)}</td>
  <td>${r.playbook}</td>
  <td>${targetText(r)}</td>
  <td>${r.alert.labels.alertname ?? ''}</td>
  <td>${r.trigger}${r.operator ? html` by ${r.operator}` : ''}</td>
  <td>${time(r.createdAt)}</td>
</tr>`,
)}
</tbody>
</table>
${opts.next ? html`<p><a rel="next" href="${query(q, { cursor: opts.next })}">Older runs</a></p>` : ''}
</div>`;
}

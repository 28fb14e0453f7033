import { html, type SafeHtml } from './html.ts';
import { elapsed, statusBadge, time } from './layout.ts';
import type { RunView } from '../../store/run-record.ts';
import type { PlanDiff, StepRecord } from '../../engine/run-state.ts';
import { FINAL_STATUSES } from '../../engine/run-state.ts';
import { roleAllows, type OperatorRole } from '../operator-roles.ts';
import type { DeliveryState } from '../../escalation/delivery-status.ts';
import type { HumanMarks } from '../../runs/human-takeover.ts';

export interface RunLinks {
  prometheus?: string;
  alertmanager?: string;
}

function json(v: unknown): string {
  return JSON.stringify(v, null, 2);
}

function alertName(r: RunView): string {
  return r.alert.labels.alertname ?? r.playbook;
}

/** A form that asks for a reason and sends it to the JSON API (console.js does the request, with the CSRF token). */
function actionForm(opts: { action: string; label: string; method?: string; danger?: boolean; id: string; extra?: SafeHtml }): SafeHtml {
  return html`<form class="action" data-api="${opts.action}" data-method="${opts.method ?? 'POST'}" data-testid="form-${opts.id}">
  <label for="reason-${opts.id}">Reason</label>
  <textarea id="reason-${opts.id}" name="reason" required minlength="3" rows="2"></textarea>
  ${opts.extra ?? ''}
  <button type="submit"${opts.danger ? html` class="danger"` : ''}>${opts.label}</button>
</form>`;
}

function observations(s: StepRecord): SafeHtml {
  if (!s.observations?.length) return html``;
  return html`<table class="obs"><caption>Observations (${s.polls ?? s.observations.length} polls)</caption>
<thead><tr><th scope="col">At</th><th scope="col">Verdict</th><th scope="col">Seen</th><th scope="col">Value</th><th scope="col">Threshold</th></tr></thead>
<tbody>${s.observations.map((o) => {
    const out = (o.output ?? {}) as Record<string, unknown>;
    const threshold = out.threshold ?? out.expect ?? out.expected ?? out.condition;
    return html`<tr><td>${time(o.at)}</td><td class="verdict-${o.verdict}">${o.verdict}</td><td>${o.summary}</td><td>${o.value === undefined ? '—' : typeof o.value === 'object' ? JSON.stringify(o.value) : String(o.value)}</td><td>${threshold === undefined ? '—' : typeof threshold === 'object' ? JSON.stringify(threshold) : String(threshold)}</td></tr>`;
  })}</tbody></table>`;
}

/** The readable form of a kube.snapshot output: pods and their containers, events, the log excerpts. */
/** What the page reads of a kube.snapshot output (src/actions/kube-snapshot.ts); every field may be absent. */
interface SnapshotOutput {
  pods?: { items?: SnapshotPod[]; failing?: number; total?: number };
  events?: SnapshotEvent[];
}
interface SnapshotPod {
  name?: string;
  phase?: string;
  containers?: Array<{
    name?: string;
    ready?: boolean;
    restarts?: number;
    reason?: string;
    lastTermination?: { reason?: string; exitCode?: number };
    log?: string;
    logSource?: string;
  }>;
}
interface SnapshotEvent {
  lastTimestamp?: string;
  at?: string;
  type?: string;
  reason?: string;
  object?: string;
  involvedObject?: string;
  message?: string;
  count?: number;
}

function snapshot(raw: unknown): SafeHtml {
  const output = (raw ?? {}) as SnapshotOutput;
  const pods = output.pods?.items ?? [];
  const events = output.events ?? [];
  return html`<div class="snapshot">
<h4>Pods (${output?.pods?.failing ?? 0} failing of ${output?.pods?.total ?? pods.length})</h4>
<table><thead><tr><th scope="col">Pod</th><th scope="col">Phase</th><th scope="col">Containers</th></tr></thead><tbody>
${pods.map((p) => html`<tr><td>${p.name}</td><td>${p.phase ?? ''}</td><td>${(p.containers ?? []).map((c) => html`<div>${c.name}: ${c.ready ? 'ready' : 'not ready'}, ${c.restarts} restarts${c.reason ? `, ${c.reason}` : ''}${c.lastTermination?.reason ? `, last ${c.lastTermination.reason} (exit ${c.lastTermination.exitCode})` : ''}</div>${c.log ? html`<details><summary>Log excerpt (${c.logSource ?? 'current'})</summary><pre tabindex="0">${c.log}</pre></details>` : ''}`)}</td></tr>`)}
</tbody></table>
<h4>Events</h4>
<ul>${events.map((e) => html`<li>${e.lastTimestamp ?? e.at ?? ''} ${e.type ?? ''} ${e.reason ?? ''} ${e.object ?? e.involvedObject ?? ''}: ${e.message ?? ''}${(e.count ?? 0) > 1 ? ` (×${e.count})` : ''}</li>`)}</ul>
</div>`;
}

function step(s: StepRecord): SafeHtml {
  return html`<li class="step" data-step="${s.id}">
  <div class="step-head"><strong>${s.id}</strong> <code>${s.uses}</code> ${s.kind} ${statusBadge(s.status)} · ${s.attempts} attempt${s.attempts === 1 ? '' : 's'} · ${time(s.startedAt)}${s.endedAt ? html` → ${time(s.endedAt)}` : ''}</div>
  ${s.summary ? html`<div>${s.summary}</div>` : ''}
  ${s.reason ? html`<div class="muted">${s.reason}</div>` : ''}
  ${s.error ? html`<div class="error"><code>${s.error.code}</code> ${s.error.message}</div>` : ''}
  ${observations(s)}
  ${s.uses === 'kube.snapshot' && s.output ? snapshot(s.output) : s.output !== undefined ? html`<details><summary>Output</summary><pre tabindex="0">${json(s.output)}</pre></details>` : ''}
</li>`;
}

/** A value as JSON, so a string shows quoted and a number bare, as in the objects. */
function value(v: unknown): string {
  return JSON.stringify(v) ?? '';
}

/** The objects the plan would change, field by field (src/runs/plan-diff.ts made it by a dry run of the step). */
function planDiff(diff: PlanDiff | undefined): SafeHtml {
  if (!diff)
    return html`<p data-testid="plan-diff" class="muted">This step changes no Kubernetes object that could be read ahead of time.</p>`;
  if (diff.error) return html`<p data-testid="plan-diff" class="error">No diff: ${diff.error}</p>`;
  if (diff.objects.length === 0)
    return html`<p data-testid="plan-diff">A dry run of the step at ${time(diff.at)} would write nothing: the objects already hold what it sets.</p>`;
  return html`<div data-testid="plan-diff"><p class="muted">From a server-side dry run of the step against the live objects at ${time(diff.at)}; the step reads them again when it runs.</p>
${diff.objects.map(
  (o) => html`<h4 data-object="${o.object}">${o.object} <span class="tag">${o.change}</span></h4>
${
  o.fields.length
    ? html`<ul class="diff">${o.fields.map(
        (f) =>
          html`<li><code>${f.path}</code>: ${'before' in f ? html`<del>${value(f.before)}</del>` : html`<span class="muted">(absent)</span>`} → ${'after' in f ? html`<ins>${value(f.after)}</ins>` : html`<span class="muted">(removed)</span>`}${f.hidden ? html` <span class="muted">(a Secret's values are not shown)</span>` : ''}</li>`,
      )}${o.more ? html`<li class="muted">and ${o.more} more field${o.more === 1 ? '' : 's'}</li>` : ''}</ul>`
    : ''
}`,
)}</div>`;
}

const SOURCE: Record<string, string> = { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie', slack: 'Slack' };

/** Each page of the episode at each target, where it stands, and the person who acknowledged or resolved it. */
function deliveries(runId: string, d: { deliveries: DeliveryState[]; human: HumanMarks }): SafeHtml {
  const people = (['ack', 'takeover', 'resolve'] as const).flatMap((k) => {
    const m = d.human[k];
    if (!m || (k === 'takeover' && d.human.ack?.at === m.at)) return [];
    const did = k === 'resolve' ? 'Resolved' : k === 'takeover' ? 'Taken over' : 'Acknowledged';
    return [html`<li data-human="${k}">${did} by <strong>${m.person}</strong> in ${SOURCE[m.source] ?? m.source} at ${time(m.at)}</li>`];
  });
  const rows = [...d.deliveries].sort((a, b) => a.target.localeCompare(b.target) || a.enqueuedAt.localeCompare(b.enqueuedAt));
  return html`${people.length ? html`<ul class="human" data-testid="human-response">${people}</ul>` : ''}
${
  rows.length
    ? html`<table class="deliveries" data-testid="deliveries"><caption>Delivery to each paging target</caption>
<thead><tr><th scope="col">Target</th><th scope="col">Event</th><th scope="col">State</th><th scope="col">Since</th><th scope="col">Detail</th></tr></thead>
<tbody>${rows.map(
        (x) =>
          html`<tr data-delivery="${x.target}" data-action="${x.action}" data-state="${x.state}"><td>${x.target} <span class="muted">(${x.type})</span></td><td>${x.action} ${x.level}${x.runId && x.runId !== runId ? html` <span class="muted">from <a href="/runs/${x.runId}">${x.runId}</a></span>` : ''}</td><td class="delivery-${x.state}"><strong>${x.state}</strong>${x.attempts > 0 ? ` (attempt ${x.attempts})` : ''}</td><td>${time(x.at)}</td><td>${deliveryDetail(x)}</td></tr>`,
      )}</tbody></table>`
    : ''
}`;
}

function deliveryDetail(x: DeliveryState): SafeHtml {
  const status = x.status === undefined ? '' : `HTTP ${x.status}`;
  switch (x.state) {
    case 'queued':
      return html`waiting to be sent (queued ${time(x.enqueuedAt)})`;
    case 'sent':
      return html`${status ? `${status}: ` : ''}taken by the target`;
    case 'retrying':
      return html`next attempt at ${time(x.nextAt)}; last: ${x.error ?? status}`;
    case 'failed':
      return html`refused by the target, moved to the dead letter: ${x.error ?? status}`;
    case 'dead-lettered':
      return html`not delivered, moved to the dead letter: ${x.error ?? status}`;
  }
}

/**
 * Reverting puts back what the run recorded, as a new run, and refuses (naming them) objects someone changed since;
 * console.js shows what it restores or what refused it in the form's result.
 */
function revertForm(r: RunView): SafeHtml {
  const objects = [
    ...new Set(
      (r.state?.changes ?? []).map((c) => `${c.target.namespace ? `${c.target.namespace}/` : ''}${c.target.kind}/${c.target.name}`),
    ),
  ];
  return html`<form class="action" data-api="/v1/runs/${r.id}/revert" data-method="POST" data-result="revert" data-testid="form-revert">
  <p>Put back what this run changed (${objects.join(', ')}), as a new run. Objects someone changed since are refused and named.</p>
  <label for="reason-revert">Reason</label>
  <textarea id="reason-revert" name="reason" required minlength="3" rows="2"></textarea>
  <button type="submit" class="danger">Revert this run's changes</button>
  <div class="result" data-testid="revert-result" aria-live="polite"></div>
</form>`;
}

/** One run: header, links, the pending approval, actions, the ladder, decisions, pages and the timeline. */
export function runPage(opts: {
  run: RunView;
  role: OperatorRole;
  links: RunLinks;
  timeline: string;
  now: number;
  ladder?: Array<{ name: string; steps: Array<{ id: string; uses: string; kind: string }> }>;
  /** The pages of the run's episode and what people did to its incident (absent: no escalation configured). */
  deliveries?: { deliveries: DeliveryState[]; human: HumanMarks };
}): SafeHtml {
  const r = opts.run;
  const st = r.state;
  const final = FINAL_STATUSES.has(r.status);
  const name = alertName(r);
  const alertFilter = `{alertname="${name}"}`;
  const runbook = r.alert.annotations.runbook_url ?? r.alert.annotations.runbook;
  // The playbook's whole ladder (when it is still loaded), so steps not reached yet show too; then any rung the run
  // recorded that the playbook no longer has.
  // A finished run that changed something (not a dry run) can be put back; only approvers may.
  const revertable = final && !r.dryRun && (st?.changes.length ?? 0) > 0;
  const rungs = [
    ...new Set([
      ...(opts.ladder ?? []).map((r) => r.name),
      ...(st?.rungs ?? []).map((x) => x.name),
      ...(st?.steps ?? []).map((x) => x.rung),
    ]),
  ];
  const notReached = (rung: string) => {
    const ran = new Set((st?.steps ?? []).filter((s) => s.rung === rung).map((s) => s.id));
    return (opts.ladder?.find((r) => r.name === rung)?.steps ?? []).filter((s) => !ran.has(s.id));
  };
  return html`<h1>Run <code>${r.id}</code> ${statusBadge(r.status)}</h1>
<div data-live-region>
<dl class="header">
  <dt>Alert</dt><dd>${name} ${Object.entries(r.alert.labels)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => html`<span class="label">${k}=${v}</span> `)}</dd>
  <dt>Target</dt><dd>${r.target ? `${r.target.namespace ? `${r.target.namespace}/` : ''}${r.target.kind}/${r.target.name}` : '—'}</dd>
  <dt>Playbook</dt><dd><a href="/playbooks#pb-${r.playbook}">${r.playbook}</a>${r.dryRun ? html` <span class="tag">dry run</span>` : ''}</dd>
  <dt>Status</dt><dd data-testid="run-status">${r.status}${st?.outcome ? html` — ${st.outcome}` : ''}</dd>
  <dt>Elapsed</dt><dd>${elapsed(r.createdAt, final ? (st?.endedAt ?? r.updatedAt) : undefined, opts.now)}</dd>
  <dt>Trigger</dt><dd>${r.trigger}${r.retryOf ? html` of <a href="/runs/${r.retryOf}">${r.retryOf}</a>` : ''}</dd>
  <dt>Started by</dt><dd>${r.operator ? `${r.operator}${r.reason ? `: ${r.reason}` : ''}` : 'Alertmanager'}</dd>
  <dt>Created</dt><dd>${time(r.createdAt)}</dd>
</dl>
<p class="links">
  ${opts.links.prometheus ? html`<a href="${opts.links.prometheus}/graph?g0.expr=${encodeURIComponent(`ALERTS${alertFilter}`)}">Prometheus</a>` : ''}
  ${r.alert.generatorURL ? html`<a href="${r.alert.generatorURL}">Alert rule</a>` : ''}
  ${(opts.links.alertmanager ?? r.alert.externalURL) ? html`<a href="${opts.links.alertmanager ?? r.alert.externalURL}/#/alerts?filter=${encodeURIComponent(alertFilter)}">Alertmanager</a>` : ''}
  ${runbook ? html`<a href="${runbook}">Runbook</a>` : ''}
</p>

${
  r.status === 'awaiting_approval' && st?.approval
    ? html`<section class="approval" aria-labelledby="approval-h"><h2 id="approval-h">Waiting for approval: step ${st.approval.stepId}</h2>
<p>Until ${time(st.approval.expiresAt)}. An answer binds to this exact plan (sha256 <code>${st.approval.planHash.slice(0, 16)}</code>).</p>
<div class="plan-and-diff">
<div><h3>Plan</h3>
<pre data-testid="plan" tabindex="0">${json(st.approval.plan)}</pre></div>
<div><h3>What it changes</h3>${planDiff(st.approval.diff)}</div>
</div>
${
  roleAllows(opts.role, 'approver')
    ? html`<div class="actions">${actionForm({ action: `/v1/runs/${r.id}/approve`, label: 'Approve this plan', id: 'approve' })}${actionForm({ action: `/v1/runs/${r.id}/reject`, label: 'Reject', id: 'reject', danger: true })}</div>`
    : html`<p>Approving needs the approver role.</p>`
}
</section>`
    : ''
}

${
  roleAllows(opts.role, 'operator')
    ? html`<section aria-labelledby="actions-h"><h2 id="actions-h">Actions</h2><div class="actions">
${!final ? actionForm({ action: `/v1/runs/${r.id}/cancel`, label: 'Cancel run', id: 'cancel', danger: true }) : ''}
${final ? actionForm({ action: `/v1/runs/${r.id}/retry`, label: 'Retry (new run)', id: 'retry' }) : ''}
${revertable && roleAllows(opts.role, 'approver') ? revertForm(r) : ''}
</div></section>`
    : ''
}

<section aria-labelledby="ladder-h"><h2 id="ladder-h">Ladder</h2>
${rungs.length === 0 ? html`<p>No step has run yet, and the playbook is no longer loaded.</p>` : ''}
<ol class="rungs">${rungs.map((name) => {
    const rec = st?.rungs.find((x) => x.name === name);
    return html`<li><h3>Rung ${name} ${rec ? statusBadge(rec.outcome) : ''}</h3>${rec?.reason ? html`<p class="muted">${rec.reason}</p>` : ''}<ol class="steps">${(st?.steps ?? []).filter((s) => s.rung === name).map(step)}${notReached(name).map((s) => html`<li class="step muted" data-step="${s.id}"><strong>${s.id}</strong> <code>${s.uses}</code> ${s.kind} · not reached</li>`)}</ol></li>`;
  })}</ol>
</section>

<section aria-labelledby="decisions-h"><h2 id="decisions-h">Decisions</h2>
<table class="decisions"><thead><tr><th scope="col">At</th><th scope="col">Reason</th><th scope="col">By</th><th scope="col">Message</th></tr></thead>
<tbody>${[...r.decisions].sort((a, b) => a.at.localeCompare(b.at)).map((d) => html`<tr><td>${time(d.at)}</td><td><code>${d.reason}</code></td><td>${d.by ?? 'remediator'}</td><td>${d.message}</td></tr>`)}</tbody></table>
</section>

<section aria-labelledby="pages-h"><h2 id="pages-h">Pages</h2>
${
  st?.escalation
    ? html`<p>Escalated ${st.escalation.level ? `(${st.escalation.level}) ` : ''}at ${time(st.escalation.at)}: ${st.escalation.reason}. ${r.escalationEnqueuedAt ? html`Handed to the paging targets at ${time(r.escalationEnqueuedAt)}.` : 'Not yet handed to the paging targets.'}</p>`
    : opts.deliveries?.deliveries.length
      ? ''
      : html`<p>No page was sent for this run.</p>`
}
${opts.deliveries ? deliveries(r.id, opts.deliveries) : ''}
</section>
</div>

<section aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline (Markdown)</h2>
<button type="button" data-copy="#timeline">Copy timeline</button>
<pre id="timeline" tabindex="0">${opts.timeline}</pre>
</section>`;
}

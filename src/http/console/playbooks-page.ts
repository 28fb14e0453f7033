import { html, type SafeHtml } from './html.ts';
import { statusBadge, time } from './layout.ts';
import type { Playbook } from '../../domain/playbook.ts';
import { formatMatcher } from '../../domain/matcher.ts';
import type { RunView } from '../../store/run-record.ts';
import type { SourceProblem } from '../../schema/yaml-source.ts';
import { formatProblem } from '../../schema/yaml-source.ts';
import { roleAllows, type OperatorRole } from '../operator-roles.ts';
import type { BudgetLimits } from '../../guards/budget-policy.ts';
import { formatDuration } from '../../domain/duration.ts';

/** The budget of one target of a playbook: runs counted in the window, and the limits. */
export interface BudgetRow {
  target: string;
  used: number;
  limits: BudgetLimits;
}

/**
 * The playbooks in force: triggers, rungs and steps, params, their last runs, a manual run form (with the dry-run
 * switch) for operators; the result of the last reload; and a plan preview for labels typed in.
 */
export function playbooksPage(opts: {
  playbooks: readonly Playbook[];
  generation: number;
  problems: readonly SourceProblem[];
  lastRuns: Map<string, RunView[]>;
  budgets: Map<string, BudgetRow[]>;
  role: OperatorRole;
}): SafeHtml {
  return html`<h1>Playbooks</h1>
<section aria-labelledby="reload-h"><h2 id="reload-h">Last reload</h2>
${
  opts.problems.length === 0
    ? html`<p data-testid="reload-result">Generation ${opts.generation}: every file loaded.</p>`
    : html`<div class="error" data-testid="reload-result"><p>The last reload was refused; generation ${opts.generation} stays in force.</p><ul>${opts.problems.map((p) => html`<li><code>${formatProblem(p)}</code></li>`)}</ul></div>`
}
</section>

<section aria-labelledby="preview-h"><h2 id="preview-h">Plan preview</h2>
<form id="preview" data-preview>
  <label for="preview-labels">Alert labels, one <code>name=value</code> a line</label>
  <textarea id="preview-labels" name="labels" rows="3" placeholder="alertname=ServiceDown&#10;namespace=shop"></textarea>
  <button type="submit">Preview</button>
</form>
<div id="preview-result" aria-live="polite"></div>
</section>

${opts.playbooks.map(
  (p) => html`<section class="playbook" id="pb-${p.name}" aria-labelledby="pb-h-${p.name}">
<h2 id="pb-h-${p.name}">${p.name}${p.dryRun ? html` <span class="tag">dry run</span>` : ''}${p.mutating ? html` <span class="tag">mutating</span>` : ''}</h2>
${p.description ? html`<p>${p.description}</p>` : ''}
<p class="muted">${p.file} · priority ${p.priority}${p.owner ? ` · owner ${p.owner}` : ''}</p>
<h3>Triggers</h3>
<ul>${p.triggers.map((t) => html`<li>${t.status}: <code>${t.matchers.map(formatMatcher).join(', ')}</code></li>`)}</ul>
<h3>Rungs</h3>
<ol>${p.rungs.map((r) => html`<li>${r.name}: ${r.steps.map((s, i) => html`${i ? ' → ' : ''}<code>${s.id}</code> (${s.uses}${s.mutating ? ', mutates' : ''})`)}</li>`)}</ol>
<h3>Budget per target</h3>
${
  (opts.budgets.get(p.name) ?? []).length === 0
    ? html`<p>No target yet.</p>`
    : html`<table class="budgets"><thead><tr><th scope="col">Target</th><th scope="col">Left</th><th scope="col">Used in the window</th></tr></thead><tbody>${opts.budgets
        .get(p.name)!
        .map(
          (b) =>
            html`<tr data-budget="${b.target}"><td>${b.target}</td><td>${Math.max(0, b.limits.runs - b.used)} of ${b.limits.runs}</td><td>${b.used} in ${formatDuration(b.limits.windowMs)}</td></tr>`,
        )}</tbody></table>`
}
<h3>Last runs</h3>
${
  (opts.lastRuns.get(p.name) ?? []).length === 0
    ? html`<p>None yet.</p>`
    : html`<ul>${opts.lastRuns.get(p.name)!.map((r) => html`<li><a href="/runs/${r.id}">${r.id}</a> ${statusBadge(r.status)} ${time(r.createdAt)}</li>`)}</ul>`
}
${
  roleAllows(opts.role, 'operator')
    ? html`<details><summary>Run by hand</summary>
<form class="action" data-api="/v1/playbooks/${p.name}/runs" data-method="POST" data-manual data-testid="manual-${p.name}">
  <label for="m-reason-${p.name}">Reason</label><textarea id="m-reason-${p.name}" name="reason" required minlength="3" rows="2"></textarea>
  <label for="m-labels-${p.name}">Labels, one <code>name=value</code> a line</label><textarea id="m-labels-${p.name}" name="labels" rows="3"></textarea>
  <label for="m-params-${p.name}">Params (JSON)</label><textarea id="m-params-${p.name}" name="params" rows="3">${JSON.stringify(p.params)}</textarea>
  <label class="check"><input type="checkbox" name="dryRun" checked> Dry run (plan only, change nothing)</label>
  <button type="submit">Start run</button>
</form></details>`
    : ''
}
</section>`,
)}`;
}

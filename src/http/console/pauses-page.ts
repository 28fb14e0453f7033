import { html, type SafeHtml } from './html.ts';
import { time } from './layout.ts';
import type { PauseRecord } from '../../guards/pause-policy.ts';
import type { PauseEvent } from '../../guards/pause-registry.ts';
import { roleAllows, type OperatorRole } from '../operator-roles.ts';

function scopeText(p: PauseRecord): string {
  return p.scope === 'global' ? 'everything' : `${p.scope} ${p.value}`;
}

/** Pauses in force (the storm breaker's shown as such), a form to set one, and the latest pause events. */
export function pausesPage(opts: { pauses: PauseRecord[]; history: PauseEvent[]; role: OperatorRole }): SafeHtml {
  const admin = roleAllows(opts.role, 'admin');
  const storm = opts.pauses.find((p) => p.code === 'storm_paused');
  return html`<h1>Pauses</h1>
<div data-live-region>
<section aria-labelledby="storm-h"><h2 id="storm-h">Storm breaker</h2>
${
  storm
    ? html`<p class="error" data-testid="storm-state">Tripped at ${time(storm.since)}: ${storm.reason}. Automatic mutations are paused for ${scopeText(storm)}.</p>`
    : html`<p data-testid="storm-state">Not tripped: automatic mutations flow.</p>`
}
</section>
<section aria-labelledby="active-h"><h2 id="active-h">In force</h2>
${opts.pauses.length === 0 ? html`<p data-testid="no-pauses">No pause is in force.</p>` : ''}
<ul class="pauses">${opts.pauses.map(
    (
      p,
    ) => html`<li data-pause="${p.scope}:${p.value ?? ''}"><strong>${scopeText(p)}</strong> (${p.code === 'storm_paused' ? 'storm breaker' : `by ${p.by}`}) since ${time(p.since)}${p.until ? html` until ${time(p.until)}` : ''}: ${p.reason}
  ${
    admin
      ? html`<form class="action" data-api="/v1/pause" data-method="DELETE" data-testid="lift-${p.scope}-${p.value ?? ''}">
    <input type="hidden" name="scope" value="${p.scope}">${p.value ? html`<input type="hidden" name="value" value="${p.value}">` : ''}
    <label for="lift-${p.scope}-${p.value ?? ''}">Reason</label><textarea id="lift-${p.scope}-${p.value ?? ''}" name="reason" required minlength="3" rows="1"></textarea>
    <button type="submit">${p.code === 'storm_paused' ? 'Resume (lift the storm breaker)' : 'Resume'}</button></form>`
      : ''
  }</li>`,
  )}</ul>
</section>
</div>
${
  admin
    ? html`<section aria-labelledby="set-h"><h2 id="set-h">Pause automatic mutations</h2>
<form class="action" data-api="/v1/pause" data-method="POST" data-testid="form-pause">
  <label for="pause-scope">Scope</label><select id="pause-scope" name="scope"><option value="global">everything</option><option value="namespace">a namespace</option><option value="playbook">a playbook</option></select>
  <label for="pause-value">Namespace or playbook (not for everything)</label><input id="pause-value" name="value">
  <label for="pause-reason">Reason</label><textarea id="pause-reason" name="reason" required minlength="3" rows="2"></textarea>
  <button type="submit">Pause</button>
</form></section>`
    : html`<p>Setting and lifting pauses needs the admin role.</p>`
}
<section aria-labelledby="hist-h"><h2 id="hist-h">Latest events</h2>
<table><thead><tr><th scope="col">At</th><th scope="col">Event</th><th scope="col">Scope</th><th scope="col">By</th><th scope="col">Reason</th></tr></thead>
<tbody>${opts.history.map((e) => html`<tr><td>${time(e.at)}</td><td>${e.event}</td><td>${scopeText(e.pause)}</td><td>${e.by}</td><td>${e.reason}</td></tr>`)}</tbody></table>
</section>`;
}

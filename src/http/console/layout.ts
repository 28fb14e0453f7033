import { html, type SafeHtml } from './html.ts';
import type { OperatorRole } from '../operator-roles.ts';

export interface Viewer {
  name: string;
  role: OperatorRole;
  via: 'session' | 'proxy' | 'token';
  /** The CSRF token the page's scripts send with state-changing requests. */
  csrf: string;
}

const NAV: Array<[string, string]> = [
  ['/', 'Runs'],
  ['/playbooks', 'Playbooks'],
  ['/pauses', 'Pauses'],
];

/**
 * The page shell: a skip link, the navigation, who is signed in, and `main`. The page's script (an ES module under
 * /console/assets/) reads `data-*` attributes of `main`; the CSRF token travels in a meta tag, never a cookie
 * readable by scripts.
 */
export function layout(opts: { title: string; viewer?: Viewer; current?: string; body: SafeHtml; live?: string }): string {
  const v = opts.viewer;
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · remediator</title>
${v ? html`<meta name="csrf-token" content="${v.csrf}">` : ''}
<link rel="stylesheet" href="/console/assets/console.css">
<script type="module" src="/console/assets/console.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">remediator</span>
  ${
    v
      ? html`<nav aria-label="Sections"><ul>${NAV.map(([href, label]) => html`<li><a href="${href}"${opts.current === href ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul></nav>
  <div class="who"><span data-testid="signed-in-as">${v.name}</span> <span class="role">(${v.role})</span>
  ${v.via === 'session' ? html`<form method="post" action="/sign-out" class="inline" data-csrf-form><input type="hidden" name="_csrf" value="${v.csrf}"><button type="submit">Sign out</button></form>` : ''}</div>`
      : ''
  }
</header>
<main id="main" ${opts.live ? html`data-live="${opts.live}"` : ''}>
${opts.body}
</main>
<div id="toast" role="status" aria-live="polite"></div>
</body>
</html>`}`;
}

export function statusBadge(status: string): SafeHtml {
  return html`<span class="badge status-${status}" data-status="${status}">${status.replace('_', ' ')}</span>`;
}

export function time(iso: string | undefined): SafeHtml {
  if (!iso) return html`—`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function elapsed(fromIso: string, toIso?: string, now = Date.now()): string {
  const ms = Math.max(0, (toIso ? Date.parse(toIso) : now) - Date.parse(fromIso));
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

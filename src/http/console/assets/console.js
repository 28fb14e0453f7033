// The console's one script: live updates (Server-Sent Events), actions sent to the JSON API with the CSRF token,
// the copy button and the plan preview. Plain ES module, no build step. Data from the server is put into the page
// as text (textContent), never as markup, except the server-rendered HTML of this receiver's own pages.

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
const main = document.querySelector('main');

function toast(text) {
  const t = document.getElementById('toast');
  if (t) t.textContent = text;
}

function editing() {
  if (!main) return false;
  const a = document.activeElement;
  if (a && main.contains(a) && ['INPUT', 'TEXTAREA', 'SELECT'].includes(a.tagName) && a.closest('form.action, [data-preview]')) return true;
  return [...main.querySelectorAll('form.action textarea, [data-preview] textarea')].some(
    (x) => x.value.trim() !== '' && x.defaultValue !== x.value,
  );
}

let timer = 0;
let inFlight = false;
/** The result of a revert, kept across live refreshes of the page it was asked on. */
let keptResult = null;
/** Re-reads this page and swaps its main content in, unless someone is typing in it (then it waits). */
function refresh(delay = 250) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (inFlight) return refresh(500);
    if (editing()) return refresh(1000);
    inFlight = true;
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (res.redirected && new URL(res.url).pathname === '/sign-in') return location.assign(res.url);
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const next = doc.querySelector('main');
      if (next && main && !editing()) {
        main.innerHTML = next.innerHTML;
        if (keptResult) main.querySelector('[data-testid="revert-result"]')?.replaceWith(keptResult);
        wire(main);
        main.dispatchEvent(new CustomEvent('console:refreshed', { bubbles: true }));
      }
    } finally {
      inFlight = false;
    }
  }, delay);
}

function live() {
  const what = main?.dataset.live;
  if (!what || typeof EventSource === 'undefined') return;
  const source = new EventSource('/console/events');
  source.addEventListener('open', () => document.body.setAttribute('data-live-connected', 'true'));
  source.addEventListener('run', (e) => {
    const ev = JSON.parse(e.data);
    if (what === 'runs' || what === `run:${ev.id}`) refresh();
  });
}

function labelsFrom(text) {
  const labels = {};
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    const i = l.indexOf('=');
    if (!l || l.startsWith('#') || i <= 0) continue;
    labels[l.slice(0, i).trim()] = l.slice(i + 1).trim();
  }
  return labels;
}

function problem(form, text) {
  let p = form.querySelector('.problem');
  if (!p) {
    p = document.createElement('p');
    p.className = 'problem error';
    p.setAttribute('role', 'alert');
    form.append(p);
  }
  p.textContent = text;
}

async function submitAction(form) {
  const data = new FormData(form);
  const body = {};
  for (const [k, v] of data.entries()) {
    if (k === 'dryRun') continue;
    if (typeof v === 'string' && v.trim() !== '') body[k] = v.trim();
  }
  if (form.hasAttribute('data-manual')) {
    body.labels = labelsFrom(String(data.get('labels') ?? ''));
    body.dryRun = data.get('dryRun') === 'on';
    try {
      body.params = body.params ? JSON.parse(body.params) : undefined;
    } catch {
      return problem(form, 'Params must be JSON, e.g. {"replicas": 3}.');
    }
  }
  const button = form.querySelector('button[type="submit"]');
  if (button) button.disabled = true;
  try {
    const res = await fetch(form.dataset.api, {
      method: form.dataset.method || 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    if (form.dataset.result === 'revert') return revertResult(form, res.ok, answer);
    if (!res.ok) return problem(form, `${answer.code ?? res.status}: ${answer.message ?? res.statusText}`);
    form.reset();
    for (const t of form.querySelectorAll('textarea')) t.value = '';
    toast('Done.');
    // A new run (manual start, retry) opens its own page; anything else shows its effect here.
    if (answer.id && answer.id !== main?.dataset.live?.slice(4) && /\/(runs|retry)$/.test(form.dataset.api))
      return location.assign(`/runs/${answer.id}`);
    refresh(0);
  } catch (err) {
    problem(form, `The request failed: ${err.message}`);
  } finally {
    if (button) button.disabled = false;
  }
}

function item(text) {
  const li = document.createElement('li');
  li.textContent = text;
  return li;
}

function show(v) {
  return v === null || v === undefined ? '(absent)' : JSON.stringify(v);
}

/** A revert's answer: the revert run and what it restores, or the objects that refused it, named. */
function revertResult(form, ok, answer) {
  const out = form.querySelector('[data-testid="revert-result"]');
  if (!out) return;
  out.replaceChildren();
  keptResult = out;
  if (!ok) {
    const p = document.createElement('p');
    p.className = 'error';
    p.setAttribute('role', 'alert');
    p.textContent = `${answer.code ?? 'error'}: ${answer.message ?? 'the revert was refused'}`;
    out.append(p);
    const conflicts = answer.details?.conflicts ?? [];
    if (conflicts.length) {
      const ul = document.createElement('ul');
      ul.setAttribute('data-testid', 'revert-refused');
      for (const c of conflicts) ul.append(item(`${c.target}: ${(c.why ?? []).join('; ')}`));
      out.append(ul);
    }
    return;
  }
  for (const t of form.querySelectorAll('textarea')) t.value = '';
  const p = document.createElement('p');
  const a = document.createElement('a');
  a.href = `/runs/${answer.run.id}`;
  a.textContent = answer.run.id;
  p.append('Reverting as run ', a, '. It restores:');
  const ul = document.createElement('ul');
  ul.setAttribute('data-testid', 'revert-restores');
  for (const t of answer.plan?.plan?.targets ?? []) {
    const where = `${t.target.namespace ? `${t.target.namespace}/` : ''}${t.target.kind}/${t.target.name}`;
    for (const f of t.revert ?? []) ul.append(item(`${where} ${f.field}: ${show(f.now)} → ${show(f.to)}`));
  }
  out.append(p, ul);
  toast('Revert started.');
}

function renderPreview(target, preview) {
  target.replaceChildren();
  if (preview.playbooks.length === 0) {
    const p = document.createElement('p');
    p.textContent = 'No playbook takes a firing alert with these labels.';
    target.append(p);
    return;
  }
  for (const pb of preview.playbooks) {
    const h = document.createElement('h3');
    h.textContent = `${pb.name}${pb.dryRun ? ' (dry run)' : ''}`;
    const t = document.createElement('p');
    t.textContent = pb.target
      ? `Target: ${pb.target.namespace ? `${pb.target.namespace}/` : ''}${pb.target.kind}/${pb.target.name}`
      : 'No target.';
    const pre = document.createElement('pre');
    pre.textContent = pb.rungs
      .map(
        (r) =>
          `rung ${r.name}\n${r.steps.map((s) => `  ${s.id} (${s.uses}${s.mutating ? ', mutates' : ''}): ${s.unresolved ? `needs ${s.unresolved}` : JSON.stringify(s.with)}`).join('\n')}`,
      )
      .join('\n');
    target.append(h, t, pre);
  }
}

function wire(root) {
  for (const form of root.querySelectorAll('form.action')) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitAction(form);
    });
  }
  for (const b of root.querySelectorAll('[data-copy]')) {
    b.addEventListener('click', async () => {
      const text = document.querySelector(b.dataset.copy)?.textContent ?? '';
      try {
        await navigator.clipboard.writeText(text);
        toast('Timeline copied.');
      } catch {
        toast('Copying is not allowed here; select the text instead.');
      }
    });
  }
  const preview = root.querySelector('[data-preview]');
  if (preview) {
    preview.addEventListener('submit', async (e) => {
      e.preventDefault();
      const labels = new FormData(preview).get('labels') ?? '';
      const res = await fetch(`/console/preview?labels=${encodeURIComponent(String(labels))}`, { credentials: 'same-origin' });
      const out = document.getElementById('preview-result');
      if (out) renderPreview(out, await res.json());
    });
  }
}

wire(document);
live();

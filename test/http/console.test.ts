import t, { type Test } from 'tap';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestService, serviceDownPlaybook, fixture, OPERATOR_TOKEN, APPROVER_TOKEN } from '../support/harness.ts';
import { startWebhookSink } from '../../src/dev/webhook-sink.ts';

// The console in a real browser (Debian's chromium, driven by playwright-core) against a real receiver and worker on
// a real redis-server. Each page's screenshot is saved under test-output/console/ (git-ignored).
const SHOTS = new URL('../../test-output/console/', import.meta.url);
await mkdir(SHOTS, { recursive: true });
const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const sink = await startWebhookSink();
t.teardown(() => sink.close());

const approvalPlaybook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: needs-approval, description: a step an approver must let through }
spec:
  triggers: [{ matchers: ['alertname="NeverFires"'] }]
  params: { note: default }
  steps:
    - id: risky
      action: log
      with: { message: "risky {{ params.note }}" }
      approval: { timeout: 10m }
    - id: after
      action: log
      with: { message: "after the approved step" }
`;
// Verified: its gate polls the sink, which answers 202, so a run of it ends `succeeded`.
const verifiedPlaybook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: service-down-verified }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - id: note
      action: log
      with: { message: "{{ labels.service }} is down" }
    - id: health
      gate: http.check
      with: { url: "{{ annotations.health_url }}" }
      interval: 200ms
      successes: 2
      timeout: 20s
`;
const svc = await startTestService({
  playbooks: {
    'approval.yaml': approvalPlaybook,
    'verified.yaml': verifiedPlaybook,
    'slow.yaml': serviceDownPlaybook({
      name: 'slow-manual',
      extra: `    - id: long\n      action: wait\n      with: { duration: 5m }\n`,
    }).replace('alertname="ServiceDown"', 'alertname="NeverFires"'),
  },
  overrides: (c) => {
    c.console = { proxy: { trustedAddresses: ['127.0.0.1'], people: [{ user: 'carol', role: 'viewer' }] } };
  },
});

const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
t.teardown(() => browser.close());

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
}

/** axe-core in the page: no serious or critical violation. */
async function accessible(t: Test, page: Page, what: string): Promise<void> {
  await page.addScriptTag({ content: AXE });
  const violations = (await page.evaluate(
    async () => (await (globalThis as any).axe.run((globalThis as any).document)).violations,
  )) as Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }>;
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  t.same(bad, [], `${what}: no serious or critical accessibility violation`);
}

async function signIn(token: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${svc.url}/`);
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').waitFor();
  return { context, page };
}

async function act(page: Page, form: string, reason: string): Promise<void> {
  const f = page.getByTestId(form);
  await f.getByLabel('Reason').fill(reason);
  await f.getByRole('button').click();
}

const alice = await signIn(OPERATOR_TOKEN); // admin
const bob = await signIn(APPROVER_TOKEN); // approver: the second pair of eyes
t.teardown(async () => {
  await alice.context.close();
  await bob.context.close();
});

t.test('nothing is shown before sign-in; a token is exchanged for an HttpOnly, SameSite=Strict cookie', async (t) => {
  const context = await browser.newContext({ bypassCSP: true });
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${svc.url}/playbooks`);
  t.equal(new URL(page.url()).pathname, '/sign-in', 'a page asked for without a session shows the sign-in form');
  t.notMatch(await page.content(), /needs-approval/, 'no playbook, run or name is on it');
  await shot(page, 'sign-in');
  await accessible(t, page, 'sign-in');
  await page.getByLabel('Operator token').fill('not-a-token-anyone-has-000000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  t.match(await page.getByTestId('sign-in-error').textContent(), /not accepted/);
  await page.getByLabel('Operator token').fill(OPERATOR_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Playbooks' }).waitFor();
  t.equal(new URL(page.url()).pathname, '/playbooks', 'back to the page first asked for');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'remediator_session');
  t.ok(session?.httpOnly, 'HttpOnly');
  t.equal(session?.sameSite, 'Strict');
  t.notMatch(JSON.stringify(cookies), new RegExp(OPERATOR_TOKEN), 'the token is not in any cookie');

  // The session reads the JSON API; a state-changing request with it also needs the page's CSRF token.
  t.equal((await context.request.get(`${svc.url}/v1/pause`)).status(), 200);
  const forged = await context.request.post(`${svc.url}/v1/pause`, { data: { scope: 'global', reason: 'forged' } });
  t.equal(forged.status(), 403);
  t.equal((await forged.json()).code, 'REM_ERR_CSRF');
  t.equal((await fetch(`${svc.url}/v1/runs`)).status, 401, 'the JSON API still wants a bearer token from everyone else');
  t.equal((await svc.api('GET', '/v1/runs')).status, 200, 'and takes it');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/sign-in$/);
  t.equal((await context.request.get(`${svc.url}/v1/pause`)).status(), 401, 'signed out: the old cookie opens nothing');
});

t.test('a sign-in form posted from another site is refused', async (t) => {
  const res = await fetch(`${svc.url}/sign-in`, {
    method: 'POST',
    headers: { origin: 'https://elsewhere.example', 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${OPERATOR_TOKEN}`,
    redirect: 'manual',
  });
  t.equal(res.status, 403);
  t.equal(((await res.json()) as { code: string }).code, 'REM_ERR_CSRF');
  t.notOk(res.headers.get('set-cookie'), 'and no session is made');
});

t.test('a trusted proxy signs people in by header; unlisted people are refused, viewers offered no action', async (t) => {
  const asCarol = await fetch(`${svc.url}/`, { headers: { 'x-forwarded-user': 'carol' }, redirect: 'manual' });
  t.equal(asCarol.status, 200);
  t.match(await asCarol.text(), /data-testid="signed-in-as">carol</);
  const stranger = await fetch(`${svc.url}/`, { headers: { 'x-forwarded-user': 'mallory' }, redirect: 'manual' });
  t.equal(stranger.status, 403);
  const carolActs = await fetch(`${svc.url}/v1/pause`, {
    method: 'POST',
    headers: { 'x-forwarded-user': 'carol', 'content-type': 'application/json' },
    body: '{"scope":"global","reason":"viewer"}',
  });
  t.equal(carolActs.status, 403, 'a viewer cannot act, and no CSRF token was sent either');
  const pausesPage = await (await fetch(`${svc.url}/pauses`, { headers: { 'x-forwarded-user': 'carol' } })).text();
  t.notMatch(pausesPage, /data-api=/, 'a viewer is offered no action');
  t.match(pausesPage, /needs the admin role/);
  const untrusted = await svc.service.app!.inject({
    method: 'GET',
    url: '/',
    remoteAddress: '192.0.2.7',
    headers: { 'x-forwarded-user': 'carol' },
  });
  t.equal(untrusted.statusCode, 303, 'the same header from an address that is not the proxy is ignored: sign in first');
});

t.test('a run appears in the list and reaches succeeded live, without a reload', async (t) => {
  const { page } = alice;
  await page.goto(`${svc.url}/`);
  await page.locator('body[data-live-connected="true"]').waitFor();
  await accessible(t, page, 'runs list');
  const firing = await fixture('alertmanager/firing.json');
  firing.alerts[0].annotations.health_url = `${sink.url}/health`;
  firing.alerts[0].fingerprint = 'c0ffee0000000001';
  t.equal((await svc.post(firing)).status, 202);
  const row = page.locator('tr[data-run]').filter({ hasText: 'service-down-verified' });
  await row.waitFor();
  await row.locator('[data-status="succeeded"]').waitFor({ timeout: 20_000 });
  t.ok(await row.isVisible(), 'the row shows succeeded');
  // The counts are fetched again after the row's update, not with it: wait for them as a person would look again.
  const succeeded = page.locator('[data-count="succeeded"]');
  await succeeded.filter({ hasText: /^1$/ }).waitFor({ timeout: 20_000 });
  t.equal(await succeeded.textContent(), '1', 'the counts follow');
  await shot(page, 'runs');

  await row.getByRole('link').click();
  await page.getByTestId('run-status').waitFor();
  t.match(await page.getByTestId('run-status').textContent(), /succeeded/);
  t.match(await page.locator('table.obs').first().textContent(), /pass/, 'the gate observations are shown');
  t.match(await page.locator('#timeline').textContent(), /ServiceDown/, 'the Markdown timeline');
  t.ok(await page.getByRole('link', { name: 'Runbook' }).isVisible());
  await shot(page, 'run-succeeded');
  await accessible(t, page, 'run page');
});

t.test('another receiver replica on the same Redis: the same sign-in, and live updates of runs the first one took', async (t) => {
  const replica = await startTestService({
    playbooks: { 'approval.yaml': approvalPlaybook, 'verified.yaml': verifiedPlaybook },
    redis: svc.redis,
    role: 'receiver',
    overrides: (c) => {
      c.redis.prefix = svc.config.redis.prefix;
    },
  });
  const { page } = bob; // signed in through the first receiver (cookies are per host, not per port)
  await page.goto(`${replica.url}/?playbook=service-down-verified`);
  t.equal(new URL(page.url()).pathname, '/', 'the session made by the first replica is good on this one');
  await page.locator('body[data-live-connected="true"]').waitFor();
  const before = await page.locator('tr[data-run]').count();
  const firing = await fixture('alertmanager/firing.json');
  firing.alerts[0].annotations.health_url = `${sink.url}/health`;
  firing.alerts[0].fingerprint = 'c0ffee0000000002';
  t.equal((await svc.post(firing)).status, 202, 'the alert goes to the first replica');
  await page.locator('tr[data-run]').nth(before).waitFor();
  await page.locator('tr[data-run]').first().locator('[data-status="succeeded"]').waitFor({ timeout: 20_000 });
  t.equal(await page.locator('tr[data-run]').count(), before + 1, 'the new run appeared on the other replica without a reload');
});

t.test('an approver approves a waiting step on its page, and the run continues', async (t) => {
  const started = await svc.api('POST', '/v1/playbooks/needs-approval/runs', { reason: 'console approval', params: { note: 'one' } });
  await svc.waitForRun(started.body.id, (r) => r.status === 'awaiting_approval');
  const { page } = bob;
  await page.goto(`${svc.url}/runs/${started.body.id}`);
  t.match(await page.getByTestId('plan').textContent(), /risky one/, 'the exact plan is shown');
  t.match(await page.locator('li.step[data-step="after"]').textContent(), /not reached/, 'the ladder shows the steps still ahead');
  await shot(page, 'run-awaiting-approval');
  await accessible(t, page, 'approval');
  await act(page, 'form-approve', 'looks right');
  await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor();
  const run = await svc.waitForRun(started.body.id, (r) => r.status === 'completed');
  t.ok(
    run.decisions.some((d: any) => d.reason === 'approved' && d.by === 'bob' && /looks right/.test(d.message)),
    'recorded with the person and reason',
  );
  t.match(await page.locator('table.decisions').textContent(), /approved/);
});

t.test('an approver rejects a waiting step', async (t) => {
  const started = await svc.api('POST', '/v1/playbooks/needs-approval/runs', { reason: 'console reject' });
  await svc.waitForRun(started.body.id, (r) => r.status === 'awaiting_approval');
  const { page } = bob;
  await page.goto(`${svc.url}/runs/${started.body.id}`);
  await act(page, 'form-reject', 'not during the sale');
  await page.getByTestId('run-status').filter({ hasText: 'skipped' }).waitFor();
  const run = await svc.waitForRun(started.body.id, (r) => r.status === 'skipped');
  t.ok(run.decisions.some((d: any) => d.reason === 'rejected' && d.by === 'bob'));
});

t.test('self-approval is refused on the page with the catalog code', async (t) => {
  const started = await svc.api('POST', '/v1/playbooks/needs-approval/runs', { reason: 'mine' });
  await svc.waitForRun(started.body.id, (r) => r.status === 'awaiting_approval');
  const { page } = alice;
  await page.goto(`${svc.url}/runs/${started.body.id}`);
  await act(page, 'form-approve', 'my own');
  t.match(await page.getByTestId('form-approve').getByRole('alert').textContent(), /REM_ERR_SELF_APPROVAL/);
  await svc.api('POST', `/v1/runs/${started.body.id}/cancel`, { reason: 'cleanup' });
});

t.test('an operator cancels a running run', async (t) => {
  const started = await svc.api(
    'POST',
    '/v1/playbooks/slow-manual/runs',
    { reason: 'will cancel', labels: { namespace: 'shop', deployment: 'cart', service: 'cart' } },
    APPROVER_TOKEN,
  );
  await svc.waitForRun(started.body.id, (r) => r.status === 'waiting');
  const { page } = alice;
  await page.goto(`${svc.url}/runs/${started.body.id}`);
  await act(page, 'form-cancel', 'fixed by hand');
  await page.getByTestId('run-status').filter({ hasText: 'cancelled' }).waitFor();
  t.match(await page.getByTestId('run-status').textContent(), /cancelled by alice: fixed by hand/);
  await shot(page, 'run-cancelled');

  // An ended run can be retried: a new run of the same playbook for the same alert, opened at once.
  await act(page, 'form-retry', 'try once more');
  await page.waitForURL((u) => u.pathname.startsWith('/runs/') && !u.pathname.endsWith(started.body.id));
  const retry = await svc.waitForRun(page.url().split('/runs/')[1]!, (r) => r.status === 'waiting');
  t.equal(retry.retryOf, started.body.id);
  t.equal(retry.operator, 'alice');
  await svc.api('POST', `/v1/runs/${retry.id}/cancel`, { reason: 'cleanup' });
});

t.test('a refused reload is shown with its file, line and column', async (t) => {
  const broken = join(svc.playbookDir, 'broken.yaml');
  await writeFile(
    broken,
    'apiVersion: remediator.io/v1\nkind: Playbook\nmetadata: { name: broken }\nspec:\n  steps: [{ id: x, action: no.such.action }]\n',
  );
  t.teardown(async () => {
    await rm(broken, { force: true });
    await svc.api('POST', '/v1/reload');
  });
  await svc.api('POST', '/v1/reload');
  const { page } = alice;
  await page.goto(`${svc.url}/playbooks`);
  t.match(await page.getByTestId('reload-result').textContent(), /refused[\s\S]*broken\.yaml:\d+:\d+: /);
  t.ok(await page.locator('#pb-needs-approval').isVisible(), 'the playbooks in force are still shown');
});

t.test('a manual dry run from the playbooks page', async (t) => {
  const { page } = alice;
  await page.goto(`${svc.url}/playbooks`);
  await page.getByLabel(/Alert labels/).fill('alertname=ServiceDown\nnamespace=shop\ndeployment=cart\nservice=cart');
  await page.getByRole('button', { name: 'Preview' }).click();
  t.match(
    await page
      .locator('#preview-result')
      .textContent({ timeout: 5000 })
      .then(async () => page.locator('#preview-result h3').first().textContent()),
    /service-down-verified/,
    'the preview names the playbook that takes the alert',
  );
  t.match(await page.locator('#preview-result').textContent(), /shop\/Deployment\/cart/);
  t.match(
    await page.locator('#pb-service-down-verified tr[data-budget="ai-ninja/Deployment/phone-gateway"]').textContent(),
    /3 of 3/,
    'the budget left on a target it ran on (its steps change nothing, so nothing is used)',
  );
  await shot(page, 'playbooks');
  await accessible(t, page, 'playbooks');
  const form = page.getByTestId('manual-slow-manual');
  await page.locator('#pb-slow-manual summary').click();
  await form.getByLabel('Reason').fill('rehearsal');
  await form.getByLabel(/Labels/).fill('namespace=shop\ndeployment=cart\nservice=cart');
  t.ok(await form.getByLabel(/Dry run/).isChecked(), 'dry run is the default');
  await form.getByRole('button', { name: 'Start run' }).click();
  await page.waitForURL(/\/runs\/run-/);
  const id = page.url().split('/runs/')[1]!;
  const run = await svc.waitForRun(id, (r) => r.status === 'waiting');
  t.equal(run.dryRun, true);
  t.equal(run.operator, 'alice');
  t.match(await page.locator('h1').textContent(), /run-/);
  t.ok(await page.locator('.tag', { hasText: 'dry run' }).first().isVisible());
  await svc.api('POST', `/v1/runs/${id}/cancel`, { reason: 'cleanup' });
});

t.test('pause and resume, recorded with the person', async (t) => {
  const { page } = alice;
  await page.goto(`${svc.url}/pauses`);
  await page.getByTestId('no-pauses').waitFor();
  await page.getByLabel('Scope').selectOption('namespace');
  await page.getByLabel(/Namespace or playbook/).fill('shop');
  await act(page, 'form-pause', 'database migration');
  const lift = page.getByTestId('lift-namespace-shop');
  await lift.waitFor();
  t.match(await page.locator('li[data-pause="namespace:shop"]').textContent(), /by alice.*database migration/s);
  t.equal((await svc.api('GET', '/v1/pause')).body.pauses[0].by, 'alice');
  await shot(page, 'pauses');
  await accessible(t, page, 'pauses');
  await act(page, 'lift-namespace-shop', 'migration done');
  await page.getByTestId('no-pauses').waitFor();
  const history = (await svc.api('GET', '/v1/pause')).body.history;
  t.equal(history[0].event, 'lifted');
  t.equal(history[0].by, 'alice');
});

// The storm breaker tripped by real alerts, and resumed here, is in console-cluster.test.ts (it needs a cluster).

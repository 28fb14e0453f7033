import t, { type Test } from 'tap';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startGuardedService } from '../guards/guard-harness.ts';
import { APPROVER_TOKEN, OPERATOR_TOKEN } from '../support/harness.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';
import { addDeployment } from '../../src/sim/index.ts';

// The console's pages that need a cluster and paging targets, in a real browser (Debian's chromium through
// playwright-core) against a real receiver and worker on a real redis-server, kube-sim driven through client-node, and
// stand-ins for PagerDuty, Opsgenie, Slack and a webhook consumer that check what they get. Screenshots go under
// test-output/console/ (git-ignored).
const SHOTS = new URL('../../test-output/console/', import.meta.url);
await mkdir(SHOTS, { recursive: true });
const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const ns = 'ai-ninja';
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const pdSigningSecret = `pdsec-${randomBytes(16).toString('hex')}`;
const rx = await pagingReceivers(secrets);

const changes = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: approve-changes, description: a restart and a scale an approver must let through }
spec:
  triggers: [{ matchers: ['alertname="NeverFires"'] }]
  target: { namespace: ${ns}, kind: Deployment, name: phone-gateway }
  steps:
    - id: restart
      action: kube.rolloutRestart
      with: { namespace: ${ns}, name: phone-gateway }
      approval: { timeout: 10m }
    - id: scale
      action: kube.scale
      with: { namespace: ${ns}, name: phone-gateway, replicas: 4 }
      approval: { timeout: 10m }
    - id: degrade
      action: kube.patchConfigMap
      with: { namespace: ${ns}, name: app-config, set: { DEGRADED_MODE: "true" } }
`;
const degrade = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: degrade }
spec:
  triggers: [{ matchers: ['alertname="NeverFires"'] }]
  target: { namespace: ${ns}, kind: ConfigMap, name: app-config }
  steps:
    - id: degrade
      action: kube.patchConfigMap
      with: { namespace: ${ns}, name: app-config, set: { DEGRADED_MODE: "true" } }
`;
const page = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: page-everyone }
spec:
  triggers: [{ matchers: ['alertname="NeverFires"'] }]
  steps:
    - id: page
      action: escalate
      with: { level: P1, targets: [pd, og, slack, hook], summary: "phone-gateway is down; paging everyone" }
`;
const restart = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: restart }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - id: restart
      action: kube.rolloutRestart
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
`;
const STORM_TARGETS = 2;
const OPERATOR_ONLY_TOKEN = 'test-operator-only-token-0123456789';
const svc = await startGuardedService({
  playbooks: { 'changes.yaml': changes, 'degrade.yaml': degrade, 'page.yaml': page, 'restart.yaml': restart },
  guards: { storm: { targets: STORM_TARGETS, window: '10m' } },
  overrides: (c) => {
    c.auth.operators.push({ name: 'oscar', token: OPERATOR_ONLY_TOKEN, role: 'operator' });
    c.escalation = {
      targets: {
        pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url },
        og: { type: 'opsgenie', apiKey: secrets.apiKey, url: rx.opsgenie.url },
        slack: { type: 'slack', webhookUrl: rx.slack.url },
        hook: { type: 'webhook', url: rx.webhook.url, secret: secrets.webhookSecret },
      },
      delivery: { attempts: 3, backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
      inbound: { onHumanAck: 'stop', pagerduty: { secrets: [pdSigningSecret] } },
    };
  },
});
await svc.sim.settle();

const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
t.teardown(() => browser.close());

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
}

async function accessible(t: Test, p: Page, what: string): Promise<void> {
  await p.addScriptTag({ content: AXE });
  const violations = (await p.evaluate(async () => (await (globalThis as any).axe.run((globalThis as any).document)).violations)) as Array<{
    id: string;
    impact: string;
    nodes: Array<{ target: string[] }>;
  }>;
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  t.same(bad, [], `${what}: no serious or critical accessibility violation`);
}

async function signIn(token: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const p = await context.newPage();
  await p.goto(`${svc.url}/`);
  await p.getByLabel('Operator token').fill(token);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByTestId('signed-in-as').waitFor();
  return { context, page: p };
}

async function act(p: Page, form: string, reason: string): Promise<void> {
  const f = p.getByTestId(form);
  await f.getByLabel('Reason').fill(reason);
  await f.getByRole('button').click();
}

const alice = await signIn(OPERATOR_TOKEN); // admin
const bob = await signIn(APPROVER_TOKEN); // approver
t.teardown(async () => {
  await alice.context.close();
  await bob.context.close();
});

const deployment = () => svc.sim.get('Deployment', ns, 'phone-gateway');
const degraded = () => svc.sim.get('ConfigMap', ns, 'app-config').data.DEGRADED_MODE;
let changedRun = '';

t.test("an approval shows the plan's diff of the objects, worked out by a server-side dry run", async (t) => {
  const replicasBefore = deployment().spec.replicas;
  const cmBefore = degraded();
  const started = await svc.api('POST', '/v1/playbooks/approve-changes/runs', { reason: 'console diff', dryRun: false });
  t.equal(started.status, 202, JSON.stringify(started.body));
  changedRun = started.body.id;
  await svc.waitForRun(changedRun, (r) => r.status === 'awaiting_approval');
  t.notOk(deployment().spec.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], 'the dry run wrote nothing');

  const { page: p } = bob;
  await p.goto(`${svc.url}/runs/${changedRun}`);
  const diff = p.getByTestId('plan-diff');
  t.match(await diff.locator('h4').first().textContent(), /ai-ninja\/Deployment\/phone-gateway\s+modified/);
  t.match(
    await diff.textContent(),
    /spec\.template\.metadata\.annotations\["kubectl\.kubernetes\.io\/restartedAt"\]: \(absent\) → "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/,
    'the restart sets the pod template annotation',
  );
  t.match(await p.getByTestId('plan').textContent(), /kube\.rolloutRestart/, 'beside the exact plan');
  t.match(await p.locator('.approval').textContent(), /sha256 [0-9a-f]{16}/, 'the answer still binds to the plan hash');
  await shot(p, 'run-approval-diff');
  await accessible(t, p, 'approval with diff');
  await act(p, 'form-approve', 'restart is fine');

  // The next plan waits: the scale, whose diff is the Scale subresource's replicas.
  await p.getByTestId('plan').filter({ hasText: 'kube.scale' }).waitFor({ timeout: 15_000 });
  t.match(
    await p.getByTestId('plan-diff').textContent(),
    new RegExp(`ai-ninja/Deployment/phone-gateway \\(scale\\)[\\s\\S]*spec\\.replicas: ${replicasBefore} → 4`),
  );
  t.equal(deployment().spec.replicas, replicasBefore, 'not scaled before the approval');
  t.ok(deployment().spec.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], 'the approved restart ran');
  await act(p, 'form-approve', 'scale is fine');
  await p.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: 15_000 });
  t.equal(deployment().spec.replicas, 4);
  t.equal(degraded(), 'true');
  t.not(cmBefore, 'true', 'the ConfigMap was changed by the run');
});

t.test('an approver reverts a finished run from its page and sees what it restores', async (t) => {
  const { page: p } = bob;
  await p.goto(`${svc.url}/runs/${changedRun}`);
  const form = p.getByTestId('form-revert');
  t.match(
    await form.textContent(),
    /ai-ninja\/Deployment\/phone-gateway.*ai-ninja\/ConfigMap\/app-config|ai-ninja\/ConfigMap\/app-config.*ai-ninja\/Deployment\/phone-gateway/s,
  );
  await act(p, 'form-revert', 'the incident is over');
  const restores = p.getByTestId('revert-restores');
  await restores.waitFor();
  const lines = (await restores.locator('li').allTextContents()).sort();
  t.same(lines, [
    'ai-ninja/ConfigMap/app-config data/DEGRADED_MODE: "true" → "false"',
    'ai-ninja/Deployment/phone-gateway replicas: 4 → 2',
  ]);
  await shot(p, 'run-reverted');
  const revertId = await p.getByTestId('revert-result').getByRole('link').textContent();
  const done = await svc.ended(revertId!);
  t.equal(done.status, 'completed');
  t.equal(deployment().spec.replicas, 2, 'the replicas are back');
  t.equal(degraded(), 'false', 'the ConfigMap key is back');
  t.ok(done.decisions.some((d: any) => d.reason === 'revert_requested' && d.by === 'bob' && /the incident is over/.test(d.message)));

  // Someone changes the ConfigMap after a run set it: the revert is refused, and the page names the object.
  const started = await svc.api('POST', '/v1/playbooks/degrade/runs', { reason: 'degrade by hand' });
  const run = await svc.ended(started.body.id);
  t.equal(run.status, 'completed');
  const cm = svc.sim.get('ConfigMap', ns, 'app-config');
  svc.sim.put({ ...cm, data: { ...cm.data, DEGRADED_MODE: 'partial' } });
  await p.goto(`${svc.url}/runs/${run.id}`);
  await act(p, 'form-revert', 'undo the degrade');
  await p.getByTestId('revert-refused').waitFor();
  t.match(await p.getByTestId('revert-result').getByRole('alert').textContent(), /REM_ERR_REVERT_CONFLICT/);
  t.match(await p.getByTestId('revert-refused').textContent(), /ai-ninja\/ConfigMap\/app-config: .*DEGRADED_MODE/);
  t.equal(degraded(), 'partial', 'nothing was written');
  await shot(p, 'run-revert-refused');
});

t.test('revert is offered to approvers only', async (t) => {
  const as = async (token: string) =>
    (await svc.service.app!.inject({ method: 'GET', url: `/runs/${changedRun}`, headers: { authorization: `Bearer ${token}` } })).body;
  t.match(await as(APPROVER_TOKEN), /data-testid="form-revert"/, 'an approver is offered it');
  const operator = await as(OPERATOR_ONLY_TOKEN);
  t.match(operator, /data-testid="form-retry"/, 'an operator sees the run and its other actions');
  t.notMatch(operator, /form-revert/, 'but no revert');
  const refused = await svc.api('POST', `/v1/runs/${changedRun}/revert`, { reason: 'not mine to do' }, OPERATOR_ONLY_TOKEN);
  t.equal(refused.status, 403, 'and the API refuses it too');
});

/** A PagerDuty v3 webhook delivery, signed as PagerDuty signs it. */
function pagerDutyAck(episode: string): { raw: string; signature: string } {
  const raw = JSON.stringify({
    event: {
      id: `01${randomUUID().replace(/-/g, '').slice(0, 24).toUpperCase()}`,
      event_type: 'incident.acknowledged',
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: { id: 'PXPGF42', type: 'user_reference', summary: 'Dana Oncall' },
      client: null,
      data: { id: 'Q1ABCDEF', type: 'incident', number: 42, status: 'acknowledged', incident_key: `remediator-${episode}`, title: 'x' },
    },
  });
  return { raw, signature: `v1=${createHmac('sha256', pdSigningSecret).update(raw).digest('hex')}` };
}

t.test("the run page shows each paging target's delivery state, and the person who acknowledged", async (t) => {
  rx.opsgenie.always({ status: 429, headers: { 'retry-after': '3600' }, body: '{"message":"rate limited"}' });
  rx.webhook.always({ status: 500, body: '{"error":"down"}' });
  rx.slack.always({ status: 400, body: 'invalid_payload', headers: { 'content-type': 'text/html' } });
  t.teardown(() => {
    rx.opsgenie.always(undefined);
    rx.webhook.always(undefined);
    rx.slack.always(undefined);
  });
  const started = await svc.api('POST', '/v1/playbooks/page-everyone/runs', { reason: 'page test', dryRun: false });
  const { page: p } = alice;
  await p.goto(`${svc.url}/runs/${started.body.id}`);
  await p.locator('body[data-live-connected="true"]').waitFor();
  const run = await svc.ended(started.body.id);
  t.equal(run.status, 'completed');
  // The page that opened each incident (updates follow it: the rung notes, queued behind at Opsgenie).
  const row = (target: string) => p.locator(`tr[data-delivery="${target}"][data-action="trigger"]`);
  // Each state shows up on the open page as the delivery worker reaches it, without a reload.
  for (const [target, state] of [
    ['pd', 'sent'],
    ['og', 'retrying'],
    ['hook', 'dead-lettered'],
    ['slack', 'failed'],
  ] as const)
    await p.locator(`tr[data-delivery="${target}"][data-action="trigger"][data-state="${state}"]`).waitFor({ timeout: 20_000 });
  const states = async () => (await svc.api('GET', `/v1/runs/${run.id}/deliveries`)).body;
  const ack = pagerDutyAck((await states()).episodeKey);
  const hook = await fetch(`${svc.url}/v1/hooks/pagerduty`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-pagerduty-signature': ack.signature },
    body: ack.raw,
  });
  t.equal(hook.status, 202);
  await p.reload();
  t.match(await row('pd').textContent(), /pd \(pagerduty\)\s*trigger P1\s*sent \(attempt 1\).*HTTP 202/s);
  t.match(await row('og').textContent(), /retrying \(attempt 1\).*next attempt at \d{4}-.*last: HTTP 429/s);
  t.match(await row('hook').textContent(), /dead-lettered \(attempt 3\).*gave up after 3 attempts/s);
  t.match(await row('slack').textContent(), /failed \(attempt 1\).*refused by the target.*HTTP 400/s);
  t.match(await p.getByTestId('human-response').textContent(), /Acknowledged by Dana Oncall in PagerDuty at \d{4}-/);
  const api = await states();
  const og = api.deliveries.find((x: any) => x.target === 'og' && x.action === 'trigger');
  t.ok(
    api.deliveries.filter((x: any) => x.target === 'og' && x.action === 'update').every((x: any) => x.state === 'queued'),
    "Opsgenie's updates wait behind its trigger",
  );
  t.ok(Date.parse(og.nextAt) - Date.now() > 30 * 60_000, 'the Opsgenie retry waits for its Retry-After');
  t.match(api.human.ack, { person: 'Dana Oncall', source: 'pagerduty' });
  t.notMatch(JSON.stringify(api), new RegExp(`${secrets.routingKey}|${secrets.apiKey}|${secrets.webhookSecret}`), 'no secret in it');
  await shot(p, 'run-deliveries');
  await accessible(t, p, 'run page with deliveries');
});

t.test('the storm breaker trips on real alerts, shows on the pauses page, and an admin resumes it', async (t) => {
  const names = Array.from({ length: STORM_TARGETS + 2 }, (_, i) => `storm-${i}`);
  for (const name of names) addDeployment(svc.sim, { namespace: ns, name, image: `ai-ninja/${name}:1`, replicas: 1 });
  await svc.sim.settle();
  const ids = await svc.fire(names, new Date().toISOString());
  const runs = await Promise.all(ids.map((id) => svc.ended(id)));
  t.equal(runs.filter((r) => r.status === 'completed').length, STORM_TARGETS, 'the first targets were restarted');
  t.ok(
    runs.some((r) => r.decisions.some((d: any) => d.reason === 'storm_paused')),
    'the next tripped the breaker',
  );

  const { page: p } = alice;
  await p.goto(`${svc.url}/pauses`);
  t.match(await p.getByTestId('storm-state').textContent(), new RegExp(`Tripped.*more than ${STORM_TARGETS} distinct targets`, 's'));
  await shot(p, 'pauses-storm');
  await accessible(t, p, 'pauses with the storm breaker tripped');
  const lift = p.getByTestId('lift-global-');
  await lift.getByLabel('Reason').fill('the deploy that broke everything is rolled back');
  await lift.getByRole('button', { name: /lift the storm breaker/ }).click();
  await p.getByTestId('storm-state').filter({ hasText: 'Not tripped' }).waitFor();
  const history = (await svc.api('GET', '/v1/pause')).body.history;
  t.match(history[0], {
    event: 'lifted',
    by: 'alice',
    reason: 'the deploy that broke everything is rolled back',
    pause: { code: 'storm_paused' },
  });

  // Resumed: an alert for a service nobody touched yet is acted on again (lifting the pause cleared the count).
  addDeployment(svc.sim, { namespace: ns, name: 'after-storm', image: 'ai-ninja/after-storm:1', replicas: 1 });
  await svc.sim.settle();
  const [id] = await svc.fire(['after-storm'], new Date().toISOString());
  const after = await svc.ended(id!);
  t.equal(after.status, 'completed', `automation acts again: ${JSON.stringify(after.decisions.map((d: any) => d.reason))}`);
});

import t from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { OPERATOR_TOKEN } from '../support/harness.ts';
import { startGuardedService } from '../guards/guard-harness.ts';
import { slackApiReceiver } from '../support/slack-api-receiver.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Slack as an app, end to end: a real remediator on a real redis-server and the simulated cluster, the local Slack
// Web API receiver, and button clicks signed the way Slack signs them (computed here, independently of the service).

// Distinctive secrets, so any occurrence found in a log line, an answer or a record is a leak.
const TOKEN = `xoxb-${randomBytes(12).toString('hex')}`;
const SIGNING = `sign-${randomBytes(16).toString('hex')}`;
const CHANNEL = 'C0REMEDIATE';
const USERS = { bob: 'U0BOB00001', vera: 'U0VERA0001', otto: 'U0OTTO0001' };

const rx = await slackApiReceiver(TOKEN);
// A notify-only target beside it: the signed generic webhook.
const WEBHOOK_SECRET = `hook-${randomBytes(16).toString('hex')}`;
const hooks = await pagingReceivers({
  routingKey: randomBytes(16).toString('hex'),
  apiKey: randomBytes(16).toString('hex'),
  webhookSecret: WEBHOOK_SECRET,
});
const logLines: string[] = [];
const approval = (name: string, timeout: string) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  params: { note: default }
  steps:
    - { id: risky, action: log, with: { message: "risky {{ params.note }}" }, approval: { timeout: ${timeout} } }
    - { id: after, action: log, with: { message: "went on" } }
`;
// An alert's playbook whose only mutation waits for approval: it writes the run id into the deployment's env.
const approvedEnv = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: approved-env }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - id: mark
      action: kube.setEnv
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", env: { REMEDIATION: "{{ run.id }}" } }
      approval: { timeout: 10m }
`;
// Loaded later, for the same alert: a run of an incident already taken over.
const laterEnv = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: later-env }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - { id: mark, action: kube.setEnv, with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", env: { LATER: "{{ run.id }}" } } }
`;
const svc = await startGuardedService({
  playbooks: {
    'approval.yaml': approval('needs-approval', '10m'),
    'short.yaml': approval('short-approval', '5s'),
    'approved-env.yaml': approvedEnv,
  },
  log: createLogger({ level: 'trace', destination: { write: (line: string) => void logLines.push(line) } }),
  overrides: (c) => {
    c.escalation = {
      targets: {
        team: {
          type: 'slack-app',
          token: TOKEN,
          channel: CHANNEL,
          signingSecret: SIGNING,
          apiUrl: rx.apiUrl,
          users: {
            [USERS.bob]: { name: 'bob', role: 'approver' },
            [USERS.vera]: { name: 'vera', role: 'viewer' },
            [USERS.otto]: { name: 'otto', role: 'operator' },
          },
        },
        hook: { type: 'webhook', url: hooks.webhook.url, secret: WEBHOOK_SECRET },
      },
      delivery: { backoff: '50ms' },
      approvals: { remindBefore: '3s' },
    };
  },
});

const answers: string[] = [];

/**
 * Starts a run by hand (as alice), or from a ServiceDown alert for `deployment`, and waits until it waits for approval
 * and its Slack message is posted.
 */
async function waitingRun(playbook = 'needs-approval', deployment?: string) {
  const id = deployment
    ? (await svc.fire([deployment], new Date().toISOString()))[0]!
    : ((await svc.api('POST', `/v1/playbooks/${playbook}/runs`, { reason: 'slack test', params: { note: 'n' } })).body.id as string);
  const run = await svc.waitForRun(id, (r) => r.status === 'awaiting_approval');
  const parent = await rx.waitFor(
    () => [...rx.messages.values()].find((m) => !m.threadTs && m.text.includes(`Run id: ${id}`)),
    10_000,
    `the message of run ${id}`,
  );
  return { id, run, parent };
}

function buttons(blocks: any[]): any[] {
  return blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements)
    .filter((e: any) => e.action_id);
}

/** A block_actions payload as Slack sends it, form-encoded, and its signature headers. */
function click(user: string, action: string, value: string, responseId: string, options: { secret?: string; at?: number } = {}) {
  const payload = {
    type: 'block_actions',
    user: { id: user, username: 'someone', team_id: 'T0TEAM' },
    team: { id: 'T0TEAM' },
    channel: { id: CHANNEL, name: 'incidents' },
    container: { type: 'message', channel_id: CHANNEL },
    actions: [{ type: 'button', action_id: action, block_id: 'approval', value, action_ts: '1700000000.000001' }],
    response_url: rx.responseUrl(responseId),
    trigger_id: '1.2.3',
  };
  const raw = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(Math.floor((options.at ?? Date.now()) / 1000));
  const sig = `v0=${createHmac('sha256', options.secret ?? SIGNING)
    .update(`v0:${ts}:${raw}`)
    .digest('hex')}`;
  return { raw, headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': sig } };
}

async function post(raw: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${svc.url}/v1/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: raw,
  });
  const text = await res.text();
  answers.push(text, JSON.stringify([...res.headers]));
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

t.test(
  'a run waiting for approval gets one Slack message with the buttons; Approve, signed, continues the run and the message says who decided',
  async (t) => {
    const { id, run, parent } = await waitingRun();
    t.equal(parent.channel, CHANNEL);
    const els = buttons(parent.blocks);
    t.same(
      els.map((e) => e.action_id),
      ['approve', 'reject', 'cancel', 'take_over'],
      'the four buttons',
    );
    t.ok(
      els.every((e) => e.confirm?.title?.text),
      'each asks for confirmation',
    );
    t.equal(els[0].value, `${id} ${run.state.approval.planHash}`, 'a button names the run and the exact plan');
    t.match(parent.text, /Waiting for approval until .*: risky \(log\)/);
    const first = rx.calls.find((c) => c.body?.text === parent.versions[0]!.text)!;
    t.equal(first.method, 'chat.postMessage');
    t.equal(first.headers.authorization, `Bearer ${TOKEN}`);
    const notified = await svc.waitForRun(id, (r) => r.decisions.some((d: any) => d.reason === 'approval_requested'));
    t.match(notified.decisions.find((d: any) => d.reason === 'approval_requested').message, /approvers told on team, hook/);
    await hooks.webhook.waitFor(
      () => hooks.webhook.events.some((e) => e.runId === id || JSON.stringify(e).includes(id)),
      10_000,
      'the notice on the notify target',
    );
    const told = hooks.webhook.events.find((e) => JSON.stringify(e).includes(id))!;
    t.match(told.note, /^Waiting for approval until .*: risky \(log\)/, 'the notify target is told too');
    t.same(hooks.webhook.problems(), []);

    const c = click(USERS.bob, 'approve', els[0].value, `approve-${id}`);
    const res = await post(c.raw, c.headers);
    t.equal(res.status, 200);
    const done = await svc.waitForRun(id, (r) => r.status === 'completed');
    t.ok(
      done.decisions.some((d: any) => d.reason === 'approved' && d.by === 'bob'),
      'approved, by bob',
    );
    t.ok(
      done.state.steps.some((s: any) => s.id === 'after' && s.status === 'succeeded'),
      'the run went on',
    );

    const replaced = await rx.waitFor(() => rx.responses.find((r) => r.id === `approve-${id}`), 5000, 'the response_url replacement');
    t.equal(replaced.body.replace_original, true);
    t.match(replaced.body.text, /bob approved the plan of step "risky" in Slack/);
    t.same(
      buttons(replaced.body.blocks).filter((e) => e.action_id === 'approve'),
      [],
      'the replacement has no buttons (no double click)',
    );
    await rx.waitFor(
      () => parent.versions.some((v) => /bob approved the plan/.test(v.text) && buttons(v.blocks).length === 0),
      10_000,
      'the chat.update saying who decided',
    );
    await rx.waitFor(() => rx.replies(parent.ts).some((r) => /bob approved the plan/.test(r.text)), 10_000, 'the thread reply');
    t.equal(
      [...rx.messages.values()].filter((m) => !m.threadTs && m.text.includes(`Run id: ${id}`)).length,
      1,
      'one message (thread) for the incident',
    );
    t.same(rx.problems(), [], 'every Slack call kept the documented contract');
  },
);

t.test("an alert's mutation waits for approval; a signed Approve in Slack applies it to the cluster", async (t) => {
  const { id, run, parent } = await waitingRun('approved-env', 'realtime-processor');
  t.equal(run.playbook, 'approved-env');
  t.same(svc.writesTo('realtime-processor'), [], 'nothing written while it waits');
  t.match(parent.text, /^🚨 \[CRITICAL\] ServiceDown on ai-ninja\/Deployment\/realtime-processor/);
  t.match(parent.text, /Waiting for approval until .*: mark \(kube\.setEnv\) on ai-ninja\/Deployment\/realtime-processor/);
  const c = click(USERS.bob, 'approve', buttons(parent.blocks)[0].value, `alert-${id}`);
  t.equal((await post(c.raw, c.headers)).status, 200);
  const done = await svc.ended(id);
  t.ok(done.decisions.some((d: any) => d.reason === 'approved' && d.by === 'bob'));
  const writes = svc.writesTo('realtime-processor');
  t.equal(writes.length, 1, 'the approved plan was applied, once');
  t.match(writes[0]!.body, id, "with the run's value");
  await rx.waitFor(
    () => parent.versions.some((v) => /bob approved the plan of step "mark"/.test(v.text)),
    10_000,
    'the message saying who decided',
  );
});

t.test('forged, stale (replayed) and unsigned requests are refused with 401, and nothing changes', async (t) => {
  const { id, run, parent } = await waitingRun('approved-env', 'conversation-engine');
  const value = buttons(parent.blocks)[0].value;
  const before = await svc.api('GET', `/v1/runs/${id}`);
  const forged = click(USERS.bob, 'approve', value, `forged-${id}`, { secret: 'not-the-signing-secret' });
  const stale = click(USERS.bob, 'approve', value, `stale-${id}`, { at: Date.now() - 301_000 });
  // Ten minutes ahead, not 301 s: the requests before it take time, and once a second passes a timestamp made 301 s
  // ahead is only 300 s ahead when it is checked (accepted, rightly). The exact bound is slack-signature.test.ts's.
  const future = click(USERS.bob, 'approve', value, `future-${id}`, { at: Date.now() + 600_000 });
  const valid = click(USERS.bob, 'approve', value, `valid-${id}`);
  const tampered = valid.raw.replace('approve', 'reject');
  for (const [what, raw, headers] of [
    ['forged signature', forged.raw, forged.headers],
    ['timestamp 301 s old (a replay)', stale.raw, stale.headers],
    ['timestamp 10 minutes ahead', future.raw, future.headers],
    ['body changed after signing', tampered, valid.headers],
    ['no signature', valid.raw, { 'x-slack-request-timestamp': valid.headers['x-slack-request-timestamp'] }],
    ['a bearer token instead', valid.raw, { authorization: `Bearer ${OPERATOR_TOKEN}` }],
  ] as const) {
    const res = await post(raw, headers as Record<string, string>);
    t.equal(res.status, 401, `${what}: 401`);
    t.equal(res.body.code, 'REM_ERR_SLACK_SIGNATURE', `${what}: its code`);
    t.equal(res.body.message, 'request signature not accepted', `${what}: no detail`);
  }
  const ssl = await post('ssl_check=1&token=legacy', {});
  t.same([ssl.status, ssl.body], [200, {}], "Slack's unsigned certificate check gets its 200 and does nothing");
  const after = await svc.api('GET', `/v1/runs/${id}`);
  t.equal(after.body.status, 'awaiting_approval', 'still waiting');
  t.same(after.body.approvals, before.body.approvals, 'no answer recorded');
  t.same(
    after.body.decisions.map((d: any) => d.reason),
    before.body.decisions.map((d: any) => d.reason),
    'no decision recorded',
  );
  t.equal(rx.responses.filter((r) => r.id.endsWith(id)).length, 0, 'nothing said in Slack');
  t.equal(run.state.approval.planHash, after.body.state.approval.planHash);
  t.same(svc.writesTo('conversation-engine'), [], 'nothing written to the cluster');
  await svc.api('POST', `/v1/runs/${id}/cancel`, { reason: 'cleanup' });
});

t.test('an unknown Slack member, or one whose role is too low, gets an ephemeral reply and nothing changes', async (t) => {
  const { id, parent } = await waitingRun();
  const value = buttons(parent.blocks)[0].value;
  const before = await svc.api('GET', `/v1/runs/${id}`);
  const unknown = click('U0STRANGER1', 'approve', value, `unknown-${id}`);
  const r1 = await post(unknown.raw, unknown.headers);
  t.equal(r1.status, 200, 'Slack gets its 200');
  t.equal(r1.body.response_type, 'ephemeral');
  t.match(r1.body.text, /not mapped to a remediator operator/);
  const e1 = await rx.waitFor(() => rx.responses.find((r) => r.id === `unknown-${id}`), 5000, 'the ephemeral reply');
  t.same({ type: e1.body.response_type, replace: e1.body.replace_original }, { type: 'ephemeral', replace: false });

  const viewer = click(USERS.vera, 'approve', value, `viewer-${id}`);
  const r2 = await post(viewer.raw, viewer.headers);
  t.match(r2.body.text, /approve needs the approver role; vera has viewer/);
  const operator = click(USERS.otto, 'reject', value, `operator-${id}`);
  const r3 = await post(operator.raw, operator.headers);
  t.match(r3.body.text, /reject needs the approver role; otto has operator/);

  const stale = click(USERS.bob, 'approve', `${id} 0000000000000000000000000000000000000000000000000000000000000000`, `old-plan-${id}`);
  const r4 = await post(stale.raw, stale.headers);
  t.match(r4.body.text, /REM_ERR_PLAN_CHANGED/, 'a button for another plan answers nothing');

  const after = await svc.api('GET', `/v1/runs/${id}`);
  t.equal(after.body.status, 'awaiting_approval');
  t.same(after.body.approvals, before.body.approvals, 'no answer recorded');
  t.same(
    after.body.decisions.map((d: any) => d.reason),
    before.body.decisions.map((d: any) => d.reason),
    'no decision recorded',
  );
  t.notOk(
    parent.versions.some((v) => /approved|rejected/.test(v.text)),
    'the message does not say anyone decided',
  );
  await svc.api('POST', `/v1/runs/${id}/cancel`, { reason: 'cleanup' });
});

t.test('Take over stops automation and records who took it, as an acknowledge does', async (t) => {
  const { id, parent } = await waitingRun();
  const c = click(USERS.otto, 'take_over', buttons(parent.blocks)[3].value, `take-${id}`);
  t.equal((await post(c.raw, c.headers)).status, 200);
  const done = await svc.waitForRun(id, (r) => r.status === 'cancelled');
  const took = done.decisions.find((d: any) => d.reason === 'human_ack');
  t.equal(took?.by, 'otto');
  t.match(
    took?.message,
    /^otto took the incident over in Slack: a human has taken over; automation stops now \(the step under way is interrupted\)/,
  );
  t.equal(done.decisions.find((d: any) => d.reason === 'cancelled')?.by, 'otto', 'the run was cancelled by otto');
  t.notOk(
    done.decisions.some((d: any) => d.reason === 'taken_over'),
    'one vocabulary: human_ack',
  );
  t.notOk(
    done.state.steps.some((s: any) => s.id === 'after'),
    'nothing after the waiting step ran',
  );
  await rx.waitFor(() => rx.replies(parent.ts).some((r) => /otto took the incident over/.test(r.text)), 10_000, 'the thread reply');
  const replaced = await rx.waitFor(() => rx.responses.find((r) => r.id === `take-${id}`), 5000, 'the replacement');
  t.same(buttons(replaced.body.blocks), [], 'no buttons after a take-over');
});

t.test('an incident taken over in Slack is never mutated again: a later run of it is refused by the guard (human_ack)', async (t) => {
  const startsAt = new Date().toISOString();
  const [id] = await svc.fire(['phone-gateway-backup'], startsAt);
  await svc.waitForRun(id!, (r) => r.status === 'awaiting_approval');
  const parent = await rx.waitFor(
    () => [...rx.messages.values()].find((m) => !m.threadTs && m.text.includes(`Run id: ${id}`)),
    10_000,
    `the message of run ${id}`,
  );
  // Read before the click: the message is edited (its buttons removed) once the decision is told.
  const takeOver = buttons(parent.blocks)[3].value;
  const c = click(USERS.otto, 'take_over', takeOver, `take-alert-${id}`);
  t.equal((await post(c.raw, c.headers)).status, 200);
  const done = await svc.ended(id!);
  t.equal(done.status, 'cancelled');
  t.equal(done.decisions.find((d: any) => d.reason === 'human_ack')?.by, 'otto');

  // A second Take over of the same incident (a second click on the button as it was shown): refused, nothing recorded.
  const again = click(USERS.otto, 'take_over', takeOver, `again-${id}`);
  const answer = await post(again.raw, again.headers);
  t.match(answer.body.text, /^REM_ERR_CONFLICT/, 'told it already ended');

  // A playbook loaded later for the same alert starts a run in the same incident: it changes nothing.
  await writeFile(join(svc.playbookDir, 'later.yaml'), laterEnv);
  t.equal((await svc.api('POST', '/v1/reload')).status, 200);
  const res = await svc.post(svc.alerts(['phone-gateway-backup'], startsAt));
  const later = res.body.alerts[0].runs.find((r: any) => r.playbook === 'later-env');
  t.equal(later?.decision, 'started');
  const ended = await svc.ended(later.runId);
  t.equal(ended.status, 'skipped');
  t.match(
    ended.decisions.find((d: any) => d.reason === 'human_ack' && !d.by)?.message,
    /^otto has taken this incident over: automation changes nothing more/,
  );
  t.same(svc.writesTo('phone-gateway-backup'), [], 'nothing was ever written to the deployment');
  await rm(join(svc.playbookDir, 'later.yaml'));
  t.equal((await svc.api('POST', '/v1/reload')).status, 200);
});

t.test('the approvers are reminded before the window closes; unanswered, the run escalates as before', async (t) => {
  const { id, parent } = await waitingRun('short-approval');
  const reminder = await rx.waitFor(
    () => rx.replies(parent.ts).find((r) => /^Reminder: the approval of step "risky" closes at/.test(r.text)),
    10_000,
    'the reminder',
  );
  t.ok(reminder, 'a reminder in the incident thread');
  const done = await svc.waitForRun(id, (r) => r.status === 'escalated', 15_000);
  const reasons = done.decisions.map((d: any) => d.reason);
  t.ok(reasons.indexOf('approval_requested') < reasons.indexOf('approval_reminded'), 'told, then reminded');
  t.ok(reasons.includes('approval_expired'), 'then expired');
  t.same(rx.problems(), []);
});

t.test('the bot token and the signing secret appear in no log line, answer, record or Slack body', async (t) => {
  const runs = await svc.api('GET', '/v1/runs?limit=50');
  const records = await Promise.all(runs.body.runs.map((r: any) => svc.api('GET', `/v1/runs/${r.id}`)));
  const texts = [
    ...logLines,
    ...answers,
    JSON.stringify(records),
    ...rx.calls.map((c) => JSON.stringify(c.body)),
    ...rx.responses.map((r) => JSON.stringify(r.body)),
  ];
  t.ok(logLines.length > 0 && records.length > 0);
  for (const secret of [TOKEN, SIGNING, WEBHOOK_SECRET])
    t.notOk(
      texts.some((x) => x.includes(secret)),
      `${secret.slice(0, 5)}… never appears`,
    );
});

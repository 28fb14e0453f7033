import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { startTestService, fixture, APPROVER_TOKEN } from '../support/harness.ts';
import { pagingReceivers, StatuspageReceiver } from '../support/paging-receivers.ts';

// Customers read the status page: remediator opens and resolves the Statuspage incident with the components'
// status and only neutral words of its own; the customer notice (impact, expected recovery, apology) goes out only
// once an approver approves its text, exactly as approved.
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const spKey = `sp-${randomBytes(16).toString('hex')}`;
const rx = await pagingReceivers(secrets);
const sp = await new StatuspageReceiver(spKey).start();
t.teardown(() => sp.close());

let healthy = false;
const service = createServer((_req, res) => {
  res.statusCode = healthy ? 200 : 503;
  res.end(healthy ? 'ok' : 'down');
});
await new Promise<void>((r) => service.listen(0, '127.0.0.1', () => r()));
t.teardown(() => service.close());
const health = `http://127.0.0.1:${(service.address() as { port: number }).port}/health`;

const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: public-ladder, owner: sre }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  onExhausted: { escalate: true, level: P1, targets: [pd, status] }
  rungs:
    - name: restart
      steps:
        - { id: page, action: escalate, with: { level: P1, targets: [pd, status], summary: "customers affected; automation is trying" } }
        - { id: health, gate: http.check, with: { url: "${health}" }, interval: 100ms, timeout: 60s, successes: 2 }
`;
const OTTO = 'notice-test-operator-token-77';
const svc = await startTestService({
  playbooks: { 'p.yaml': playbook },
  overrides: (c) => {
    c.auth.operators.push({ name: 'otto', token: OTTO, role: 'operator' });
    c.escalation = {
      targets: {
        pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url },
        status: { type: 'statuspage', apiKey: spKey, pageId: sp.pageId, componentIds: ['cmpgateway01'], url: sp.url },
      },
      notice: { targets: ['status'], product: 'Phone Gateway' },
      // War-room updates often enough to see one remind the approvers while the notice waits.
      policy: { levels: { P1: { updateEvery: '500ms' } } },
      delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
    };
  },
});

t.test('statuspage incident opened neutrally; the notice waits for an approver; the fix resolves the incident', async (t) => {
  const res = await svc.post(await fixture('alertmanager/firing.json'));
  const runId = res.body.alerts[0].runs[0].runId;
  const run = await svc.waitForRun(
    runId,
    (r) => Boolean(r.episodeId) && (r.state?.steps ?? []).some((s: any) => s.id === 'page' && s.status === 'succeeded'),
  );
  const episode = run.episodeId;

  await sp.waitFor(() => sp.incidents.size === 1, 5000, 'the Statuspage incident');
  const [create] = sp.requests;
  t.equal(create!.method, 'POST');
  t.equal(create!.path, `/v1/pages/${sp.pageId}/incidents`);
  const incident = (create!.body as any).incident;
  t.equal(incident.status, 'investigating');
  t.same(incident.components, { cmpgateway01: 'partial_outage' }, 'P1: the component shows a partial outage');
  t.same(incident.component_ids, ['cmpgateway01']);
  t.same(incident.metadata, { remediator: { episode } });
  t.notMatch(create!.raw, new RegExp(`${runId}|namespace|ai-ninja|127\\.0\\.0\\.1`), 'nothing internal on the status page');

  // The notice: a draft to read; nothing sent.
  const view = await svc.api('GET', `/v1/incidents/${episode}/notice`);
  t.equal(view.status, 200);
  t.equal(view.body.status, 'pending');
  t.match(view.body.draft, /^Dear customer,\n\nWe detected a temporary disruption of Phone Gateway\./);
  t.match(view.body.draft, /\nImpact: Phone Gateway may be unavailable or slow\n/);
  t.match(view.body.draft, /\nExpected recovery: by \d\d:\d\d UTC\n/, 'the ETA, as customers may read it');
  t.match(view.body.draft, /We apologise for the inconvenience/);
  t.notMatch(view.body.draft, /rung|deadline|run-/, 'no internals in the notice');
  t.same(view.body.targets, ['status']);
  t.notOk(
    [...sp.incidents.values()][0]!.bodies.some((b) => /Dear customer/.test(b)),
    'no notice went out by itself',
  );

  await rx.pagerduty.waitFor(
    (q) =>
      q.some(
        (r) =>
          (r.body as any).dedup_key === `remediator-${episode}` &&
          new RegExp(`Customer notice: waiting for an approver \\(/v1/incidents/${episode}/notice\\)`).test(
            (r.body as any).payload?.custom_details?.latest_update ?? '',
          ),
      ),
    5000,
    'a war-room update reminding the approvers',
  );

  // An operator may not send it; an approver sends exactly the text approved, and (four eyes) never a text of their own.
  const refused = await svc.api('POST', `/v1/incidents/${episode}/notice/approve`, { reason: 'ship it' }, OTTO);
  t.equal(refused.status, 403);
  t.equal(
    (await svc.api('POST', `/v1/incidents/${episode}/notice/approve`, { text: view.body.draft }, APPROVER_TOKEN)).status,
    400,
    'a reason is required',
  );
  const edited = view.body.draft.replace('Our engineering team is working on it urgently.', 'Our engineers are restoring it now.');
  const ownEdit = await svc.api('POST', `/v1/incidents/${episode}/notice/approve`, { reason: 'my wording', text: edited }, APPROVER_TOKEN);
  t.equal(ownEdit.status, 403, 'an approver may not send an edit of their own');
  t.equal(ownEdit.body.code, 'REM_ERR_SELF_APPROVAL');
  t.match(
    ownEdit.body.message,
    /^bob edited this customer notice, so may not approve it; another approver must \(approvals\.requireDifferentApprover\)\. Propose the text with POST \/v1\/incidents\/.+\/notice\/draft$/,
  );
  const drafted = await svc.api('POST', `/v1/incidents/${episode}/notice/draft`, { reason: 'wording from support', text: edited }, OTTO);
  t.equal(drafted.status, 200, 'an operator proposes the text');
  t.equal(drafted.body.status, 'pending');
  t.equal(drafted.body.draft, edited, 'the draft is now the proposed text');
  t.equal(drafted.body.draftedBy, 'otto');
  t.notOk([...sp.incidents.values()][0]!.bodies.includes(edited), 'nothing sent by proposing it');
  const approved = await svc.api(
    'POST',
    `/v1/incidents/${episode}/notice/approve`,
    { reason: 'wording checked with support' },
    APPROVER_TOKEN,
  );
  t.equal(approved.status, 202);
  t.equal(approved.body.status, 'sent');
  t.same(
    approved.body.history.map((h: any) => [h.status, h.by]),
    [
      ['drafted', 'otto'],
      ['sent', 'bob'],
    ],
  );
  await sp.waitFor(() => [...sp.incidents.values()][0]!.bodies.includes(edited), 5000, 'the approved notice');
  const patch = sp.requests.find((q) => q.method === 'PATCH' && (q.body as any).incident.body === edited)!;
  t.equal((patch.body as any).incident.status, 'identified');
  const withNotice = await svc.waitForRun(runId, (r) => r.decisions.some((d: any) => d.reason === 'notice_approved'));
  t.match(
    withNotice.decisions.find((d: any) => d.reason === 'notice_approved'),
    { by: 'bob', message: /bob approved the customer notice \(written by otto\) for status: wording checked with support/ },
  );
  t.match(
    withNotice.decisions.find((d: any) => d.reason === 'approval_refused'),
    { by: 'bob', message: /^bob edited this customer notice, so may not approve it/ },
    'the refusal is on the record',
  );

  // Internal updates on the incident (the rung's notes) reach the status page only as component status.
  for (const q of sp.requests.filter((q) => q.method === 'PATCH' && q !== patch))
    t.notOk((q.body as any).incident.body, 'no internal note as a public update');

  // Fixed and verified: the incident is resolved and the component operational again.
  healthy = true;
  await svc.waitForRun(runId, (r) => r.status === 'succeeded');
  await sp.waitFor(() => [...sp.incidents.values()][0]!.status === 'resolved', 10_000, 'the resolve');
  t.same([...sp.incidents.values()][0]!.components, { cmpgateway01: 'operational' });
  t.same(sp.problems(), [], 'every request met the Statuspage contract');

  const report = await (
    await fetch(`${svc.url}/v1/incidents/${episode}/report`, { headers: { authorization: `Bearer ${APPROVER_TOKEN}` } })
  ).text();
  t.match(report, /\| Customer notice \| sent by bob at /);
  t.match(report, /\| Recovery \|/, 'the recovery is in the timeline');
});

t.test('a rejected notice sends nothing', async (t) => {
  healthy = false;
  const body = await fixture('alertmanager/firing.json');
  body.alerts[0].fingerprint = randomBytes(8).toString('hex');
  body.alerts[0].labels.instance = 'other:1';
  body.alerts[0].startsAt = new Date().toISOString();
  const res = await svc.post(body);
  const runId = res.body.alerts[0].runs[0].runId;
  const run = await svc.waitForRun(
    runId,
    (r) => Boolean(r.episodeId) && (r.state?.steps ?? []).some((s: any) => s.id === 'page' && s.status === 'succeeded'),
  );
  await sp.waitFor(() => sp.incidents.size === 2, 5000, 'the second incident');
  // An approver who drafted the text may not approve it; they may still withdraw it by rejecting.
  const text = 'Dear customer, we are looking into a disruption and will update you shortly.';
  t.equal(
    (await svc.api('POST', `/v1/incidents/${run.episodeId}/notice/draft`, { reason: 'short version', text }, APPROVER_TOKEN)).status,
    200,
  );
  const own = await svc.api('POST', `/v1/incidents/${run.episodeId}/notice/approve`, { reason: 'send mine' }, APPROVER_TOKEN);
  t.equal(own.status, 403);
  t.equal(own.body.code, 'REM_ERR_SELF_APPROVAL');
  t.match(
    own.body.message,
    /^bob drafted this customer notice, so may not approve it; another approver must \(approvals\.requireDifferentApprover\)$/,
  );
  const refusedRun = await svc.waitForRun(runId, (r) => r.decisions.some((d: any) => d.reason === 'approval_refused'));
  t.equal(refusedRun.decisions.find((d: any) => d.reason === 'approval_refused').by, 'bob');
  const rejected = await svc.api(
    'POST',
    `/v1/incidents/${run.episodeId}/notice/reject`,
    { reason: 'not customer-visible yet' },
    APPROVER_TOKEN,
  );
  t.equal(rejected.status, 200);
  t.equal(rejected.body.status, 'rejected');
  const after = await svc.waitForRun(runId, (r) => r.decisions.some((d: any) => d.reason === 'notice_rejected'));
  t.match(after.decisions.find((d: any) => d.reason === 'notice_rejected').message, /bob rejected the customer notice; nothing was sent/);
  t.equal(rejected.body.history.at(-1).text, text, 'the rejected text is the proposal');
  const second = [...sp.incidents.values()][1]!;
  t.notOk(
    second.bodies.some((b) => /Dear customer/.test(b)),
    'nothing sent',
  );
  t.equal((await svc.api('GET', '/v1/incidents/ep-unknown/notice')).status, 404);
  await svc.api('POST', `/v1/runs/${runId}/cancel`, { reason: 'end of test' });
});

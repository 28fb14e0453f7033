import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { startTestService, fixture } from '../support/harness.ts';
import { pagingReceivers, receiverTargets, type ReceivedRequest } from '../support/paging-receivers.ts';

// Once an episode has an open incident, each further rung and its outcome is a note on that same incident, at
// every provider; the incident is resolved only after the run verified the fix.
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);
let healthy = false;
const server = createServer((req, res) => {
  const up = req.url === '/up' || (req.url === '/flip' && healthy);
  res.statusCode = up ? 200 : 503;
  res.end(up ? 'ok' : 'down');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
t.teardown(() => server.close());
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

const gate = (id: string, path: string, timeout = '400ms') =>
  `{ id: ${id}, gate: http.check, with: { url: "${base}${path}" }, interval: 100ms, timeout: ${timeout}, successes: 1 }`;
const playbooks = {
  'early.yaml': `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: page-early, owner: sre }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  onExhausted: { escalate: true, level: P0 }
  rungs:
    - name: look
      steps:
        - { id: page, action: escalate, with: { summary: "phone-gateway is down; automation keeps trying" } }
        - ${gate('first-look', '/down')}
    - name: restart
      steps:
        - { id: restart, action: log, with: { message: "restart" } }
        - ${gate('after-restart', '/down')}
    - name: rollback
      steps:
        - { id: rollback, action: log, with: { message: "rollback" } }
        - ${gate('after-rollback', '/up', '2s')}
`,
  'quiet.yaml': `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: quiet, owner: sre }
spec:
  triggers: [{ matchers: ['alertname="DiskFilling"'] }]
  onExhausted: { escalate: true, level: P0 }
  rungs:
    - name: cleanup
      steps:
        - { id: cleanup, action: log, with: { message: "cleanup" } }
        - ${gate('after-cleanup', '/down')}
    - name: expand
      steps:
        - { id: expand, action: log, with: { message: "expand" } }
        - ${gate('after-expand', '/up', '2s')}
`,
  'late.yaml': `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: page-late, owner: sre }
spec:
  triggers: [{ matchers: ['alertname="QueueStuck"'] }]
  onExhausted: { escalate: true, level: P0, targets: [pd] }
  rungs:
    - name: drain
      steps:
        - { id: drain, action: log, with: { message: "drain" } }
        - ${gate('after-drain', '/flip')}
`,
};
const svc = await startTestService({
  playbooks,
  overrides: (c) => {
    c.escalation = {
      targets: receiverTargets(rx, secrets),
      delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
    };
  },
});

async function fire(alertname: string, startsAt: string): Promise<string> {
  const body = await fixture('alertmanager/firing.json');
  body.alerts[0].labels.alertname = alertname;
  body.alerts[0].startsAt = startsAt;
  body.alerts[0].fingerprint = randomBytes(8).toString('hex');
  const res = await svc.post(body);
  return res.body.alerts[0].runs[0].runId;
}

const pd = (r: ReceivedRequest) =>
  r.body as { event_action: string; dedup_key: string; payload?: { custom_details?: { latest_update?: string } } };
const ofRun = (reqs: ReceivedRequest[], runId: string) => reqs.filter((r) => r.raw.includes(runId));
const RUNG_NOTES = [
  /^Rung 1 of 3 "look" failed: step "first-look" failed/,
  /^Trying rung 2 of 3 "restart"/,
  /^Rung 2 of 3 "restart" failed/,
  /^Trying rung 3 of 3 "rollback"/,
  /^Rung 3 of 3 "rollback" succeeded: verification gates passed/,
];

t.test('paged early by an escalate step: every later rung is a note on the one incident, then one resolve', async (t) => {
  const runId = await fire('ServiceDown', '2026-11-25T12:00:00.000Z');
  const run = await svc.waitForRun(runId, (r) => r.status === 'succeeded', 15_000);
  t.same(
    run.state.rungs.map((r: { name: string; outcome: string }) => [r.name, r.outcome]),
    [
      ['look', 'failed'],
      ['restart', 'failed'],
      ['rollback', 'succeeded'],
    ],
  );

  // PagerDuty: Events v2 has no note event; an update is a trigger on the same dedup_key with fresh custom_details.
  const page = pd((await rx.pagerduty.waitFor((q) => ofRun(q, runId).length >= 1, 5000)).find((r) => ofRun([r], runId).length > 0)!);
  const events = (await rx.pagerduty.waitFor((q) => q.some((r) => pd(r).event_action === 'resolve'), 5000)).map(pd);
  t.same(
    events.map((e) => e.dedup_key),
    events.map(() => page.dedup_key),
    'one dedup_key: one incident',
  );
  t.same(
    events.map((e) => e.event_action),
    ['trigger', 'trigger', 'trigger', 'trigger', 'trigger', 'trigger', 'resolve'],
    'a page, five notes, then the resolve last',
  );
  t.match(events[0]!.payload?.custom_details?.latest_update, /automation keeps trying/);
  const notes = events.slice(1, 6).map((e) => e.payload?.custom_details?.latest_update ?? '');
  RUNG_NOTES.forEach((re, i) => {
    t.match(notes[i], re, `note ${i + 1}: ${re}`);
  });

  // Opsgenie: one alert, the notes on its alias, closed last.
  const og = await rx.opsgenie.waitFor((q) => ofRun(q, runId).length >= 1 && q.some((r) => r.path.endsWith('/close')), 5000);
  const creates = og.filter((r) => r.method === 'POST' && r.path === '/v2/alerts');
  t.equal(creates.length, 1, 'one Opsgenie alert');
  const alias = (creates[0]!.body as { alias: string }).alias;
  const after = og.slice(og.indexOf(creates[0]!) + 1);
  t.same(
    after.map((r) => r.path),
    [...RUNG_NOTES.map(() => `/v2/alerts/${encodeURIComponent(alias)}/notes`), `/v2/alerts/${encodeURIComponent(alias)}/close`],
    'five notes then the close, all on the alias',
  );
  RUNG_NOTES.forEach((re, i) => {
    t.match((after[i]!.body as { note: string }).note, re);
  });

  // Slack: a follow-up message per rung; webhook: remediation.updated per rung, one dedupKey.
  const slack = await rx.slack.waitFor((q) => q.length >= 7, 5000);
  t.equal(slack.length, 7, 'escalated, five updates, recovered');
  const hooks = (await rx.webhook.waitFor((q) => q.length >= 7, 5000)).map((r) => r.body as { event: string; dedupKey: string });
  t.same(
    hooks.map((h) => h.event),
    ['remediation.escalated', ...RUNG_NOTES.map(() => 'remediation.updated'), 'remediation.resolved'],
  );
  t.equal(new Set(hooks.map((h) => h.dedupKey)).size, 1);
  for (const r of [rx.pagerduty, rx.opsgenie, rx.slack, rx.webhook])
    t.same(r.problems(), [], `${r.constructor.name}: every request met the contract`);
});

t.test('an episode without an open incident sends nothing, rung after rung', async (t) => {
  const counts = () => [rx.pagerduty, rx.opsgenie, rx.slack, rx.webhook].map((r) => r.requests.length);
  const before = counts();
  const runId = await fire('DiskFilling', '2026-11-25T13:00:00.000Z');
  const run = await svc.waitForRun(runId, (r) => r.status === 'succeeded', 15_000);
  t.equal(run.state.rungs.length, 2, 'two rungs ran');
  // Deliveries take milliseconds here (the first test waited for seven of them); give stray ones time to show.
  await new Promise((r) => setTimeout(r, 500));
  t.same(counts(), before, 'no page, no note, no resolve');
});

t.test('an earlier run of the episode escalated: the retry notes its rungs on that incident and resolves it', async (t) => {
  healthy = false;
  const runId = await fire('QueueStuck', '2026-11-25T14:00:00.000Z');
  await svc.waitForRun(runId, (r) => r.status === 'escalated', 15_000);
  const page = pd((await rx.pagerduty.waitFor((q) => ofRun(q, runId).length >= 1, 5000)).find((r) => ofRun([r], runId).length > 0)!);
  healthy = true;
  const retry = await svc.api('POST', `/v1/runs/${runId}/retry`, { reason: 'fixed by hand, verify' });
  t.ok(retry.status >= 200 && retry.status < 300, `retried (${retry.status})`);
  await svc.waitForRun(retry.body.id, (r) => r.status === 'succeeded', 15_000);
  const events = (
    await rx.pagerduty.waitFor((q) => q.some((r) => pd(r).dedup_key === page.dedup_key && pd(r).event_action === 'resolve'), 5000)
  )
    .map(pd)
    .filter((e) => e.dedup_key === page.dedup_key);
  t.same(
    events.map((e) => e.event_action),
    ['trigger', 'trigger', 'trigger', 'resolve'],
    "the page, the retry's rung start and end, the resolve",
  );
  t.match(events[1]!.payload?.custom_details?.latest_update, /^Trying rung 1 of 1 "drain" \(run /);
  t.match(events[2]!.payload?.custom_details?.latest_update, /^Rung 1 of 1 "drain" succeeded/);
});

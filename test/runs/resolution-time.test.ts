import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { startTestService, fixture } from '../support/harness.ts';
import { pagingReceivers, type ReceivedRequest } from '../support/paging-receivers.ts';
import { OVERDUE_MARK } from '../../src/runs/resolution-watch.ts';

// A run still working past its level's resolution time pages once, with two workers (replicas) on the same queue;
// `continue` keeps it going until a verified fix resolves the incident, `stop` ends it and leaves the incident open.
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);
let healthy = false;
const server = createServer((_req, res) => {
  res.statusCode = healthy ? 200 : 503;
  res.end(healthy ? 'ok' : 'down');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
t.teardown(() => server.close());
const health = `http://127.0.0.1:${(server.address() as { port: number }).port}/health`;

const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: slow-fix, owner: sre }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  onExhausted: { escalate: true, targets: [pd] }
  rungs:
    - name: restart
      steps:
        - { id: restart, action: log, with: { message: "restart" } }
        - { id: health, gate: http.check, with: { url: "${health}" }, interval: 100ms, timeout: 20s, successes: 1 }
`;
const prefix = `rt${randomBytes(3).toString('hex')}`;
const overrides = (c: Record<string, any>) => {
  c.redis.prefix = prefix;
  c.escalation = {
    targets: { pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url } },
    delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
    // P0 (severity=critical) and P1 (severity=error) must be resolved within 1.5 s here.
    policy: { levels: { P0: { resolution: '1500ms', targets: ['pd'] }, P1: { resolution: '1500ms', targets: ['pd'], overdue: 'stop' } } },
  };
};
const svc = await startTestService({ playbooks: { 'slow.yaml': playbook }, overrides });
await startTestService({ playbooks: { 'slow.yaml': playbook }, redis: svc.redis!, role: 'worker', overrides });

async function fire(severity: string, startsAt: string): Promise<string> {
  const body = await fixture('alertmanager/firing.json');
  body.alerts[0].labels.severity = severity;
  body.alerts[0].startsAt = startsAt;
  body.alerts[0].fingerprint = randomBytes(8).toString('hex');
  const res = await svc.post(body);
  return res.body.alerts[0].runs[0].runId;
}
const pd = (r: ReceivedRequest) =>
  r.body as { event_action: string; dedup_key: string; payload?: { custom_details?: { latest_update?: string } } };
const overdueDecisions = (run: { decisions: Array<{ reason: string; message: string }> }) =>
  run.decisions.filter((d) => d.reason === 'escalated' && d.message.startsWith(OVERDUE_MARK));

t.test('continue: past its resolution time the run pages once, keeps working, and its verified fix resolves the incident', async (t) => {
  healthy = false;
  const started = Date.now();
  const runId = await fire('critical', '2026-11-25T15:00:00.000Z');
  const reqs = await rx.pagerduty.waitFor((q) => q.some((r) => r.raw.includes(runId)), 6000);
  const page = pd(reqs.find((r) => r.raw.includes(runId))!);
  t.ok(Date.now() - started >= 1400, `paged after ${Date.now() - started} ms, not before the 1.5 s resolution time`);
  t.equal(page.event_action, 'trigger');
  t.match(
    page.payload?.custom_details?.latest_update,
    /resolution time exceeded: .* P0 incidents must be resolved within 1\.5s; automation keeps trying/,
  );
  // Two workers, each with the delivery worker that runs overdue jobs: still one page, one decision.
  await new Promise((r) => setTimeout(r, 1000));
  let run = (await svc.api('GET', `/v1/runs/${runId}`)).body;
  t.equal(run.status, 'waiting', 'the run keeps working');
  t.equal(overdueDecisions(run).length, 1, 'one recorded escalation');
  t.equal(rx.pagerduty.requests.filter((r) => pd(r).dedup_key === page.dedup_key).length, 1, 'one page, nothing more while it works');

  healthy = true;
  run = await svc.waitForRun(runId, (r) => r.status === 'succeeded', 10_000);
  const events = (
    await rx.pagerduty.waitFor((q) => q.some((r) => pd(r).dedup_key === page.dedup_key && pd(r).event_action === 'resolve'), 5000)
  )
    .map(pd)
    .filter((e) => e.dedup_key === page.dedup_key);
  t.same(
    events.map((e) => e.event_action),
    ['trigger', 'trigger', 'resolve'],
    "the page, the rung's outcome as a note, the resolve",
  );
  t.match(events[1]!.payload?.custom_details?.latest_update, /^Rung 1 of 1 "restart" succeeded/);
  t.same(rx.pagerduty.problems(), []);
});

t.test('stop: past its resolution time the run pages once and ends; the incident stays open for people', async (t) => {
  healthy = false;
  const runId = await fire('error', '2026-11-25T16:00:00.000Z');
  const run = await svc.waitForRun(runId, (r) => r.status === 'cancelled', 8000);
  t.match(run.cancel, { by: 'severity-policy' });
  t.equal(overdueDecisions(run).length, 1);
  const reqs = await rx.pagerduty.waitFor((q) => q.some((r) => r.raw.includes(runId)), 3000);
  const page = pd(reqs.find((r) => r.raw.includes(runId))!);
  t.match(page.payload?.custom_details?.latest_update, /P1 incidents must be resolved within 1\.5s; the run is stopped and left to people/);
  // Wait for the note (the second event of the incident) rather than a fixed time; then nothing more may follow.
  await rx.pagerduty.waitFor((q) => q.map(pd).filter((e) => e.dedup_key === page.dedup_key).length >= 2, 10_000);
  await new Promise((r) => setTimeout(r, 500));
  const events = rx.pagerduty.requests.map(pd).filter((e) => e.dedup_key === page.dedup_key);
  t.same(
    events.map((e) => e.event_action),
    ['trigger', 'trigger'],
    'the page and a note that the run stopped; no resolve',
  );
  t.match(events[1]!.payload?.custom_details?.latest_update, /ended cancelled: cancelled by severity-policy: .*the incident stays open/);
});

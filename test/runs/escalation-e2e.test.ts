import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { startTestService, fixture } from '../support/harness.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';

// The engine's ladder ends in escalation: PagerDuty gets one trigger with the run's story on the episode's
// dedup_key; a fix that verifies resolves it; the timeline endpoint tells the same story in Markdown.
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);
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
metadata: { name: page-me, owner: sre }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  onExhausted: { escalate: true, level: P0, targets: [pd] }
  rungs:
    - name: restart
      steps:
        - { id: restart, action: log, with: { message: "restart {{ labels.deployment }}" } }
        - { id: health, gate: http.check, with: { url: "${health}" }, interval: 100ms, timeout: 600ms, successes: 2 }
    - name: rollback
      steps:
        - { id: rollback, action: log, with: { message: "rollback {{ labels.deployment }}" } }
        - { id: health-after-rollback, gate: http.check, with: { url: "${health}" }, interval: 100ms, timeout: 600ms, successes: 2 }
`;
const svc = await startTestService({
  playbooks: { 'page.yaml': playbook },
  overrides: (c) => {
    c.escalation = {
      targets: { pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url } },
      delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
    };
  },
});

t.test('every rung fails → one page with the story; timeline in Markdown', async (t) => {
  const res = await svc.post(await fixture('alertmanager/firing.json'));
  const runId = res.body.alerts[0].runs[0].runId;
  const run = await svc.waitForRun(runId, (r) => r.status === 'escalated', 15_000);
  t.same(
    run.state.rungs.map((r: any) => [r.name, r.outcome]),
    [
      ['restart', 'failed'],
      ['rollback', 'failed'],
    ],
  );
  const reqs = await rx.pagerduty.waitFor((q) => q.length >= 1, 5000);
  t.same(rx.pagerduty.problems(), [], 'the event met the PagerDuty contract');
  const body = reqs[0]!.body as any;
  t.equal(body.event_action, 'trigger');
  t.equal(body.payload.severity, 'critical', 'P0 pages as critical');
  t.match(JSON.stringify(body.payload.custom_details), /rollback/);
  // A repeat of the alert does not page again.
  await svc.post(await fixture('alertmanager/firing.json'));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(rx.pagerduty.requests.filter((q) => (q.body as any).event_action === 'trigger').length, 1, 'one page for the episode');

  const md = await fetch(`${svc.url}/v1/runs/${runId}/timeline`, { headers: { authorization: 'Bearer test-operator-token-0123456789' } });
  t.equal(md.status, 200);
  const text = await md.text();
  t.match(text, /ServiceDown/);
  t.match(text, /health/);
  t.match(text, /escalat/i);
});

t.test('a verified fix after a page resolves the same incident', async (t) => {
  const next = await fixture('alertmanager/firing.json');
  next.alerts[0].startsAt = '2026-11-25T16:00:00.000Z';
  const first = await svc.post(next);
  const runId = first.body.alerts[0].runs[0].runId;
  await svc.waitForRun(runId, (r) => r.status === 'escalated', 15_000);
  await rx.pagerduty.waitFor((q) => q.filter((r) => (r.body as any).event_action === 'trigger').length >= 2, 5000);
  const dedupKey = (rx.pagerduty.requests.at(-1)!.body as any).dedup_key;
  healthy = true;
  const retry = await svc.api('POST', `/v1/runs/${runId}/retry`, { reason: 'service fixed by hand, verify' });
  await svc.waitForRun(retry.body.id, (r) => r.status === 'succeeded', 15_000);
  const resolved = await rx.pagerduty.waitFor((q) => q.some((r) => (r.body as any).event_action === 'resolve'), 5000);
  t.equal(
    (resolved.find((r) => (r.body as any).event_action === 'resolve')!.body as any).dedup_key,
    dedupKey,
    'resolve on the same dedup_key',
  );
});

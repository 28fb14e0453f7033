import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { startTestService, fixture } from '../support/harness.ts';
import { pagingReceivers, receiverTargets } from '../support/paging-receivers.ts';

// A response-time tier is a delayed job in Redis: the process that paged may stop before the tier's time, and the
// next process on the same Redis sends the tier when it comes.
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);
const down = createServer((_req, res) => {
  res.statusCode = 503;
  res.end('down');
});
await new Promise<void>((r) => down.listen(0, '127.0.0.1', () => r()));
t.teardown(() => down.close());

const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: p1-ladder }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  onExhausted: { escalate: true, level: P1, targets: [pd] }
  steps:
    - { id: page, action: escalate, with: { level: P1, targets: [pd] } }
    - { id: health, gate: http.check, with: { url: "http://127.0.0.1:${(down.address() as { port: number }).port}/health" }, interval: 200ms, timeout: 60s, successes: 1 }
`;
const escalation = {
  targets: receiverTargets(rx, secrets),
  delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
  policy: { levels: { P1: { response: '6s', tiers: [{ targets: ['og'] }], updateEvery: 'never' } } },
};

t.test('the tier is sent by the next process after a restart', async (t) => {
  const first = await startTestService({
    playbooks: { 'p.yaml': playbook },
    overrides: (c) => {
      c.escalation = escalation;
    },
  });
  const res = await first.post(await fixture('alertmanager/firing.json'));
  const runId = res.body.alerts[0].runs[0].runId;
  const run = await first.waitForRun(runId, (r) => Boolean(r.episodeId));
  await rx.pagerduty.waitFor((q) => q.some((r) => (r.body as any).dedup_key === `remediator-${run.episodeId}`), 5000, 'the page');
  await first.service.close();

  const restartedAt = Date.now();
  const second = await startTestService({
    playbooks: { 'p.yaml': playbook },
    redis: first.redis,
    overrides: (c) => {
      c.redis.prefix = first.config.redis.prefix;
      c.escalation = escalation;
    },
  });
  const reqs = await rx.opsgenie.waitFor(
    () => rx.opsgenie.alerts.has(`remediator-${run.episodeId}`),
    20_000,
    'the tier, sent by the second process',
  );
  t.ok(
    reqs.filter((q) => q.path === '/v2/alerts').every((q) => q.at >= restartedAt),
    'sent after the restart, by the second process',
  );
  const after = await second.waitForRun(runId, (r) => r.decisions.some((d: any) => d.reason === 'response_escalated'));
  t.match(after.decisions.find((d: any) => d.reason === 'response_escalated').message, /Not acknowledged within 6s/);
  await second.api('POST', `/v1/runs/${runId}/cancel`, { reason: 'end of test' });
  t.same(rx.opsgenie.problems(), []);
});

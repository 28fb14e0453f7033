import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startTestService } from '../support/harness.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';
import type { Clock } from '../../src/ports/clock.ts';

// The approvers' reminder is timed on the service's clock, as the approval window is: with a clock an hour ahead of
// the machine's (a replay, a playbook test, a host whose clock is off), the reminder still comes before the window
// closes, and the run escalates after it, as with the system clock.
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);
const HOUR = 3_600_000;
const ahead: Clock = { now: () => Date.now() + HOUR };
const svc = await startTestService({
  playbooks: {
    'approval.yaml': `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: short-approval }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  steps:
    - { id: risky, action: log, with: { message: "risky" }, approval: { timeout: 4s } }
`,
  },
  clock: ahead,
  overrides: (c) => {
    c.escalation = {
      targets: { hook: { type: 'webhook', url: rx.webhook.url, secret: secrets.webhookSecret } },
      delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
      approvals: { remindBefore: '2s' },
    };
  },
});

t.test('with a clock an hour ahead, the approvers are told, reminded before the window closes, then the run escalates', async (t) => {
  const id = (await svc.api('POST', '/v1/playbooks/short-approval/runs', { reason: 'clock test' })).body.id as string;
  const done = await svc.waitForRun(id, (r) => r.status === 'escalated', 20_000);
  const reasons = done.decisions.map((d: any) => d.reason);
  t.ok(reasons.includes('approval_requested'), 'the approvers were told');
  t.ok(reasons.includes('approval_reminded'), 'and reminded');
  t.ok(reasons.indexOf('approval_reminded') < reasons.indexOf('approval_expired'), 'before the window closed');
  const reminded = done.decisions.find((d: any) => d.reason === 'approval_reminded');
  const expiresAt = Date.parse(done.decisions.find((d: any) => d.reason === 'approval_requested').message.match(/until (\S+)$/)[1]);
  t.ok(Date.parse(reminded.at) < expiresAt, 'the reminder is recorded, on the service clock, before the window closes');
  t.ok(Date.parse(reminded.at) > Date.now() + HOUR / 2, 'on the service clock');
  await rx.webhook.waitFor(
    () => rx.webhook.requests.some((q) => /Reminder: the approval of step \\"risky\\" closes at/.test(JSON.stringify(q.body))),
    5000,
    'the reminder at the webhook',
  );
  t.same(rx.webhook.problems(), []);
});

import t from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { startTestService, fixture } from '../support/harness.ts';
import { pagingReceivers, receiverTargets } from '../support/paging-receivers.ts';
import { episodeId } from '../../src/alerts/episode.ts';

// Response times are enforced: a P1 page nobody acknowledges goes to the next tier when its time comes (recorded as a
// decision); an acknowledged one does not, while a notify tier (the business owner) is told either way. A P0 incident
// gets war-room updates on its cadence: status, what was tried (✓/✗), next step and an ETA that says where it comes
// from. Durations are shortened through the config; the waits are on conditions.
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const pdSigningSecret = `pdsec-${randomBytes(16).toString('hex')}`;
const rx = await pagingReceivers(secrets);

const service = createServer((_req, res) => {
  res.statusCode = 503;
  res.end('down');
});
await new Promise<void>((r) => service.listen(0, '127.0.0.1', () => r()));
t.teardown(() => service.close());
const health = `http://127.0.0.1:${(service.address() as { port: number }).port}/health`;

const ladder = (name: string, alertname: string, level: string) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ${name}, owner: sre }
spec:
  triggers: [{ matchers: ['alertname="${alertname}"'] }]
  onExhausted: { escalate: true, level: ${level}, targets: [pd] }
  rungs:
    - name: restart
      steps:
        - { id: page, action: escalate, with: { level: ${level}, targets: [pd], summary: "automation is trying" } }
        - { id: health, gate: http.check, with: { url: "${health}" }, interval: 100ms, timeout: 500ms, successes: 1 }
    - name: rollback
      steps:
        - { id: health-again, gate: http.check, with: { url: "${health}" }, interval: 100ms, timeout: 60s, successes: 1 }
`;
const svc = await startTestService({
  playbooks: { 'p1.yaml': ladder('p1-ladder', 'ServiceDown', 'P1'), 'p0.yaml': ladder('p0-ladder', 'CoreDown', 'P0') },
  overrides: (c) => {
    c.escalation = {
      targets: receiverTargets(rx, secrets),
      delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
      inbound: { pagerduty: { secrets: [pdSigningSecret] } },
      policy: {
        levels: {
          // Tier 1 (the tech lead's Opsgenie) after 2 s without an acknowledgement; the business owner (signed webhook) after 2.5 s whatever happens.
          P1: { response: '2s', tiers: [{ targets: ['og'] }, { targets: ['hook'], after: '2500ms', notify: true }], updateEvery: 'never' },
          // No tiers: P0's default one tells `business-owner` at the response time; no such target is configured here.
          P0: { updateEvery: '400ms', response: '1500ms' },
        },
      },
    };
  },
});

async function fire(alertname: string, before?: (episode: string) => Promise<void>): Promise<{ runId: string; episode: string }> {
  const body = await fixture('alertmanager/firing.json');
  const alert = body.alerts[0];
  alert.labels.alertname = alertname;
  alert.fingerprint = randomBytes(8).toString('hex');
  alert.labels.instance = alert.fingerprint;
  alert.startsAt = new Date().toISOString();
  await before?.(episodeId(alert.fingerprint, alert.startsAt));
  const res = await svc.post(body);
  const runId = res.body.alerts[0].runs[0].runId;
  const run = await svc.waitForRun(runId, (r) => Boolean(r.episodeId));
  await rx.pagerduty.waitFor((q) => q.some((r) => (r.body as any).dedup_key === `remediator-${run.episodeId}`), 5000, 'the first page');
  return { runId, episode: run.episodeId };
}

const hookEventsFor = (episode: string) => rx.webhook.events.filter((e) => e.dedupKey === `remediator-${episode}`);

t.test('not acknowledged within the response time: the next tier is paged and the step recorded', async (t) => {
  const { runId, episode } = await fire('ServiceDown');
  await rx.opsgenie.waitFor(() => rx.opsgenie.alerts.has(`remediator-${episode}`), 10_000, 'the tier-1 page');
  const created = rx.opsgenie.alerts.get(`remediator-${episode}`)!;
  t.equal(created.body.priority, 'P2', "tier 1 is paged at the incident's level (P1 → Opsgenie P2)");
  t.match(created.body.note ?? created.body.description, /Not acknowledged within 2s \(P1 response time 2s\): escalating to tier 1 \(og\)/);
  const run = await svc.waitForRun(runId, (r) => r.decisions.some((d: any) => d.reason === 'response_escalated'));
  t.match(run.decisions.find((d: any) => d.reason === 'response_escalated').message, /escalating to tier 1/);
  await rx.webhook.waitFor(() => hookEventsFor(episode).length > 0, 10_000, 'the business owner');
  t.equal(hookEventsFor(episode)[0]!.event, 'remediation.escalated');
  t.same([...rx.opsgenie.problems(), ...rx.webhook.problems(), ...rx.pagerduty.problems()], []);
});

t.test('acknowledged in time: no further tier is paged, the notify tier still informs the business owner', async (t) => {
  // The acknowledge is recorded before the page goes out, so it is certainly in before the tier's time (no race with
  // the clock); the tier reads it when its time comes.
  const { runId, episode } = await fire('ServiceDown', async (episode) => {
    const raw = JSON.stringify({
      event: {
        id: '01ACK',
        event_type: 'incident.acknowledged',
        resource_type: 'incident',
        agent: { id: 'PU1', type: 'user_reference', summary: 'Dana Oncall' },
        data: { id: 'Q1', type: 'incident', incident_key: `remediator-${episode}` },
      },
    });
    const res = await fetch(`${svc.url}/v1/hooks/pagerduty`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-pagerduty-signature': `v1=${createHmac('sha256', pdSigningSecret).update(raw).digest('hex')}`,
      },
      body: raw,
    });
    t.equal(res.status, 202);
  });
  // The notify tier is due after the paging tier: once the owner is told, the paging tier's time has passed too.
  await rx.webhook.waitFor(() => hookEventsFor(episode).length > 0, 10_000, 'the business owner');
  t.notOk(rx.opsgenie.alerts.has(`remediator-${episode}`), 'tier 1 was not paged');
  const run = await svc.waitForRun(runId, (r) => r.decisions.some((d: any) => d.reason === 'response_escalated'));
  const steps = run.decisions.filter((d: any) => d.reason === 'response_escalated');
  t.equal(steps.length, 1, 'only the notify tier is recorded');
  t.match(steps[0].message, /informing hook \(notify tier 2\); Dana Oncall is on it/);
});

t.test('P0 war-room cadence: status, what was tried, next step and a derived ETA', async (t) => {
  const { runId, episode } = await fire('CoreDown');
  // The first rung fails (its gate times out), so the update has something tried and something next.
  await svc.waitForRun(runId, (r) => (r.state?.rungs ?? []).some((g: any) => g.name === 'restart' && g.outcome === 'failed'));
  const updates = await rx.pagerduty.waitFor(
    (q) =>
      q.some(
        (r) =>
          (r.body as any).dedup_key === `remediator-${episode}` &&
          /Tried: ✗ restart/.test((r.body as any).payload?.custom_details?.latest_update ?? ''),
      ),
    10_000,
    'a war-room update after the first rung failed',
  );
  const note: string = updates
    .filter((r) => (r.body as any).dedup_key === `remediator-${episode}`)
    .map((r) => (r.body as any).payload?.custom_details?.latest_update ?? '')
    .find((n: string) => /Tried: ✗ restart/.test(n))!;
  t.match(note, /^War-room update \d+ \(P0, every 400ms\): status /);
  t.match(note, /Next: automation: rung "rollback"/);
  t.match(note, /ETA: by \S+Z at the latest if a remaining rung fixes it \(upper bound from the step deadlines of "rollback"/);
  await svc.api('POST', `/v1/runs/${runId}/cancel`, { reason: 'end of test' });
  await svc.waitForRun(runId, (r) => r.status === 'cancelled');
  const after = await rx.pagerduty.waitFor(
    (q) =>
      q.some(
        (r) =>
          (r.body as any).dedup_key === `remediator-${episode}` &&
          /Next: people: automation has nothing left to try/.test((r.body as any).payload?.custom_details?.latest_update ?? ''),
      ),
    10_000,
    'an update once automation stopped',
  );
  const last = after
    .filter((r) => (r.body as any).dedup_key === `remediator-${episode}`)
    .map((r) => (r.body as any).payload.custom_details.latest_update as string)
    .find((n) => /nothing left/.test(n))!;
  t.match(last, /ETA: unknown: automation has no rung left to try; recovery depends on the responders/);
  t.same(rx.pagerduty.problems(), []);
});

t.test('P0 without a business-owner target: the default notify tier is skipped, and the skip is on the incident', async (t) => {
  const { runId } = await fire('CoreDown');
  const run = await svc.waitForRun(runId, (r) => r.decisions.some((d: any) => d.reason === 'response_tier_skipped'), 15_000);
  t.match(
    run.decisions.find((d: any) => d.reason === 'response_tier_skipped').message,
    /^P0 incident open for 1\.5s: business-owner should be informed now \(default notify tier 1\), but no such escalation target is configured; add escalation\.targets\.business-owner or set escalation\.policy\.levels\.P0\.tiers$/,
  );
  t.notOk(
    run.decisions.some((d: any) => d.reason === 'response_escalated'),
    'nothing was sent for it',
  );
  await svc.api('POST', `/v1/runs/${runId}/cancel`, { reason: 'end of test' });
});

t.test('a configured tier naming a target that does not exist is refused at startup, naming the field', async (t) => {
  await t.rejects(
    startTestService({
      playbooks: {},
      overrides: (c) => {
        c.escalation = { targets: receiverTargets(rx, secrets), policy: { levels: { P1: { tiers: [{ targets: ['tech-lead'] }] } } } };
      },
    }),
    {
      code: 'REM_ERR_CONFIG_INVALID',
      message: /^escalation\.policy\.levels\.P1\.tiers\[0\]\.targets: unknown target\(s\) tech-lead \(configured: /,
    },
  );
});

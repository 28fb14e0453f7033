import t from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { startGuardedService } from '../guards/guard-harness.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';
import { episodeId } from '../../src/alerts/episode.ts';

// The Kubernetes side of "a human has taken over": on the simulated cluster (real client-node requests), a signed
// PagerDuty acknowledge stops a running ladder after its restart, so the scale-up rung never writes; an episode
// already acknowledged when its run starts is never changed at all (the guard refuses with human_ack); a forged
// acknowledge changes nothing.
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const signing = `pdsec-${randomBytes(16).toString('hex')}`;
const rx = await pagingReceivers(secrets);
const down = createServer((_req, res) => {
  res.statusCode = 503;
  res.end('down');
});
await new Promise<void>((r) => down.listen(0, '127.0.0.1', () => r()));
t.teardown(() => down.close());

const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: gateway-ladder }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  onExhausted: { escalate: true, level: P1, targets: [pd] }
  rungs:
    - name: restart
      steps:
        - { id: page, action: escalate, with: { level: P1, targets: [pd] } }
        - { id: restart, action: kube.rolloutRestart, with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" } }
        - { id: health, gate: http.check, with: { url: "http://127.0.0.1:${(down.address() as { port: number }).port}/health" }, interval: 100ms, timeout: 60s, successes: 1 }
    - name: scale-up
      steps:
        - { id: scale, action: kube.scale, with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", replicas: 3 } }
`;
const svc = await startGuardedService({
  playbooks: { 'ladder.yaml': playbook },
  overrides: (c) => {
    c.escalation = {
      targets: { pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url } },
      delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
      inbound: { pagerduty: { secrets: [signing] } },
    };
  },
});

async function acknowledge(episode: string, secret = signing): Promise<number> {
  const raw = JSON.stringify({
    event: {
      id: `01${randomBytes(6).toString('hex')}`,
      event_type: 'incident.acknowledged',
      resource_type: 'incident',
      agent: { id: 'PU7', type: 'user_reference', summary: 'Dana Oncall' },
      data: { id: 'Q7', type: 'incident', incident_key: `remediator-${episode}` },
    },
  });
  const res = await fetch(`${svc.url}/v1/hooks/pagerduty`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-pagerduty-signature': `v1=${createHmac('sha256', secret).update(raw).digest('hex')}`,
    },
    body: raw,
  });
  return res.status;
}

const scaled = (deployment: string) => svc.writesTo(deployment).filter((w) => w.path.endsWith('/scale') || /"replicas"/.test(w.body));

t.test('a forged acknowledge changes nothing; a signed one stops the ladder before the scale-up writes', async (t) => {
  const [runId] = await svc.fire(['phone-gateway'], new Date().toISOString());
  const run = await svc.waitForRun(runId!, (r) => (r.state?.steps ?? []).some((s: any) => s.id === 'restart' && s.status === 'succeeded'));
  t.ok(svc.writesTo('phone-gateway').length >= 1, 'the restart was written to the cluster');
  const before = svc.writesTo('phone-gateway').length;

  t.equal(await acknowledge(run.episodeId, `forged-${signing}`), 401);
  t.notOk(
    (await svc.api('GET', `/v1/runs/${runId}`)).body.decisions.some((d: any) => d.reason === 'human_ack'),
    'nothing recorded',
  );

  t.equal(await acknowledge(run.episodeId), 202);
  const ended = await svc.ended(runId!);
  t.equal(ended.status, 'cancelled');
  t.equal(ended.decisions.find((d: any) => d.reason === 'human_ack')?.by, 'Dana Oncall');
  t.equal(svc.writesTo('phone-gateway').length, before, 'no write to the deployment after the acknowledge');
  t.same(scaled('phone-gateway'), [], 'the scale-up rung never wrote');
});

t.test('an episode already acknowledged when its run starts: the guard refuses every mutation', async (t) => {
  const startsAt = new Date().toISOString();
  const body = svc.alerts(['realtime-processor'], startsAt) as any;
  const episode = episodeId(body.alerts[0].fingerprint, startsAt);
  t.equal(await acknowledge(episode), 202);
  const before = svc.writesTo('realtime-processor').length;
  const [runId] = await svc.fire(['realtime-processor'], startsAt);
  const ended = await svc.ended(runId!);
  t.equal(ended.status, 'skipped');
  t.match(
    ended.decisions.find((d: any) => d.reason === 'human_ack' && !d.by)?.message,
    /Dana Oncall has taken this incident over: automation changes nothing more/,
  );
  t.equal(svc.writesTo('realtime-processor').length, before, 'nothing was written');
});

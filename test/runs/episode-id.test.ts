import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startTestService, fixture, OPERATOR_TOKEN } from '../support/harness.ts';
import { pagingReceivers, receiverTargets, type ReceivedRequest } from '../support/paging-receivers.ts';

/**
 * One episode id everywhere: the webhook's answer, the run in the API (`episodeId`), the post-incident timeline and
 * every page (PagerDuty dedup_key, Opsgenie alias, Slack and webhook bodies) name the same episode.
 */
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);
const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: page-now }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  steps:
    - { id: page, action: escalate, with: { level: P1, targets: [pd, og, slack, hook], summary: "paged at once" } }
`;
const svc = await startTestService({
  playbooks: { 'page.yaml': playbook },
  overrides: (c) => {
    c.escalation = {
      targets: receiverTargets(rx, secrets),
      delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
    };
  },
});

const ofRun = (reqs: ReceivedRequest[], runId: string) => reqs.filter((r) => r.raw.includes(runId));
async function pagesOf(runId: string) {
  const [pd, og, slack, hook] = await Promise.all(
    [rx.pagerduty, rx.opsgenie, rx.slack, rx.webhook].map(
      async (r) => (await r.waitFor((q) => ofRun(q, runId).length >= 1, 10_000)).find((q) => ofRun([q], runId).length > 0)!.body as any,
    ),
  );
  return { pd, og, slack, hook };
}
async function timelineEpisode(runId: string): Promise<string | undefined> {
  const res = await fetch(`${svc.url}/v1/runs/${runId}/timeline`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  t.equal(res.status, 200);
  return /\| Episode \| `([^`]+)` \|/.exec(await res.text())?.[1];
}

t.test('an alert run: webhook answer, API, timeline and every page carry the same episode id', async (t) => {
  const res = await svc.post(await fixture('alertmanager/firing.json'));
  t.equal(res.status, 202);
  const fromWebhook = res.body.alerts[0].episode as string;
  const runId = res.body.alerts[0].runs[0].runId as string;
  const run = await svc.waitForRun(
    runId,
    (r) => r.status !== 'queued' && r.status !== 'running' && r.state?.steps?.[0]?.status === 'succeeded',
    10_000,
  );
  const fromApi = run.episodeId as string;
  t.match(fromApi, /^ep-/);
  t.equal(fromApi, fromWebhook, 'the API episodeId is the webhook answer episode');
  t.equal(await timelineEpisode(runId), fromApi, 'the timeline names it');

  const { pd, og, slack, hook } = await pagesOf(runId);
  t.equal(pd.dedup_key, `remediator-${fromApi}`, 'PagerDuty dedup_key');
  t.equal(pd.payload.custom_details.episode, fromApi, 'PagerDuty details name the episode');
  t.equal(og.alias, `remediator-${fromApi}`, 'Opsgenie alias');
  t.equal(og.details.episode, fromApi, 'Opsgenie details name the episode');
  t.match(JSON.stringify(slack), `episode ${fromApi}`, 'Slack names it');
  t.equal(hook.dedupKey, `remediator-${fromApi}`, 'webhook dedupKey');
  t.equal(hook.incident.episodeKey, fromApi, 'webhook incident report');
});

t.test('a manual run has no alert episode: the timeline and the pages name it by its run id', async (t) => {
  const started = await svc.api('POST', '/v1/playbooks/page-now/runs', { reason: 'page by hand' });
  t.equal(started.status, 202);
  const runId = started.body.id as string;
  t.equal(started.body.episodeId, undefined, 'the API shows no alert episode');
  await svc.waitForRun(runId, (r) => r.state?.steps?.[0]?.status === 'succeeded', 10_000);
  t.equal(await timelineEpisode(runId), runId);
  const { pd, hook } = await pagesOf(runId);
  t.equal(pd.dedup_key, `remediator-${runId}`);
  t.equal(hook.incident.episodeKey, runId);
});

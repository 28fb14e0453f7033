import { randomBytes } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import t from 'tap';
import { escalateAction } from '../../src/actions/escalate.ts';
import type { ActionContext, RunInfo } from '../../src/engine/step-definition.ts';
import type { StepServices } from '../../src/ports/step-services.ts';
import { DurableEscalator } from '../../src/escalation/durable-escalator.ts';
import type { IncidentReport } from '../../src/escalation/incident.ts';
import { episodeId } from '../../src/alerts/episode.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { AxiosHttpClient } from '../../src/http-client/axios-http-client.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';
import { redisForTest } from '../support/redis.ts';
import { serviceDownReport } from './report-fixture.ts';
import { escalatorDeps } from '../support/escalator-deps.ts';

const redis = await redisForTest();
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: randomBytes(16).toString('hex'),
  webhookSecret: randomBytes(16).toString('hex'),
};
const rx = await pagingReceivers(secrets);
let prefixes = 0;

const run: RunInfo = {
  id: 'run-7',
  playbook: 'service-down',
  dryRun: false,
  manual: false,
  alert: {
    status: 'firing',
    labels: { alertname: 'ServiceDown', severity: 'critical', service: 'realtime-processor', namespace: 'ai-ninja' },
    annotations: { summary: 'realtime-processor is down', runbook_url: 'https://docs.example.com/runbooks/service-down' },
    startsAt: '2026-03-01T09:00:00Z',
    fingerprint: `f${randomBytes(7).toString('hex')}0`,
  },
};

async function escalator(tt: { teardown(fn: () => unknown): void }, buildReport?: (run: RunInfo) => Promise<IncidentReport>) {
  const e = await DurableEscalator.start({
    ...escalatorDeps(redis.url, {
      targets: {
        pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url },
        slack: { type: 'slack', webhookUrl: rx.slack.url },
      },
      delivery: { backoff: '50ms', prefix: `a${++prefixes}` },
    }),
    ...(buildReport ? { buildReport } : {}),
  });
  tt.teardown(() => e.close());
  return e;
}

function context(params: Record<string, unknown>, services: Partial<StepServices>, r: RunInfo = run): ActionContext<any> {
  return {
    params,
    run: r,
    step: { id: 'page-oncall', attempt: 1, rung: 'escalate' },
    state: undefined,
    outputs: {},
    changes: [],
    signal: new AbortController().signal,
    log: silentLogger(),
    clock: systemClock,
    http: new AxiosHttpClient(),
    services: { limits: { maxReplicas: 10, applyKinds: [], manifestsDir: '.', fieldManager: 'remediator' }, ...services },
  };
}

t.test('without a report builder the step pages with a minimal report from the run', async (t) => {
  const e = await escalator(t);
  const before = rx.pagerduty.requests.length;
  const alert = { ...run.alert, fingerprint: `f${randomBytes(7).toString('hex')}1` };
  const r = { ...run, alert, episodeId: episodeId(alert.fingerprint, alert.startsAt) };
  const result = await escalateAction.run(context({ level: 'P1', summary: 'restart and rollback did not help' }, { escalation: e }, r));
  t.equal(result.status, 'ok');
  if (result.status !== 'ok') return;
  t.match(result.output, { episodeKey: r.episodeId, level: 'P1', enqueued: [{ target: 'pd', action: 'trigger' }] });
  t.equal(result.summary, 'escalated P1 to pd (trigger)', 'P1 pages only');
  const reqs = await rx.pagerduty.waitFor((q) => q.length >= before + 1);
  const ev = reqs.at(-1)!.body as any;
  t.equal(ev.payload.severity, 'error');
  t.equal(ev.payload.custom_details.latest_update, 'restart and rollback did not help');
  t.match(ev.payload.summary, /^\[P1\] ServiceDown on realtime-processor: realtime-processor is down/);
  t.same(
    ev.links.map((l: any) => l.text),
    ['Runbook'],
  );
  t.same(rx.pagerduty.problems(), []);
});

t.test("with the engine's report builder the page carries the whole story; the level comes from the labels", async (t) => {
  let asked: RunInfo | undefined;
  const e = await escalator(t, async (r) => {
    asked = r;
    return serviceDownReport({
      status: 'remediating',
      run: { id: r.id, playbook: r.playbook, url: `https://remediator.example.com/v1/runs/${r.id}` },
    });
  });
  const before = rx.slack.requests.length;
  const result = await escalateAction.run(context({}, { escalation: e }));
  t.equal(asked?.id, 'run-7', 'the builder got the run');
  t.equal(result.status, 'ok');
  if (result.status !== 'ok') return;
  t.same(
    (result.output!.enqueued as Array<{ target: string }>).map((x) => x.target).sort(),
    ['pd', 'slack'],
    'P0 from the report: page and Slack',
  );
  const msgs = await rx.slack.waitFor((q) => q.length >= before + 1);
  const text = (msgs.at(-1)!.body as { text: string }).text;
  t.match(text, /^🚨 \[CRITICAL\] ServiceDown .* a human is needed/, 'a remediating report is sent as escalated');
  t.match(text, /- \[X\] restart — failed: rollout did not become ready within 120s/);
  t.match(text, /Run: https:\/\/remediator\.example\.com\/v1\/runs\/run-7/);
});

t.test('refused without an escalation service, and its parameters are checked', async (t) => {
  await t.rejects(escalateAction.run(context({}, {})), { code: 'REM_ERR_DEPENDENCY_MISSING' });
  t.same(escalateAction.needs, ['escalation']);
  t.equal(escalateAction.mutates, undefined, 'not a mutating action');
  t.ok(Value.Check(escalateAction.params, { level: 'P2', targets: ['slack'], summary: 'x' }));
  t.notOk(Value.Check(escalateAction.params, { level: 'P5' }));
  t.notOk(Value.Check(escalateAction.params, { targets: [] }));
  t.notOk(Value.Check(escalateAction.params, { severity: 'critical' }));
});

t.test('status recovered: after a passed gate the message tells the verified fix as recovered, not as an escalation', async (t) => {
  const e = await escalator(t, async (r) =>
    serviceDownReport({ status: 'remediating', level: 'P2', run: { id: r.id, playbook: 'service-fleet' } }),
  );
  const before = rx.slack.requests.length;
  const summary =
    'ai-ninja: all 2 services restarted, each available, and Prometheus sees them up: ✅ phone-gateway; ✅ realtime-processor';
  const result = await escalateAction.run({
    ...context({ level: 'P2', status: 'recovered', targets: ['slack'], summary }, { escalation: e }),
    verified: true,
  });
  t.match(result, { status: 'ok', output: { status: 'recovered' }, summary: 'told the verified recovery (P2) to slack (trigger)' });
  const msgs = await rx.slack.waitFor((q) => q.length >= before + 1);
  const text = (msgs.at(-1)!.body as { text: string }).text;
  t.match(text, /^✅ \[WARNING\] ServiceDown .* — recovered\n/, 'the headline says recovered');
  t.match(text, /Current status: recovered and verified/);
  t.notMatch(text, /a human is needed|could not fix/, 'nothing in it reads as an escalation');
  t.match(text, `Update: ${summary}`, '✅ per service');

  // The same step where no gate passed: nothing is sent rather than a recovery nobody verified.
  const sent = rx.slack.requests.length;
  await t.rejects(
    escalateAction.run({
      ...context({ level: 'P2', status: 'recovered', targets: ['slack'], summary }, { escalation: e }),
      verified: false,
    }),
    { code: 'REM_ERR_STEP_FAILED', message: /no verification gate of this rung has passed/ },
  );
  t.equal(rx.slack.requests.length, sent);
});

t.test('status escalated (the default) still tells a hand-over', async (t) => {
  const e = await escalator(t, async (r) => serviceDownReport({ status: 'remediating', run: { id: r.id, playbook: 'service-fleet' } }));
  const before = rx.slack.requests.length;
  const result = await escalateAction.run({ ...context({ targets: ['slack'], summary: 'x' }, { escalation: e }), verified: true });
  t.match(result, { status: 'ok', output: { status: 'escalated' }, summary: /^escalated P0 to slack/ });
  const msgs = await rx.slack.waitFor((q) => q.length >= before + 1);
  t.match((msgs.at(-1)!.body as { text: string }).text, /a human is needed/);
});

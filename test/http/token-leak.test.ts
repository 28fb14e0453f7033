import t from 'tap';
import { Redis } from 'ioredis';
import { createHmac } from 'node:crypto';
import { startTestService, serviceDownPlaybook, fixture } from '../support/harness.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { slackApiReceiver } from '../support/slack-api-receiver.ts';

// Distinctive credentials, so any occurrence found is a leak and never a coincidence.
const WEBHOOK = 'wh-leakcheck-5f2e8a91c07d4b36';
const BASIC = { username: 'am-sender', password: 'basic-leakcheck-c41d9b7e' };
const OPS = {
  otto: { role: 'operator', token: 'op-leakcheck-otto-6a0f3d2e91b7' },
  april: { role: 'approver', token: 'op-leakcheck-april-b83c7e15d0a4' },
  vera: { role: 'viewer', token: 'op-leakcheck-vera-2d9a4f61c8e3' },
  adam: { role: 'admin', token: 'op-leakcheck-adam-e7b05c3a9f12' },
} as const;
const BASIC_HEADER = `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`;
// The Slack app's bot token and signing secret (escalation.targets.team, a slack-app target).
const SLACK = { token: 'xoxb-leakcheck-93c1e0f7b25a4d68', signingSecret: 'slacksign-leakcheck-4be90a17c3d2', member: 'U0APRIL001' };
// The provider hooks' credentials: the PagerDuty v3 signing secret and the Opsgenie header token.
const PD_SIGNING = 'pdsig-leakcheck-91ac3e7f05b2d6';
const OG_HOOK = 'oghook-leakcheck-4e8b1d0c7a95f3';
const PD_REST = 'pdrest-leakcheck-0b7d2c94e61a8f';
const SECRETS = [
  WEBHOOK,
  BASIC.password,
  BASIC_HEADER.slice(6),
  ...Object.values(OPS).map((o) => o.token),
  SLACK.token,
  SLACK.signingSecret,
  PD_SIGNING,
  OG_HOOK,
  PD_REST,
];
const slack = await slackApiReceiver(SLACK.token);

const logLines: string[] = [];
const approval = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: needs-approval }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  steps:
    - { id: risky, action: log, with: { message: "risky" }, approval: { timeout: 10m } }
`;
const svc = await startTestService({
  playbooks: { 'sd.yaml': serviceDownPlaybook(), 'approval.yaml': approval },
  log: createLogger({ level: 'trace', destination: { write: (line: string) => void logLines.push(line) } }),
  overrides: (c) => {
    c.auth = {
      webhook: { bearerTokens: [WEBHOOK], basic: BASIC },
      // With the harness's alice, whose token its waitForRun polls with.
      operators: [...c.auth.operators, ...Object.entries(OPS).map(([name, o]) => ({ name, ...o }))],
    };
    // The REST API for unkeyed incidents points at a closed port: the lookup fails, and its failure is logged.
    c.escalation = {
      targets: {
        team: {
          type: 'slack-app',
          token: SLACK.token,
          signingSecret: SLACK.signingSecret,
          channel: 'C0LEAKCHECK',
          apiUrl: slack.apiUrl,
          users: { [SLACK.member]: { name: 'april', role: 'approver' } },
        },
      },
      delivery: { backoff: '50ms' },
      inbound: {
        pagerduty: { secrets: [PD_SIGNING], apiToken: PD_REST, apiUrl: 'http://127.0.0.1:9' },
        opsgenie: { header: 'x-hook-token', token: OG_HOOK },
      },
    };
  },
});

/** Every answer the API gave, as text: bodies and headers. */
const answers: string[] = [];
async function call(
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(svc.url + path, {
    method,
    headers: {
      ...(options.auth ? { authorization: options.auth } : {}),
      ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await res.text();
  answers.push(`${method} ${path} ${res.status} ${JSON.stringify([...res.headers])} ${text}`);
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}
const as = (name: keyof typeof OPS) => `Bearer ${OPS[name].token}`;
const untilStatus = (id: string, status: string) => svc.waitForRun(id, (r) => r.status === status);

t.test('tokens appear nowhere: not in logs, Redis, metrics or any answer', async (t) => {
  const firing = await fixture('alertmanager/firing.json');
  // The webhook: accepted with either credential; refused with a wrong one, another audience's, a token without
  // its scheme word, a bad payload and bad JSON.
  const started = await call('POST', '/v1/alertmanager', { auth: `Bearer ${WEBHOOK}`, body: firing });
  t.equal(started.status, 202);
  t.equal((await call('POST', '/v1/alertmanager', { auth: BASIC_HEADER, body: firing })).status, 202);
  t.equal((await call('POST', '/v1/alertmanager', { auth: `Bearer ${WEBHOOK}x`, body: firing })).status, 401);
  t.equal((await call('POST', '/v1/alertmanager', { auth: as('adam'), body: firing })).status, 403);
  t.equal((await call('POST', '/v1/alertmanager', { auth: `${WEBHOOK} ${WEBHOOK}`, body: firing })).status, 401);
  t.equal(
    (
      await call('POST', '/v1/alertmanager', {
        auth: `Basic ${Buffer.from(`${BASIC.username}:${OPS.adam.token}`).toString('base64')}`,
        body: firing,
      })
    ).status,
    401,
  );
  t.equal((await call('POST', '/v1/alertmanager', { auth: `Bearer ${WEBHOOK}`, body: { ...firing, alerts: 'none' } })).status, 400);
  t.equal((await call('POST', '/v1/alertmanager', { auth: `Bearer ${WEBHOOK}`, raw: `{"receiver": "${WEBHOOK}"` })).status, 400);

  // The operator API: reads, a manual run, refusals of every kind, an approval, a rejection, cancel, retry, pauses,
  // reload, bad requests.
  t.equal((await call('GET', '/v1/runs', { auth: as('vera') })).status, 200);
  t.equal((await call('GET', '/v1/runs', { auth: `Bearer ${WEBHOOK}` })).status, 403);
  t.equal((await call('GET', '/v1/runs', { auth: `Bearer ${OPS.vera.token}0` })).status, 401);
  t.equal((await call('GET', '/v1/runs', { auth: OPS.vera.token })).status, 401);
  const a = await call('POST', '/v1/playbooks/needs-approval/runs', { auth: as('april'), body: { reason: 'approve me' } });
  t.equal(a.status, 202);
  t.equal(
    (
      await call('POST', '/v1/playbooks/needs-approval/runs', {
        auth: as('otto'),
        body: { reason: 'x', params: { token: OPS.otto.token } },
      })
    ).status,
    400,
    'an undeclared param is refused',
  );
  t.equal(
    (await call('POST', '/v1/playbooks/needs-approval/runs', { auth: as('vera'), body: { reason: 'not mine to start' } })).status,
    403,
  );
  await untilStatus(a.body.id, 'awaiting_approval');
  t.equal((await call('POST', `/v1/runs/${a.body.id}/approve`, { auth: as('otto'), body: { reason: 'not my role' } })).status, 403);
  t.equal(
    (await call('POST', `/v1/runs/${a.body.id}/approve`, { auth: as('april'), body: { reason: 'my own run' } })).body.code,
    'REM_ERR_SELF_APPROVAL',
  );
  t.equal((await call('POST', `/v1/runs/${a.body.id}/approve`, { auth: as('adam'), body: {} })).status, 400);
  t.equal((await call('POST', `/v1/runs/${a.body.id}/approve`, { auth: as('adam'), body: { reason: 'looks right' } })).status, 202);
  await untilStatus(a.body.id, 'completed');
  const b = await call('POST', '/v1/playbooks/needs-approval/runs', { auth: as('otto'), body: { reason: 'reject me' } });
  await untilStatus(b.body.id, 'awaiting_approval');
  t.equal((await call('POST', `/v1/runs/${b.body.id}/reject`, { auth: as('april'), body: { reason: 'not now' } })).status, 202);
  await untilStatus(b.body.id, 'skipped');
  const again = await call('POST', `/v1/runs/${b.body.id}/retry`, { auth: as('otto'), body: { reason: 'once more' } });
  t.equal(again.status, 202);
  t.equal((await call('POST', `/v1/runs/${again.body.id}/cancel`, { auth: as('otto'), body: { reason: 'by hand' } })).status, 202);
  // Slack: a click signed with the signing secret approves; a forged one and a stale one are refused.
  const c = await call('POST', '/v1/playbooks/needs-approval/runs', { auth: as('otto'), body: { reason: 'approve me in Slack' } });
  const waiting = await untilStatus(c.body.id, 'awaiting_approval');
  const slackClick = (secret: string, at = Date.now()) => {
    const payload = {
      type: 'block_actions',
      user: { id: SLACK.member },
      actions: [{ type: 'button', action_id: 'approve', value: `${c.body.id} ${waiting.state.approval.planHash}` }],
      response_url: slack.responseUrl(c.body.id),
    };
    const raw = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const ts = String(Math.floor(at / 1000));
    return {
      raw,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${raw}`).digest('hex')}`,
      },
    };
  };
  for (const [what, click, status] of [
    ['forged', slackClick(`${SLACK.signingSecret}x`), 401],
    ['stale', slackClick(SLACK.signingSecret, Date.now() - 600_000), 401],
    ['signed', slackClick(SLACK.signingSecret), 200],
  ] as const) {
    const res = await fetch(`${svc.url}/v1/slack/interactions`, { method: 'POST', headers: click.headers, body: click.raw });
    const text = await res.text();
    answers.push(`POST /v1/slack/interactions ${res.status} ${JSON.stringify([...res.headers])} ${text}`);
    t.equal(res.status, status, `a ${what} Slack click: ${status}`);
  }
  await untilStatus(c.body.id, 'completed');
  await slack.waitFor(() => slack.calls.some((x) => x.method === 'chat.update'), 10_000, 'the Slack message edited');
  answers.push(...slack.calls.map((x) => JSON.stringify(x.body)), ...slack.responses.map((x) => JSON.stringify(x.body)));
  const alertRun = started.body.alerts[0].runs[0].runId;
  t.equal((await call('GET', `/v1/runs/${alertRun}/timeline`, { auth: as('vera') })).status, 200);
  t.equal((await call('GET', '/v1/runs/no-such-run', { auth: as('vera') })).status, 404);
  t.equal((await call('POST', '/v1/pause', { auth: as('adam'), body: { scope: 'global', reason: 'change freeze' } })).status, 201);
  t.equal((await call('POST', '/v1/pause', { auth: as('april'), body: { scope: 'global', reason: 'not mine' } })).status, 403);
  t.equal((await call('DELETE', '/v1/pause', { auth: as('adam'), body: { scope: 'global', reason: 'freeze over' } })).status, 200);
  t.equal((await call('POST', '/v1/reload', { auth: as('adam') })).status, 200);
  t.equal((await call('POST', '/v1/pause', { auth: as('adam'), raw: '{"scope":' })).status, 400);
  t.equal((await call('GET', '/v1/nowhere', { auth: as('adam') })).status, 404);
  for (const path of ['/metrics', '/readyz', '/healthz', '/openapi.json']) t.equal((await call('GET', path)).status, 200);

  // The provider hooks: a signed PagerDuty acknowledge, then forged ones (another key, the secret itself as the
  // signature), an Opsgenie close with the right token and with near misses.
  const episode = started.body.alerts[0].episode;
  const pd = JSON.stringify({
    event: {
      id: '01LEAK',
      event_type: 'incident.acknowledged',
      agent: { type: 'user_reference', summary: 'Dana Oncall' },
      data: { incident_key: `remediator-${episode}` },
    },
  });
  const sign = (key: string) => `v1=${createHmac('sha256', key).update(pd).digest('hex')}`;
  t.equal((await call('POST', '/v1/hooks/pagerduty', { raw: pd, headers: { 'x-pagerduty-signature': sign(PD_SIGNING) } })).status, 202);
  t.equal(
    (await call('POST', '/v1/hooks/pagerduty', { raw: pd, headers: { 'x-pagerduty-signature': sign(`${PD_SIGNING}x`) } })).status,
    401,
  );
  t.equal((await call('POST', '/v1/hooks/pagerduty', { raw: pd, headers: { 'x-pagerduty-signature': `v1=${PD_SIGNING}` } })).status, 401);
  t.equal(
    (await call('POST', '/v1/hooks/pagerduty', { raw: `{"event":"${PD_SIGNING}"`, headers: { 'x-pagerduty-signature': sign(PD_SIGNING) } }))
      .status,
    400,
    'bad JSON is refused before anything is read',
  );
  const unkeyed = JSON.stringify({
    event: {
      id: '01LEAK2',
      event_type: 'incident.resolved',
      agent: { type: 'user_reference', summary: 'Dana Oncall' },
      data: { id: 'QLEAK', incident_key: null },
    },
  });
  const unkeyedAnswer = await call('POST', '/v1/hooks/pagerduty', {
    raw: unkeyed,
    headers: { 'x-pagerduty-signature': `v1=${createHmac('sha256', PD_SIGNING).update(unkeyed).digest('hex')}` },
  });
  t.equal(unkeyedAnswer.body.outcome, 'ignored', 'an unkeyed incident PagerDuty cannot be asked about is ignored');
  const og = JSON.stringify({
    action: 'Close',
    alert: { alias: `remediator-${episode}`, username: 'lee@example.com' },
    source: { name: '', type: 'web' },
  });
  t.equal((await call('POST', '/v1/hooks/opsgenie', { raw: og, headers: { 'x-hook-token': OG_HOOK } })).status, 202);
  t.equal((await call('POST', '/v1/hooks/opsgenie', { raw: og, headers: { 'x-hook-token': `${OG_HOOK}x` } })).status, 401);
  t.equal((await call('POST', '/v1/hooks/opsgenie', { raw: og, headers: { 'x-hook-token': OG_HOOK.slice(0, -1) } })).status, 401);

  // Everything the service wrote to Redis, whatever the key type.
  const redis = new Redis(svc.redis!.url);
  t.teardown(() => redis.quit());
  const dump: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string'
          ? await redis.get(key)
          : type === 'hash'
            ? await redis.hgetall(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'set'
                ? await redis.smembers(key)
                : type === 'zset'
                  ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : `unread type ${type}`;
      // Raw, not re-encoded: the values are mostly JSON already.
      dump.push(
        `${key} ${
          typeof value === 'string'
            ? value
            : Array.isArray(value)
              ? value.flat(2).join('\n')
              : Object.entries(value ?? {})
                  .flat()
                  .join('\n')
        }`,
      );
    }
  } while (cursor !== '0');

  // The places searched hold what they should (so an empty search cannot pass).
  const logs = logLines.join('');
  t.match(logs, /webhook refused/);
  t.match(logs, /operator refused: role too low/);
  t.match(logs, /pause set by adam/);
  t.match(logs, /Slack interaction refused/);
  t.match(logs, /PagerDuty webhook refused/);
  t.match(logs, /PagerDuty incident lookup failed/);
  t.ok(
    dump.some((d) => d.includes('"human_ack"') && d.includes('"by":"Dana Oncall"')),
    'the acknowledge is recorded, naming the person',
  );
  t.ok(
    dump.some((d) => d.includes('"approval_refused"') && d.includes('"by":"april"')),
    'the refused approval is recorded, naming april',
  );
  t.ok(
    dump.some((d) => d.includes('"reason":"approved","by":"adam"')),
    'the approval is recorded, naming adam',
  );
  t.ok(dump.length > 10, `Redis holds ${dump.length} keys`);
  t.ok(answers.length > 30);

  const places = { logs, redis: dump.join('\n'), answers: answers.join('\n') };
  for (const secret of SECRETS) {
    for (const [where, text] of Object.entries(places)) {
      t.notOk(text.includes(secret), `no ${secret.slice(0, 12)}… in ${where}`);
      t.notOk(text.includes(secret.slice(0, -1)), `nor that token minus its last character in ${where}`);
    }
  }
});

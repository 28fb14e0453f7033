import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertmanagerResolvedGate } from '../../src/gates/alertmanager-resolved.ts';
import { AlertmanagerHttpApi } from '../../src/gates/alertmanager-http-api.ts';
import { gates } from '../../src/gates/index.ts';
import { startAlertmanager } from '../../src/dev/alertmanager-process.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { AxiosHttpClient } from '../../src/http-client/axios-http-client.ts';
import { checkGate } from '../support/gate-context.ts';

/**
 * Against a real Alertmanager 0.25 (Debian's prometheus-alertmanager), started once for this file. Its webhook
 * receiver is a local server that records what Alertmanager delivers, with the bearer token it must carry.
 */
const webhooks: Array<{
  auth?: string;
  userAgent?: string;
  body: { version: string; status: string; alerts: Array<{ status: string; labels: Record<string, string> }> };
}> = [];
const receiver = createServer((req, res) => {
  let data = '';
  req.on('data', (c) => (data += c));
  req.on('end', () => {
    webhooks.push({ auth: req.headers.authorization, userAgent: req.headers['user-agent'], body: JSON.parse(data) });
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

const am = await startAlertmanager({
  webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/alertmanager`,
  bearerToken: 'am-token-123',
  groupBy: ['test_case'],
  fast: true,
});
t.teardown(() => am.stop());
const alertmanager = new AlertmanagerHttpApi({ baseUrl: am.url, http: new AxiosHttpClient() });

async function post(labels: Record<string, string>, endsAt: Date): Promise<void> {
  const res = await fetch(`${am.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      { labels, annotations: { summary: 'test' }, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: endsAt.toISOString() },
    ]),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`Alertmanager refused ${JSON.stringify(labels)}: HTTP ${res.status} ${text}`);
}
const inAnHour = () => new Date(Date.now() + 3_600_000);
const aSecondAgo = () => new Date(Date.now() - 1000);
const check = (labels: Record<string, string>, params: Record<string, unknown> = {}, fingerprint = '') =>
  checkGate(alertmanagerResolvedGate, params, { services: { alertmanager }, alert: { labels, fingerprint } });

t.test('is registered and needs an Alertmanager', async (t) => {
  t.equal(
    gates.find((g) => g.name === 'alertmanager.resolved'),
    alertmanagerResolvedGate,
  );
  await t.rejects(checkGate(alertmanagerResolvedGate, {}, { alert: { labels: { alertname: 'X' } } }), {
    code: 'REM_ERR_DEPENDENCY_MISSING',
  });
});

t.test('firing (endsAt in the future) does not pass; resolved (endsAt passed) does', async (t) => {
  const labels = { alertname: 'ServiceDown', namespace: 'shop', service: 'checkout', severity: 'critical', test_case: 'basic' };
  await post(labels, inAnHour());
  const firing = await check(labels);
  t.equal(firing.verdict, 'fail');
  t.match(firing.summary, /ServiceDown still active in Alertmanager/);
  t.match(firing.value, { active: 1, alerts: [{ labels, state: 'active' }] }, 'what Alertmanager said is recorded');
  const fingerprint = (firing.value as { alerts: Array<{ fingerprint: string }> }).alerts[0]!.fingerprint;
  t.match(fingerprint, /^[0-9a-f]{16}$/);

  await post(labels, aSecondAgo());
  const resolved = await check(labels);
  t.equal(resolved.verdict, 'pass');
  t.match(resolved.summary, /ServiceDown is no longer active/);
  t.match(resolved.value, { active: 0, alerts: [] });
});

t.test('the exact alert, not one with more labels, unless `labels` widens the match', async (t) => {
  const mine = { alertname: 'HighLatency', service: 'cart', test_case: 'exact' };
  await post({ ...mine, instance: 'pod-2' }, inAnHour());
  const o = await check(mine);
  t.equal(o.verdict, 'pass', 'another series (one more label) is not this alert');
  t.match(o.summary, /1 other alert\(s\) with more labels still active/);
  const wide = await check(mine, { labels: ['alertname', 'service'] });
  t.equal(wide.verdict, 'fail', 'any HighLatency for cart counts when asked');
  t.match(await check(mine, { labels: ['alertname', 'nope'] }), { verdict: 'fatal', summary: /no label nope/ });
  await post({ ...mine, instance: 'pod-2' }, aSecondAgo());
});

t.test('matches by fingerprint as well as by labels', async (t) => {
  const labels = { alertname: 'DiskFull', test_case: 'fingerprint' };
  await post(labels, inAnHour());
  const seen = await check(labels);
  const fingerprint = (seen.value as { alerts: Array<{ fingerprint: string }> }).alerts[0]!.fingerprint;
  // A run whose alert view carries a label Alertmanager dropped still finds it by fingerprint.
  const o = await check({ ...labels, extra: 'x' }, { labels: ['alertname', 'test_case'] }, fingerprint);
  t.equal(o.verdict, 'fail');
  const exact = await checkGate(
    alertmanagerResolvedGate,
    {},
    { services: { alertmanager }, alert: { labels: { ...labels }, fingerprint } },
  );
  t.equal(exact.verdict, 'fail');
  await post(labels, aSecondAgo());
  t.equal((await check(labels, {}, fingerprint)).verdict, 'pass');
});

t.test('label values with quotes, backslashes and newlines are matched exactly', async (t) => {
  const labels = { alertname: 'Weird', path: 'C:\\data "main"\nline2', test_case: 'escape' };
  await post(labels, inAnHour());
  const o = await check(labels);
  t.equal(o.verdict, 'fail', 'found through the escaped matcher');
  t.match(o.value, { active: 1 });
  await post(labels, aSecondAgo());
  t.equal((await check(labels)).verdict, 'pass');
});

t.test('a silenced alert still counts as active unless the playbook says otherwise', async (t) => {
  const labels = { alertname: 'Silenced', test_case: 'silence' };
  await post(labels, inAnHour());
  const res = await fetch(`${am.url}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: [{ name: 'test_case', value: 'silence', isRegex: false }],
      startsAt: new Date().toISOString(),
      endsAt: inAnHour().toISOString(),
      createdBy: 'test',
      comment: 'maintenance',
    }),
    signal: AbortSignal.timeout(5000),
  });
  t.equal(res.status, 200);
  await res.arrayBuffer();
  const o = await check(labels);
  t.equal(o.verdict, 'fail');
  t.match(o.summary, /silenced/);
  t.equal((await check(labels, { includeSilenced: false })).verdict, 'pass');
  await post(labels, aSecondAgo());
});

t.test('extra matchers narrow the match; a matcher Alertmanager refuses is fatal', async (t) => {
  const labels = { alertname: 'Narrow', severity: 'warning', test_case: 'matchers' };
  await post(labels, inAnHour());
  t.equal((await check(labels, { matchers: ['severity=~"warning|critical"'] })).verdict, 'fail');
  t.equal((await check(labels, { matchers: ['severity="critical"'] })).verdict, 'pass');
  const bad = await check(labels, { matchers: ['severity=~"("'] });
  t.equal(bad.verdict, 'fatal');
  t.equal(bad.statusCode, 400);
  await post(labels, aSecondAgo());
});

t.test('an unreachable Alertmanager is a fail, not a pass', async (t) => {
  const gone = new AlertmanagerHttpApi({ baseUrl: `http://127.0.0.1:${await freePort()}`, http: new AxiosHttpClient() });
  const o = await checkGate(alertmanagerResolvedGate, {}, { services: { alertmanager: gone }, alert: { labels: { alertname: 'X' } } });
  t.equal(o.verdict, 'fail');
  t.match(o.summary, /ECONNREFUSED/);
});

t.test('the harness Alertmanager delivers webhooks with the bearer token, firing then resolved', async (t) => {
  const labels = { alertname: 'Delivered', test_case: `webhook-${Date.now()}` };
  const ours = () => webhooks.filter((w) => w.body.alerts.some((a) => a.labels.test_case === labels.test_case));
  const until = async (n: number) => {
    const deadline = Date.now() + 5000;
    while (ours().length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  let started = Date.now();
  await post(labels, inAnHour());
  await until(1);
  t.comment(`firing webhook after ${Date.now() - started} ms`);
  t.equal(ours().length, 1);
  t.equal(ours()[0]?.auth, 'Bearer am-token-123');
  t.match(ours()[0]?.userAgent, /^Alertmanager\//);
  t.match(ours()[0]?.body, { version: '4', status: 'firing', alerts: [{ status: 'firing', labels }] });

  started = Date.now();
  await post(labels, aSecondAgo());
  await until(2);
  t.comment(`resolved webhook after ${Date.now() - started} ms`);
  t.equal(ours().length, 2, 'send_resolved is on');
  t.match(ours()[1]?.body, { status: 'resolved', alerts: [{ status: 'resolved' }] });
  t.equal(ours()[1]?.auth, 'Bearer am-token-123');
});

import t from 'tap';
import { startTestService, fixture, serviceDownPlaybook, WEBHOOK_TOKEN } from '../support/harness.ts';
import { Redis } from 'ioredis';

const svc = await startTestService({ playbooks: { 'sd.yaml': serviceDownPlaybook() }, overrides: (c) => (c.server.bodyLimit = 64 * 1024) });
const firing = await fixture('alertmanager/firing.json');
const redis = new Redis(svc.redis!.url);
t.teardown(() => redis.quit());
// What an accepted webhook writes: episodes, runs, their indexes and decisions. Not every key of the prefix: the
// worker's stalled-jobs check and the sweeper keep short-lived keys that come and go on their own.
const keyCount = async () =>
  (await Promise.all(['episode:*', 'run:*', 'runs', 'runs-queued'].map((p) => redis.keys(`${svc.config.redis.prefix}:${p}`)))).flat()
    .length;

t.test('a missing or wrong token gets 401 and nothing is stored', async (t) => {
  const before = await keyCount();
  const none = await svc.post(firing, { authorization: '' });
  t.equal(none.status, 401);
  t.equal(none.body.code, 'REM_ERR_UNAUTHORIZED');
  const wrong = await svc.post(firing, { authorization: 'Bearer not-the-token-at-all-000' });
  t.equal(wrong.status, 401);
  const basic = await svc.post(firing, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
  t.equal(basic.status, 401);
  t.equal(await keyCount(), before, 'no key written');
});

t.test('the operator API refuses the webhook token, and the webhook refuses operator tokens', async (t) => {
  const res = await fetch(`${svc.url}/v1/runs`, { headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` } });
  t.equal(res.status, 403);
  t.match(((await res.json()) as any).message, /webhook tokens are not accepted/);
  const op = await svc.post(firing, { authorization: 'Bearer test-operator-token-0123456789' });
  t.equal(op.status, 403, 'a valid token of the other audience is a 403, as on the operator API');
  t.match(op.body.message, /operator tokens are not accepted by the webhook/);
});

t.test('bad payloads get a 4xx that says what is wrong, and store nothing', async (t) => {
  const before = await keyCount();
  const malformed = await svc.post('{"version": "4", ', {});
  t.equal(malformed.status, 400);
  t.equal(malformed.body.code, 'REM_ERR_PAYLOAD_INVALID');
  t.match(malformed.body.message, /JSON/i);

  const wrongVersion = await svc.post({ ...firing, version: '3' });
  t.equal(wrongVersion.status, 400);
  t.match(wrongVersion.body.message, /body\.version: must be "4"/);

  const { alerts: _a, ...noAlerts } = firing;
  const missing = await svc.post(noAlerts);
  t.equal(missing.status, 400);
  t.match(missing.body.message, /alerts/);

  const badAlert = structuredClone(firing);
  delete badAlert.alerts[0].fingerprint;
  badAlert.alerts[0].startsAt = 'yesterday';
  const bad = await svc.post(badAlert);
  t.equal(bad.status, 400);
  t.match(bad.body.message, /alerts\[0\].*fingerprint/);
  t.match(bad.body.message, /alerts\[0\]\.startsAt/);

  const big = structuredClone(firing);
  big.alerts[0].annotations.description = 'x'.repeat(100 * 1024);
  const tooBig = await svc.post(big);
  t.equal(tooBig.status, 413);
  t.equal(tooBig.body.code, 'REM_ERR_BODY_TOO_LARGE');

  const text = await fetch(`${svc.url}/v1/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'text/plain' },
    body: 'hello',
  });
  t.equal(text.status, 400);
  t.equal(((await text.json()) as any).code, 'REM_ERR_PAYLOAD_INVALID');
  t.equal(await keyCount(), before, 'nothing stored for any of them');
});

t.test('fields newer than the docs are accepted (notification_reason, routeLabels)', async (t) => {
  const newer = { ...structuredClone(firing), notification_reason: 'first notification', routeLabels: { team: 'sre' } };
  newer.alerts[0].startsAt = '2026-11-25T14:00:00.000Z';
  const res = await svc.post(newer);
  t.equal(res.status, 202);
  t.equal(res.body.alerts[0].decision, 'started');
});

t.test('Redis down: 503 so Alertmanager retries, then the retry lands once', async (t) => {
  const outage = structuredClone(firing);
  outage.alerts[0].startsAt = '2026-11-25T15:00:00.000Z';
  await svc.redis!.kill(true);
  const down = await svc.post(outage);
  t.equal(down.status, 503, 'never 429, never 2xx without a durable write');
  t.equal(down.body.code, 'REM_ERR_STORE_UNAVAILABLE');
  const ready = await fetch(`${svc.url}/readyz`);
  t.equal(ready.status, 503);
  await svc.redis!.start();
  // ioredis reconnects on its own; Alertmanager's retry comes within seconds.
  let retried: Awaited<ReturnType<typeof svc.post>> | undefined;
  for (let i = 0; i < 60; i++) {
    retried = await svc.post(outage);
    if (retried.status === 202) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(retried!.status, 202);
  // Retries that hit a half-reconnected Redis may have stored the run before failing to queue it; the next retry
  // completes the job. Either way: exactly one run for the episode, and it runs to the end.
  const again = await svc.post(outage);
  t.equal(again.body.alerts[0].decision, 'deduplicated');
  const runId = again.body.alerts[0].runs[0].runId;
  t.equal(retried!.body.alerts[0].runs[0].runId, runId);
  const list = await svc.api('GET', '/v1/runs?playbook=service-down-basic&limit=100');
  t.equal(list.body.runs.filter((r: any) => r.alert.startsAt === outage.alerts[0].startsAt).length, 1, 'one run for the episode');
  const run = await svc.waitForRun(runId, (r) => r.status === 'completed');
  t.equal(run.state.steps.filter((s: any) => s.id === 'note').length, 1, 'its steps ran once');
});

import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertmanagerResolvedGate } from '../../src/gates/alertmanager-resolved.ts';
import { AlertmanagerHttpApi } from '../../src/gates/alertmanager-http-api.ts';
import { formatMatcher } from '../../src/ports/alertmanager-api.ts';
import { AxiosHttpClient } from '../../src/http-client/axios-http-client.ts';
import { checkGate } from '../support/gate-context.ts';

/**
 * The Alertmanager port against recorded `/api/v2/alerts` answers (real Alertmanager 0.25 captures in
 * test/gates/fixtures/alertmanager, from the shared fixtures) and against the failures a real one rarely produces
 * on demand: a 503 from a proxy, a body that is not a list, a request that hangs.
 */
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/alertmanager/${name}.json`, import.meta.url), 'utf8');
let answer: { status: number; type: string; body: string } | 'hang' = {
  status: 200,
  type: 'application/json',
  body: fixture('api-v2-alerts-firing'),
};
const seen: Array<{ url: string; auth?: string }> = [];
const server = createServer((req, res) => {
  seen.push({ url: req.url!, auth: req.headers.authorization });
  if (answer === 'hang') return;
  res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
const alertmanager = new AlertmanagerHttpApi({
  baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  http: new AxiosHttpClient(),
  auth: { type: 'bearer', token: 'read-token' },
});
const labels = {
  alertname: 'ServiceDown',
  deployment: 'phone-gateway',
  instance: '127.0.0.1:18080',
  job: 'phone-gateway',
  namespace: 'ai-ninja',
  service: 'phone-gateway',
  severity: 'critical',
};
const check = (options: { fingerprint?: string; labels?: Record<string, string> } = {}) =>
  checkGate(
    alertmanagerResolvedGate,
    {},
    { services: { alertmanager }, alert: { labels: options.labels ?? labels, fingerprint: options.fingerprint ?? '2f64f209b35b0a10' } },
  );

t.test('a recorded firing answer keeps the gate failing; the empty one passes it', async (t) => {
  answer = { status: 200, type: 'application/json', body: fixture('api-v2-alerts-firing') };
  seen.length = 0;
  const o = await check();
  t.equal(o.verdict, 'fail');
  t.match(o.summary, /ServiceDown still active in Alertmanager \(since 2026-11-25T12:10:26.941Z\)/);
  t.match(o.value, { active: 1, alerts: [{ fingerprint: '2f64f209b35b0a10', state: 'active' }] });

  const q = new URL(seen[0]!.url, 'http://x').searchParams;
  t.equal(seen[0]!.auth, 'Bearer read-token');
  t.same(
    q.getAll('filter').sort(),
    Object.entries(labels)
      .map(([k, v]) => formatMatcher(k, v))
      .sort(),
    'one equality matcher per label',
  );
  t.equal(q.get('active'), 'true');
  t.equal(q.get('silenced'), 'true');

  t.equal(
    (await check({ fingerprint: 'ffffffffffffffff', labels: { ...labels, pod: 'x' } })).verdict,
    'pass',
    'neither the fingerprint nor the label set is ours',
  );
  answer = { status: 200, type: 'application/json', body: fixture('api-v2-alerts-none') };
  t.equal((await check()).verdict, 'pass');
});

t.test('a 503 or a body that is not a list is a fail with the reason', async (t) => {
  answer = { status: 503, type: 'text/plain', body: 'upstream connect error' };
  t.match(await check(), { verdict: 'fail', statusCode: 503, summary: /503 .*upstream connect error/ });
  answer = { status: 200, type: 'text/html', body: '<html>login</html>' };
  t.match(await check(), { verdict: 'fail', summary: /not a list of alerts/ });
});

t.test('a cancelled run aborts the request instead of recording an observation', async (t) => {
  answer = 'hang';
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('worker shutting down')), 50);
  await t.rejects(
    checkGate(alertmanagerResolvedGate, {}, { services: { alertmanager }, alert: { labels }, signal: ac.signal }),
    /worker shutting down/,
  );
});

t.test('matchers quote and escape values the way Alertmanager parses them', async (t) => {
  t.equal(formatMatcher('path', 'C:\\x "y"\nz'), 'path="C:\\\\x \\"y\\"\\nz"');
  t.equal(formatMatcher('severity', 'critical|page', '=~'), 'severity=~"critical|page"');
  t.throws(() => formatMatcher('bad-name', 'x'));
});

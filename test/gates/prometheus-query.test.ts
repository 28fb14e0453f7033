import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prometheusQueryGate } from '../../src/gates/prometheus-query.ts';
import { PrometheusHttpApi } from '../../src/gates/prometheus-http-api.ts';
import { gates } from '../../src/gates/index.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { AxiosHttpClient } from '../../src/http-client/axios-http-client.ts';
import { ManualClock } from '../../src/ports/clock.ts';
import { checkGate } from '../support/gate-context.ts';

/**
 * A stand-in Prometheus HTTP endpoint: each test query maps to a scripted answer. The `up`/`ALERTS` answers are
 * real Prometheus captures (test/gates/fixtures/prometheus, from the shared fixtures); the others are written by
 * hand in the shapes `/api/v1/query` documents.
 */
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/prometheus/${name}.json`, import.meta.url), 'utf8');
const json = (body: unknown, status = 200) => ({
  status,
  type: 'application/json',
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const vector = (...values: Array<string | [Record<string, string>, string]>) =>
  json({
    status: 'success',
    data: {
      resultType: 'vector',
      result: values.map((v, i) =>
        typeof v === 'string'
          ? { metric: { __name__: 'm', i: String(i) }, value: [1795608625.1, v] }
          : { metric: v[0], value: [1795608625.1, v[1]] },
      ),
    },
  });

const answers: Record<string, { status: number; type: string; body: string }> = {
  'up{job="phone-gateway"}': json(fixture('query-up-healthy')),
  'up{job="phone-gateway"} == 0': json(fixture('query-up-down')),
  up_down_raw: json(fixture('query-up-down')),
  'ALERTS{alertstate="firing"}': json(fixture('query-ALERTS-down')),
  'ALERTS{alertstate="firing",cleared="yes"}': json(fixture('query-ALERTS-healthy')),
  half: vector('0.5'),
  two: vector('0.01', '0.2'),
  nan: vector('NaN'),
  inf: vector('+Inf'),
  neginf: vector('-Inf'),
  tiny: vector('1e-07'),
  nothing: vector(),
  scalar3: json({ status: 'success', data: { resultType: 'scalar', result: [1795608625.1, '3'] } }),
  matrix: json({
    status: 'success',
    data: { resultType: 'matrix', result: [{ metric: { __name__: 'up' }, values: [[1795608625.1, '1']] }] },
  }),
  string: json({ status: 'success', data: { resultType: 'string', result: [1795608625.1, 'hello'] } }),
  'sum(rate(x[5m]) by (': json(
    { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:20: parse error: unclosed left parenthesis' },
    400,
  ),
  slow: json({ status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }, 503),
  proxy: { status: 502, type: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' },
  warned: json({
    status: 'success',
    warnings: ['PromQL info: metric might not be a counter'],
    data: { resultType: 'vector', result: [{ metric: {}, value: [1, '1'] }] },
  }),
};

const requests: Array<{ method?: string; type?: string; auth?: string; form: URLSearchParams }> = [];
const server = createServer((req, res) => {
  let data = '';
  req.on('data', (c) => (data += c));
  req.on('end', () => {
    const form = new URLSearchParams(data);
    requests.push({ method: req.method, type: req.headers['content-type'], auth: req.headers.authorization, form });
    const a = req.url === '/api/v1/query' ? answers[form.get('query') ?? ''] : undefined;
    if (!a) return void res.writeHead(404).end('not found');
    res.writeHead(a.status, { 'content-type': a.type }).end(a.body);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
const prometheus = new PrometheusHttpApi({
  baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
  http: new AxiosHttpClient(),
});
const services = { prometheus };
const check = (params: Record<string, unknown>, options: Parameters<typeof checkGate>[2] = {}) =>
  checkGate(prometheusQueryGate, params, { services, ...options });

t.test('is registered and needs a Prometheus', async (t) => {
  t.equal(
    gates.find((g) => g.name === 'prometheus.query'),
    prometheusQueryGate,
  );
  t.same(prometheusQueryGate.needs, ['prometheus']);
  await t.rejects(checkGate(prometheusQueryGate, { query: 'up', expect: 'nonEmpty' }), { code: 'REM_ERR_DEPENDENCY_MISSING' });
});

t.test('real captures: up healthy and down, ALERTS firing and cleared', async (t) => {
  const healthy = await check({ query: 'up{job="phone-gateway"}', expect: { op: '==', value: 1 } });
  t.equal(healthy.verdict, 'pass');
  t.equal(healthy.summary, 'up{instance="127.0.0.1:18080",job="phone-gateway"} = 1, expected == 1');
  t.match(healthy.value, { resultType: 'vector', series: 1, samples: [{ labels: { job: 'phone-gateway' }, value: '1' }] });

  const down = await check({ query: 'up_down_raw', expect: { op: '==', value: 1 } });
  t.equal(down.verdict, 'fail');
  t.match(down.summary, /= 0, expected == 1/);

  t.equal((await check({ query: 'up{job="phone-gateway"} == 0', expect: 'empty' })).verdict, 'fail', 'the down series is still there');
  t.equal((await check({ query: 'ALERTS{alertstate="firing"}', expect: 'empty' })).verdict, 'fail');
  t.equal((await check({ query: 'ALERTS{alertstate="firing",cleared="yes"}', expect: 'empty' })).verdict, 'pass');
  t.equal(
    (await check({ query: 'ALERTS{alertstate="firing",cleared="yes"}', expect: 'nonEmpty' })).verdict,
    'fail',
    'an empty vector is not "non-empty"',
  );
  t.equal((await check({ query: 'up{job="phone-gateway"}', expect: 'nonEmpty' })).verdict, 'pass');
});

t.test('every comparison op against a sample of 0.5', async (t) => {
  const table: Array<[string, number, 'pass' | 'fail']> = [
    ['<', 1, 'pass'],
    ['<', 0.5, 'fail'],
    ['<=', 0.5, 'pass'],
    ['<=', 0.4, 'fail'],
    ['>', 0.4, 'pass'],
    ['>', 0.5, 'fail'],
    ['>=', 0.5, 'pass'],
    ['>=', 0.6, 'fail'],
    ['==', 0.5, 'pass'],
    ['==', 1, 'fail'],
    ['!=', 1, 'pass'],
    ['!=', 0.5, 'fail'],
  ];
  for (const [op, value, verdict] of table) {
    t.equal((await check({ query: 'half', expect: { op, value } })).verdict, verdict, `0.5 ${op} ${value}`);
  }
});

t.test('aggregate: all samples by default, any when asked', async (t) => {
  const all = await check({ query: 'two', expect: { op: '<', value: 0.05 } });
  t.equal(all.verdict, 'fail');
  t.match(all.summary, /1 of 2 series < 0.05 \(all required\)/);
  t.equal((await check({ query: 'two', expect: { op: '<', value: 0.05, aggregate: 'any' } })).verdict, 'pass');
  t.equal((await check({ query: 'two', expect: { op: '<', value: 1, aggregate: 'all' } })).verdict, 'pass');
});

t.test('NaN never satisfies a comparison; infinities compare as infinities', async (t) => {
  for (const op of ['<', '<=', '>', '>=', '==', '!=']) {
    t.equal((await check({ query: 'nan', expect: { op, value: 0 } })).verdict, 'fail', `NaN ${op} 0`);
  }
  t.equal((await check({ query: 'inf', expect: { op: '>', value: 1e308 } })).verdict, 'pass', '+Inf > 1e308');
  t.equal((await check({ query: 'inf', expect: { op: '<', value: 1 } })).verdict, 'fail', '+Inf is not < 1 (Number("+Inf") would be NaN)');
  t.equal((await check({ query: 'neginf', expect: { op: '<', value: -1e308 } })).verdict, 'pass', '-Inf < -1e308');
  t.equal((await check({ query: 'tiny', expect: { op: '>', value: 0 } })).verdict, 'pass', 'exponent spelling 1e-07');
  t.equal((await check({ query: 'tiny', expect: { op: '<', value: 0.000001 } })).verdict, 'pass');
});

t.test('no data never passes by accident', async (t) => {
  const o = await check({ query: 'nothing', expect: { op: '<', value: 1 } });
  t.equal(o.verdict, 'nodata');
  t.match(o.summary, /no series/);
  t.equal((await check({ query: 'nothing', expect: { op: '<', value: 1 }, noData: 'fail' })).verdict, 'fail');
  t.equal(
    (await check({ query: 'nothing', expect: { op: '<', value: 1 }, noData: 'pass' })).verdict,
    'pass',
    'only when the playbook says so',
  );
  t.equal((await check({ query: 'nothing', expect: 'empty' })).verdict, 'pass', 'for `empty`, no series is the condition itself');
});

t.test('scalar results are compared; matrix and string results are fatal', async (t) => {
  const s = await check({ query: 'scalar3', expect: { op: '>', value: 2 } });
  t.equal(s.verdict, 'pass');
  t.match(s.summary, /scalar = 3/);
  t.equal((await check({ query: 'scalar3', expect: { op: '<', value: 2 } })).verdict, 'fail');
  t.equal(
    (await check({ query: 'scalar3', expect: 'nonEmpty' })).verdict,
    'fatal',
    'a scalar is never empty, so empty/nonEmpty cannot judge it',
  );
  t.match(await check({ query: 'matrix', expect: 'nonEmpty' }), { verdict: 'fatal', summary: /matrix/ });
  t.match(await check({ query: 'string', expect: 'nonEmpty' }), { verdict: 'fatal', summary: /string/ });
});

t.test('errors: bad_data is fatal; timeout, a proxy 502 and an unreachable Prometheus are fails with the reason', async (t) => {
  const bad = await check({ query: 'sum(rate(x[5m]) by (', expect: 'empty' });
  t.equal(bad.verdict, 'fatal');
  t.match(bad.summary, /bad_data: .*parse error/);
  t.equal(bad.statusCode, 400);

  const slow = await check({ query: 'slow', expect: 'empty' });
  t.equal(slow.verdict, 'fail');
  t.match(slow.summary, /timeout: query timed out/);
  t.equal(slow.statusCode, 503);

  const proxy = await check({ query: 'proxy', expect: 'empty' });
  t.equal(proxy.verdict, 'fail');
  t.match(proxy.summary, /HTTP 502: <html><body><h1>502 Bad Gateway/);

  const gone = new PrometheusHttpApi({ baseUrl: `http://127.0.0.1:${await freePort()}`, http: new AxiosHttpClient() });
  const refused = await checkGate(prometheusQueryGate, { query: 'up', expect: 'nonEmpty' }, { services: { prometheus: gone } });
  t.equal(refused.verdict, 'fail');
  t.match(refused.summary, /network: .*ECONNREFUSED/);
});

t.test('warnings are recorded with the observation', async (t) => {
  const o = await check({ query: 'warned', expect: 'nonEmpty' });
  t.equal(o.verdict, 'pass');
  t.match(o.value, { warnings: ['PromQL info: metric might not be a counter'] });
  t.match(o.summary, /warnings: PromQL info/);
});

t.test('stabilization: the condition must hold on every poll for the whole window', async (t) => {
  const clock = new ManualClock();
  // State carried between polls as the engine carries it: a poll that returns no state keeps the last one.
  let state: unknown;
  const poll = async (params: Record<string, unknown>) => {
    const o = await check(params, { clock, state });
    if (o.state !== undefined) state = o.state;
    return o;
  };
  const params = { query: 'half', expect: { op: '<', value: 1 }, stabilization: '30s' };
  let o = await poll(params);
  t.equal(o.verdict, 'fail', 'holding, but only just started');
  t.match(o.summary, /holding for 0ms of 30s/);
  clock.advance(20_000);
  o = await poll(params);
  t.equal(o.verdict, 'fail');
  t.match(o.summary, /holding for 20s of 30s/);

  // One poll where the condition does not hold starts the window again.
  clock.advance(5_000);
  t.equal((await poll({ ...params, query: 'two', expect: { op: '<', value: 0.05 } })).verdict, 'fail');
  clock.advance(10_000);
  o = await poll(params);
  t.match(o.summary, /holding for 0ms of 30s/, 'the window restarted');
  clock.advance(29_999);
  t.equal((await poll(params)).verdict, 'fail');
  clock.advance(1);
  o = await poll(params);
  t.equal(o.verdict, 'pass');
  t.match(o.summary, /held for 30s/);

  // No data and errors break the window too.
  clock.advance(1000);
  t.equal((await poll({ ...params, query: 'nothing' })).verdict, 'nodata');
  clock.advance(1000);
  t.match(await poll(params), { verdict: 'fail', summary: /holding for 0ms of 30s/ });
  clock.advance(40_000);
  t.equal((await poll(params)).verdict, 'pass');
  clock.advance(1000);
  t.equal((await poll({ ...params, query: 'slow' })).verdict, 'fail');
  clock.advance(1000);
  t.match(await poll(params), { verdict: 'fail', summary: /holding for 0ms of 30s/ });
});

t.test('the query goes out as a form POST with the timeout, and with credentials when configured', async (t) => {
  const withAuth = new PrometheusHttpApi({
    baseUrl: prometheus.baseUrl,
    http: new AxiosHttpClient(),
    auth: { type: 'basic', username: 'gate', password: 's3cret' },
  });
  requests.length = 0;
  await checkGate(prometheusQueryGate, { query: 'half', expect: 'nonEmpty', timeout: '2s' }, { services: { prometheus: withAuth } });
  const seen = requests[0]!;
  t.equal(seen.method, 'POST');
  t.equal(seen.type, 'application/x-www-form-urlencoded');
  t.equal(seen.form.get('query'), 'half');
  t.equal(seen.form.get('timeout'), '2000ms');
  t.equal(seen.auth, `Basic ${Buffer.from('gate:s3cret').toString('base64')}`);

  const bearer = new PrometheusHttpApi({
    baseUrl: prometheus.baseUrl,
    http: new AxiosHttpClient(),
    auth: { type: 'bearer', token: 'tok' },
  });
  requests.length = 0;
  const r = await bearer.query('half', {
    signal: AbortSignal.timeout(5000),
    timeoutMs: 1000,
    time: Date.parse('2026-01-01T00:00:00.250Z'),
  });
  t.equal(r.status, 'success');
  t.equal(requests[0]?.auth, 'Bearer tok');
  t.equal(requests[0]?.form.get('time'), '1767225600.250');
});

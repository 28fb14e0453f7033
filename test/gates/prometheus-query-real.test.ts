import t from 'tap';
import { createServer } from 'node:http';
import type { Observation } from '../../src/engine/step-definition.ts';
import { prometheusQueryGate } from '../../src/gates/prometheus-query.ts';
import { PrometheusHttpApi } from '../../src/gates/prometheus-http-api.ts';
import { startPrometheus } from '../../src/dev/prometheus-process.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { AxiosHttpClient } from '../../src/http-client/axios-http-client.ts';
import { checkGate, pollGate } from '../support/gate-context.ts';

/**
 * `prometheus.query` against a real Prometheus 2.42 (Debian's package, fast profile, started once for this file)
 * scraping a small local service that the test stops and starts again on the same port.
 */
const port = await freePort();
const service = createServer((req, res) => {
  if (req.url !== '/metrics') return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('# TYPE checkout_ready gauge\ncheckout_ready 1\n');
});
const listen = () => new Promise<void>((resolve) => service.listen(port, '127.0.0.1', resolve));
const close = () =>
  new Promise<void>((resolve) => {
    service.close(() => resolve());
    service.closeAllConnections(); // Prometheus keeps its scrape connection alive
  });
await listen();
t.teardown(() => (service.listening ? close() : undefined));

const prom = await startPrometheus({ fast: true, scrapeTargets: [{ job: 'checkout', targets: [`127.0.0.1:${port}`] }] });
t.teardown(() => prom.stop());
await prom.waitFor('up{job="checkout"} == 1', 20_000);

const prometheus = new PrometheusHttpApi({ baseUrl: prom.url, http: new AxiosHttpClient() });
const services = { prometheus };
const healthy = { query: 'up{job="checkout"} == 1', expect: 'nonEmpty' };
const threshold = { query: 'up{job="checkout"}', expect: { op: '==', value: 1 } };
const poll = (params: Record<string, unknown>, verdict: Observation['verdict']) =>
  pollGate(prometheusQueryGate, params, (o) => o.verdict === verdict, { services, timeoutMs: 5000, intervalMs: 50 });

t.test('passes while the service is scraped, fails once it stops, passes again after it restarts', async (t) => {
  // Polled rather than read once: on a busy machine one scrape can miss its timeout (the fast profile's is 500 ms),
  // and for that moment Prometheus rightly reports the target down.
  t.equal((await poll(healthy, 'pass')).at(-1)?.verdict, 'pass');
  const up = (await poll(threshold, 'pass')).at(-1)!;
  t.equal(up.verdict, 'pass');
  t.match(up.summary, /^up\{instance="127\.0\.0\.1:\d+",job="checkout"\} = 1, expected == 1$/);

  let started = Date.now();
  await close();
  const down = await poll(healthy, 'fail');
  t.equal(down.at(-1)?.verdict, 'fail', 'the gate fails once Prometheus sees the target down');
  t.match(down.at(-1)?.summary, /no series, expected at least one series/);
  const downThreshold = await checkGate(prometheusQueryGate, threshold, { services });
  t.equal(downThreshold.verdict, 'fail');
  t.match(downThreshold.summary, /= 0, expected == 1/);
  t.comment(`down seen after ${Date.now() - started} ms, ${down.length} polls`);

  started = Date.now();
  await listen();
  const back = await poll(healthy, 'pass');
  t.equal(back.at(-1)?.verdict, 'pass', 'and passes again once the service is back');
  t.comment(`recovery seen after ${Date.now() - started} ms, ${back.length} polls`);
});

t.test('real answers: bad_data is fatal, a range selector is fatal, special floats are parsed', async (t) => {
  const bad = await checkGate(prometheusQueryGate, { query: 'sum(up', expect: 'empty' }, { services });
  t.equal(bad.verdict, 'fatal');
  t.match(bad.summary, /^Prometheus bad_data: /);
  t.match(await checkGate(prometheusQueryGate, { query: 'up{job="checkout"}[1s]', expect: 'nonEmpty' }, { services }), {
    verdict: 'fatal',
    summary: /matrix/,
  });
  t.equal(
    (await checkGate(prometheusQueryGate, { query: '1/0', expect: { op: '>', value: 1e308 } }, { services })).verdict,
    'pass',
    '+Inf scalar',
  );
  t.equal(
    (await checkGate(prometheusQueryGate, { query: '-1/0', expect: { op: '<', value: -1e308 } }, { services })).verdict,
    'pass',
    '-Inf scalar',
  );
  const nan = await checkGate(prometheusQueryGate, { query: '0/0', expect: { op: '!=', value: 1 } }, { services });
  t.equal(nan.verdict, 'fail', 'NaN satisfies nothing, not even !=');
  t.match(nan.summary, /scalar = NaN/);
  t.equal(
    (await checkGate(prometheusQueryGate, { query: 'vector(0/0)', expect: { op: '<', value: 1 } }, { services })).verdict,
    'fail',
    'NaN in a vector',
  );
  t.equal(
    (await checkGate(prometheusQueryGate, { query: 'absent_metric_xyz', expect: { op: '<', value: 1 } }, { services })).verdict,
    'nodata',
  );
});

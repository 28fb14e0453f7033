import t from 'tap';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { startPrometheus } from '../../src/dev/prometheus-process.ts';
import { startAlertmanager } from '../../src/dev/alertmanager-process.ts';
import { freePort } from '../../src/dev/free-port.ts';

/**
 * The real-component harness end to end, as the end-to-end tests and the demo use it: a service scraped by a real
 * Prometheus whose alert rule fires into a real Alertmanager, which calls a local webhook receiver with a bearer
 * token. Each component is started once for this file.
 */
type Delivery = { at: number; auth?: string; body: { status: string; alerts: Array<{ status: string; labels: Record<string, string> }> } };
const deliveries: Delivery[] = [];
const receiver = createServer((req, res) => {
  let data = '';
  req.on('data', (c) => (data += c));
  req.on('end', () => {
    deliveries.push({ at: Date.now(), auth: req.headers.authorization, body: JSON.parse(data) });
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

const port = await freePort();
const service = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ready 1\n'));
const listen = () => new Promise<void>((resolve) => service.listen(port, '127.0.0.1', resolve));
const close = () =>
  new Promise<void>((resolve) => {
    service.close(() => resolve());
    service.closeAllConnections();
  });
await listen();
t.teardown(() => (service.listening ? close() : undefined));

const am = await startAlertmanager({
  webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/alertmanager`,
  bearerToken: 'harness-token',
  groupBy: ['alertname', 'job'],
  fast: true,
});
t.teardown(() => am.stop());
const prom = await startPrometheus({
  fast: true,
  scrapeTargets: [{ job: 'svc', targets: [`127.0.0.1:${port}`] }],
  rules: [
    {
      alert: 'ServiceDown',
      expr: 'up{job="svc"} == 0',
      for: '0s',
      labels: { severity: 'critical' },
      annotations: { summary: 'svc is down' },
    },
  ],
  alertmanagers: [am.url],
});
t.teardown(() => prom.stop());
await prom.waitFor('up{job="svc"} == 1', 20_000);

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('stop the service: Alertmanager sends firing with the bearer token; restart it: resolved', async (t) => {
  let started = Date.now();
  await close();
  await until('the firing webhook', () => deliveries.some((d) => d.body.status === 'firing'));
  const firing = deliveries.find((d) => d.body.status === 'firing')!;
  t.comment(`service stopped → firing webhook in ${firing.at - started} ms`);
  t.equal(firing.auth, 'Bearer harness-token');
  t.match(firing.body.alerts, [
    { status: 'firing', labels: { alertname: 'ServiceDown', job: 'svc', severity: 'critical', instance: `127.0.0.1:${port}` } },
  ]);

  started = Date.now();
  await listen();
  await until('the resolved webhook', () => deliveries.some((d) => d.body.status === 'resolved'));
  const resolved = deliveries.find((d) => d.body.status === 'resolved')!;
  t.comment(`service restarted → resolved webhook in ${resolved.at - started} ms`);
  t.equal(resolved.auth, 'Bearer harness-token');
  t.match(resolved.body.alerts, [{ status: 'resolved', labels: { alertname: 'ServiceDown' } }]);
});

t.test('reload applies new rules, and refuses a broken configuration with the reason', async (t) => {
  await prom.reload({ rules: [{ record: 'harness:reloaded', expr: 'vector(1)' }] });
  await prom.waitFor('harness:reloaded == 1', 5000);
  t.pass('the recording rule added by reload evaluates');
  await t.rejects(prom.reload({ rules: [{ record: 'bad', expr: 'sum(' }] }), /refused the new configuration/);
});

t.test('stop() ends the process and removes its folder; a missing binary names the Debian package', async (t) => {
  const extra = await startAlertmanager({ fast: true });
  t.ok(existsSync(extra.dir));
  await extra.stop();
  t.throws(() => process.kill(extra.pid, 0), { code: 'ESRCH' }, 'the process is gone (and reaped)');
  t.notOk(existsSync(extra.dir), 'the temporary folder is removed');
  await t.rejects(fetch(`${extra.url}/-/ready`, { signal: AbortSignal.timeout(1000) }), 'nothing listens on its port');
  await extra.stop(); // idempotent

  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await t.rejects(startPrometheus(), /cannot start prometheus .*apt-get install --no-install-recommends prometheus/);
    await t.rejects(
      startAlertmanager(),
      /cannot start prometheus-alertmanager .*apt-get install --no-install-recommends prometheus-alertmanager/,
    );
  } finally {
    process.env.PATH = path;
  }
});

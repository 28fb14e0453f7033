import t from 'tap';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { startTestService } from '../support/harness.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';

// /metrics of a receiver and of a worker, as Prometheus scrapes them: clean under `promtool check metrics`, with the
// standard process_* and nodejs_* names, the build info, HTTP requests by route pattern, and escalation deliveries.

const version = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
const rx = await pagingReceivers(secrets);

// A run whose approval nobody gives escalates at once to PagerDuty (the stand-in on a loopback port).
const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: page-me }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  onExhausted: { escalate: true, targets: [pd] }
  steps:
    - id: risky
      action: log
      with: { message: risky }
      approval: { timeout: 100ms }
`;
const prefix = `mt${randomBytes(3).toString('hex')}`;
const overrides = (c: Record<string, any>) => {
  c.redis.prefix = prefix;
  c.escalation = {
    targets: { pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url } },
    delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
  };
};
const receiver = await startTestService({ playbooks: { 'page.yaml': playbook }, role: 'receiver', overrides });
// A worker answers scrapes on worker.healthPort (0: any free port).
const worker = await startTestService({
  playbooks: { 'page.yaml': playbook },
  redis: receiver.redis,
  role: 'worker',
  overrides: (c) => {
    overrides(c);
    c.worker = { ...c.worker, healthPort: 0 };
  },
});

const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();

/** `promtool check metrics` on a scrape: its exit code and what it printed (nothing when clean). */
function promtool(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

/** The value of one sample, e.g. value(text, 'remediator_escalation_deliveries_total', { outcome: 'sent' }); 0 when absent. */
function value(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    if (Object.entries(labels).every(([k, v]) => m[1]!.includes(`${k}="${v}"`))) sum += Number(m[2]);
  }
  return sum;
}

async function escalate(reason: string): Promise<string> {
  const res = await receiver.api('POST', '/v1/playbooks/page-me/runs', { reason });
  t.equal(res.status, 202, 'manual run accepted');
  return (await receiver.waitForRun(res.body.id, (r) => r.status === 'escalated')).id;
}

t.test('escalation deliveries are counted as sent, failed and dead-lettered, with their latency', async (t) => {
  // The first page fails (500), its retry is refused (400: dead letter); the second page goes through.
  rx.pagerduty.respondNext({ status: 500 }, { status: 400 });
  await escalate('first page');
  await rx.pagerduty.waitFor((q) => q.length >= 2);
  await escalate('second page');
  await rx.pagerduty.waitFor((q) => q.some((r) => r.answered === 202));
  const answered = (ok: boolean) => rx.pagerduty.requests.filter((r) => typeof r.answered === 'number' && r.answered < 300 === ok).length;
  let text = '';
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    text = await scrape(worker.url);
    if (
      value(text, 'remediator_escalation_deliveries_total', { outcome: 'sent' }) === answered(true) &&
      value(text, 'remediator_escalation_deliveries_total', { outcome: 'dead_lettered' }) >= 1
    )
      break;
  }
  t.equal(
    value(text, 'remediator_escalation_deliveries_total', { target: 'pd', outcome: 'sent' }),
    answered(true),
    'one "sent" per 2xx the target answered',
  );
  t.equal(
    value(text, 'remediator_escalation_deliveries_total', { target: 'pd', outcome: 'failed' }),
    answered(false),
    'one "failed" per other answer',
  );
  t.equal(
    value(text, 'remediator_escalation_deliveries_total', { target: 'pd', outcome: 'dead_lettered' }),
    1,
    'the refused page went to the dead letter',
  );
  t.equal(
    value(text, 'remediator_escalation_delivery_duration_seconds_count', { target: 'pd', outcome: 'sent' }),
    answered(true),
    'every sent attempt is timed',
  );
  t.equal(
    value(text, 'remediator_escalation_delivery_duration_seconds_count', { target: 'pd', outcome: 'failed' }),
    answered(false),
    'every failed attempt is timed',
  );
});

t.test('HTTP requests are counted by route pattern and code, never by raw URL', async (t) => {
  const id = (await receiver.api('GET', '/v1/runs?limit=1')).body.runs[0].id as string;
  const count = (text: string, method: string, route: string, code: string) =>
    value(text, 'remediator_http_request_duration_seconds_count', { method, route, code });
  const before = await scrape(receiver.url);
  t.equal((await receiver.api('GET', `/v1/runs/${id}`)).status, 200);
  t.equal((await receiver.api('GET', '/v1/runs/no-such-run')).status, 404);
  t.equal((await fetch(`${receiver.url}/no/such/${id}`)).status, 404);
  t.equal((await receiver.api('POST', '/v1/playbooks/page-me/runs', {})).status, 400);
  const after = await scrape(receiver.url);
  const delta = (method: string, route: string, code: string) => count(after, method, route, code) - count(before, method, route, code);
  t.equal(delta('GET', '/v1/runs/:id', '200'), 1);
  t.equal(delta('GET', '/v1/runs/:id', '404'), 1);
  t.equal(delta('GET', 'unmatched', '404'), 1, 'a URL no route matches is counted as "unmatched"');
  t.equal(delta('POST', '/v1/playbooks/:name/runs', '400'), 1);
  t.ok(count(after, 'GET', '/metrics', '200') >= 1, 'scrapes are counted too');
  t.notOk(after.includes(id), 'no run id (raw URL) in any label');
});

t.test('both roles: build info, standard default metric names, and promtool finds nothing', async (t) => {
  for (const [role, svc] of [
    ['receiver', receiver],
    ['worker', worker],
  ] as const) {
    const text = await scrape(svc.url);
    t.equal(value(text, 'remediator_build_info', { version, node_version: process.version, role }), 1, `${role}: build info`);
    t.match(text, /^process_cpu_user_seconds_total /m, `${role}: process_* under the standard name`);
    t.match(text, /^nodejs_eventloop_lag_seconds /m, `${role}: nodejs_* under the standard name`);
    t.notMatch(text, /^remediator_(process|nodejs)_/m, `${role}: no prefixed default metrics`);
    t.same(await promtool(text), { code: 0, output: '' }, `${role}: promtool check metrics is clean`);
  }
});

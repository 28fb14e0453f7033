import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import t, { type Test } from 'tap';
import { DurableEscalator } from '../../src/escalation/durable-escalator.ts';
import type { DeliveryConfig, EscalationConfig } from '../../src/escalation/escalation-config.ts';
import { verifyWebhookSignature } from '../../src/escalation/render/webhook-signature.ts';
import { pagingReceivers } from '../support/paging-receivers.ts';
import { redisForTest } from '../support/redis.ts';
import { serviceDownReport } from './report-fixture.ts';
import { escalatorDeps } from '../support/escalator-deps.ts';
import { Redis } from 'ioredis';
import { Worker } from 'bullmq';
import { chainIdFor, deliveryKeys } from '../../src/escalation/delivery-keys.ts';
import { RemediatorError } from '../../src/domain/errors.ts';
import type { DurabilityBarrier } from '../../src/store/durability-barrier.ts';

const redis = await redisForTest();
const secrets = {
  routingKey: randomBytes(16).toString('hex'),
  apiKey: `og-${randomBytes(12).toString('hex')}`,
  webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
};
let prefixes = 0;

/** A pino logger writing JSON lines into `lines`, with no redaction of its own: what my code logs is what lands. */
function capturedLogger(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink) as Logger, text: () => chunks.join('') };
}

async function setup(
  tt: Test,
  options: {
    delivery?: DeliveryConfig;
    config?: (rx: Awaited<ReturnType<typeof pagingReceivers>>) => Partial<EscalationConfig>;
    deliver?: boolean;
  } = {},
) {
  const rx = await pagingReceivers(secrets, tt);
  const log = capturedLogger();
  const config: EscalationConfig = {
    targets: {
      pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url },
      og: { type: 'opsgenie', apiKey: secrets.apiKey, url: rx.opsgenie.url },
      slack: { type: 'slack', webhookUrl: rx.slack.url },
      hook: { type: 'webhook', url: rx.webhook.url, secret: secrets.webhookSecret },
    },
    delivery: { backoff: '50ms', maxBackoff: '400ms', timeout: '2s', prefix: `t${++prefixes}`, ...options.delivery },
    ...options.config?.(rx),
  };
  const escalator = await DurableEscalator.start({
    ...escalatorDeps(redis.url, config),
    logger: log.logger,
    ...(options.deliver === false ? { deliver: false } : {}),
  });
  tt.teardown(() => escalator.close());
  return { rx, escalator, log, config };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('trigger → update → resolve: one dedup_key at PagerDuty, one alias at Opsgenie, every payload valid', async (t) => {
  const { rx, escalator } = await setup(t);
  const report = serviceDownReport();

  const trig = await escalator.trigger(report);
  t.same(
    trig.enqueued.map((e) => `${e.target}:${e.action}`).sort(),
    ['hook:trigger', 'og:trigger', 'pd:trigger', 'slack:trigger'],
    'P0 pages and notifies by default',
  );
  await Promise.all([rx.pagerduty, rx.opsgenie, rx.slack, rx.webhook].map((r) => r.waitFor((q) => q.length >= 1)));

  const upd = await escalator.update(
    { ...report, rungs: report.rungs.map((r) => (r.name === 'rollback' ? { ...r, outcome: 'running' as const } : r)) },
    'rollback started',
  );
  t.equal(upd.enqueued.length, 4, 'the update goes where the incident is open');
  await Promise.all([rx.pagerduty, rx.opsgenie, rx.slack, rx.webhook].map((r) => r.waitFor((q) => q.length >= 2)));

  const res = await escalator.resolve({ ...report, status: 'recovered' });
  t.same(
    res.enqueued.map((e) => e.action),
    ['resolve', 'resolve', 'resolve', 'resolve'],
  );
  await Promise.all([rx.pagerduty, rx.opsgenie, rx.slack, rx.webhook].map((r) => r.waitFor((q) => q.length >= 3)));

  for (const r of [rx.pagerduty, rx.opsgenie, rx.slack, rx.webhook])
    t.same(r.problems(), [], `${r.constructor.name}: every request met the contract`);

  t.same([...rx.pagerduty.alerts.keys()], [`remediator-${report.episodeKey}`], 'one dedup_key for the episode');
  const alert = rx.pagerduty.alerts.get(`remediator-${report.episodeKey}`)!;
  t.same(
    alert.events.map((e) => e.event_action),
    ['trigger', 'trigger', 'resolve'],
    'the update is a trigger on the same dedup_key',
  );
  t.equal(alert.opened, 1, 'one page');
  t.equal(alert.status, 'resolved');
  t.equal(alert.events[1]!.payload.custom_details.latest_update, 'rollback started');

  t.same([...rx.opsgenie.alerts.keys()], [`remediator-${report.episodeKey}`], 'one alias');
  const og = rx.opsgenie.alerts.get(`remediator-${report.episodeKey}`)!;
  t.equal(og.created, 1);
  t.equal(og.notes.length, 1);
  t.match(og.notes[0], /rollback started/);
  t.equal(og.status, 'closed');
  t.same(
    rx.opsgenie.requests.map((r) => r.path.split('/').at(-1)),
    ['alerts', 'notes', 'close'],
  );

  t.same(
    rx.webhook.events.map((e) => e.event),
    ['remediation.escalated', 'remediation.updated', 'remediation.resolved'],
    'signed webhook events verified by the receiver',
  );
  t.match(rx.slack.messages[2]!.text, /^✅ \[CRITICAL\] ServiceDown .* recovered/);
  t.same(await escalator.deadLetters(), []);
});

t.test('a repeated trigger for the same episode opens no second incident anywhere', async (t) => {
  const { rx, escalator } = await setup(t);
  const report = serviceDownReport();
  await escalator.trigger(report);
  const again = await escalator.trigger(report);
  t.same(
    again.enqueued.map((e) => e.action),
    ['update', 'update', 'update', 'update'],
    'recorded locally as open: sent as updates',
  );
  await Promise.all([rx.pagerduty, rx.opsgenie, rx.slack, rx.webhook].map((r) => r.waitFor((q) => q.length >= 2)));
  t.equal(rx.pagerduty.pages(), 1, 'PagerDuty paged once');
  t.equal(rx.opsgenie.alerts.get(`remediator-${report.episodeKey}`)!.created, 1, 'Opsgenie created one alert');
  t.equal(rx.opsgenie.requests.filter((r) => r.path === '/v2/alerts').length, 1, 'the second trigger became a note, not a create');
  t.match(rx.slack.messages[1]!.text, /Update: Escalated again/);
  t.same(
    rx.webhook.events.map((e) => e.event),
    ['remediation.escalated', 'remediation.updated'],
  );
});

t.test('429 with Retry-After: the retry does not come earlier', async (t) => {
  const { rx, escalator } = await setup(t);
  rx.pagerduty.respondNext({
    status: 429,
    headers: { 'retry-after': '1' },
    body: '{"status":"throttled","message":"Requests for this service are arriving too quickly."}',
  });
  await escalator.trigger(serviceDownReport(), { targets: ['pd'] });
  const reqs = await rx.pagerduty.waitFor((q) => q.length >= 2 && q[1]!.answered === 202, 5000);
  const gap = reqs[1]!.at - reqs[0]!.at;
  t.ok(gap >= 1000, `retried ${gap} ms after the 429 (Retry-After 1 s; the backoff alone would be ~50 ms)`);
  t.ok(gap < 2500, 'and not much later either');
  t.equal(reqs.length, 2);
});

t.test('a receiver down for a while gets the event exactly once when it is back', async (t) => {
  const { rx, escalator } = await setup(t);
  await rx.pagerduty.down();
  const report = serviceDownReport();
  await escalator.trigger(report, { targets: ['pd'] });
  await sleep(700); // several refused attempts with 50 ms..400 ms backoff
  t.equal(rx.pagerduty.requests.length, 0);
  await rx.pagerduty.up();
  await rx.pagerduty.waitFor((q) => q.length >= 1, 3000);
  await sleep(600); // room for a duplicate to show up
  t.equal(rx.pagerduty.requests.length, 1, 'delivered once');
  t.equal(rx.pagerduty.requests[0]!.answered, 202);
  t.same(await escalator.deadLetters(), []);
});

t.test('a hanging receiver times out and the event is retried', async (t) => {
  const { rx, escalator } = await setup(t, { delivery: { timeout: '300ms' } });
  rx.pagerduty.respondNext('hang');
  await escalator.trigger(serviceDownReport(), { targets: ['pd'] });
  const reqs = await rx.pagerduty.waitFor((q) => q.length >= 2, 4000);
  t.equal(reqs[0]!.answered, 'hang');
  t.equal(reqs[1]!.answered, 202);
  t.ok(reqs[1]!.at - reqs[0]!.at >= 300, 'the retry came after the request timeout');
});

t.test('a 400 goes to the dead letter at once, with the reason', async (t) => {
  const { rx, escalator } = await setup(t, {
    config: (rx) => ({ targets: { pd: { type: 'pagerduty', routingKey: 'a-key-this-receiver-does-not-know', url: rx.pagerduty.url } } }),
  });
  const report = serviceDownReport();
  await escalator.trigger(report, { targets: ['pd'] });
  await escalator.update(report, 'restart failed');
  await rx.pagerduty.waitFor((q) => q.length >= 2);
  await sleep(300);
  t.same(
    rx.pagerduty.requests.map((r) => r.answered),
    [400, 400],
    'neither 400 was retried; the update behind the refused trigger still went',
  );
  const dead = await escalator.deadLetters();
  t.equal(dead.length, 2);
  t.match(dead[1], { target: 'pd', type: 'pagerduty', action: 'trigger', episodeKey: report.episodeKey, status: 400, attempts: 1 });
  t.match(dead[1]!.error, /^HTTP 400: .*routing_key missing or wrong/);
  t.ok(dead[1]!.body, 'the rendered event is kept for a manual replay');
  t.notOk(JSON.stringify(dead).includes('a-key-this-receiver-does-not-know'), 'without the routing key');
});

t.test('Opsgenie refused the create: the note behind it is not sent and the next trigger creates again', async (t) => {
  const { rx, escalator } = await setup(t);
  rx.opsgenie.respondNext({
    status: 422,
    body: '{"message":"Request body is not processable. Please check the errors.","errors":{"message":"Message can not be empty."},"took":0.001}',
  });
  const report = serviceDownReport();
  await escalator.trigger(report, { targets: ['og'] });
  await escalator.update(report, 'restart failed');
  await rx.opsgenie.waitFor((q) => q.length >= 1);
  await sleep(300);
  t.equal(rx.opsgenie.requests.length, 1, 'no note for an alert that was never created');
  const dead = await escalator.deadLetters();
  t.same(
    dead.map((d) => [d.action, d.attempts]),
    [
      ['update', 0],
      ['trigger', 1],
    ],
  );
  t.match(dead[1]!.error, /HTTP 422: .*Message can not be empty/);
  t.match(dead[0]!.error, /not sent: the trigger before it .* was refused/);
  const again = await escalator.trigger(report, { targets: ['og'] });
  t.equal(again.enqueued[0]!.action, 'trigger', 'the incident does not count as open');
  await rx.opsgenie.waitFor((q) => q.length >= 2);
  t.equal(rx.opsgenie.alerts.get(`remediator-${report.episodeKey}`)!.status, 'open');
});

t.test('a resolve never overtakes its trigger', async (t) => {
  const { rx, escalator } = await setup(t);
  rx.pagerduty.respondNext({ status: 500 }, { status: 502 });
  const report = serviceDownReport();
  await escalator.trigger(report, { targets: ['pd'] });
  await escalator.resolve({ ...report, status: 'recovered' });
  const reqs = await rx.pagerduty.waitFor((q) => q.length >= 4, 4000);
  t.same(
    reqs.map((r) => `${(r.body as any).event_action}:${r.answered}`),
    ['trigger:500', 'trigger:502', 'trigger:202', 'resolve:202'],
  );
  t.equal(rx.pagerduty.alerts.get(`remediator-${report.episodeKey}`)!.status, 'resolved');
});

t.test('resolve and update go only where a trigger went', async (t) => {
  const { rx, escalator } = await setup(t);
  const report = serviceDownReport({ level: 'P2' });
  const trig = await escalator.trigger(report);
  t.same(trig.enqueued.map((e) => e.target).sort(), ['hook', 'slack'], 'P2: Slack (notify targets) only');
  const res = await escalator.resolve({ ...report, status: 'recovered' });
  t.same(res.enqueued.map((e) => e.target).sort(), ['hook', 'slack']);
  await rx.slack.waitFor((q) => q.length >= 2);
  await sleep(200);
  t.equal(rx.pagerduty.requests.length, 0, 'no resolve to PagerDuty, where nothing was triggered');
  t.equal(rx.opsgenie.requests.length, 0);
  const none = await escalator.resolve(serviceDownReport());
  t.same(none.enqueued, [], 'nothing open for an unknown episode: nothing sent');
});

t.test('P3 is record only: nothing is sent', async (t) => {
  const { rx, escalator } = await setup(t);
  const receipt = await escalator.trigger(serviceDownReport({ level: 'P3' }));
  t.same(receipt.enqueued, []);
  t.match(receipt.skipped[0]!.reason, /record only/);
  await sleep(200);
  t.equal(rx.pagerduty.requests.length + rx.opsgenie.requests.length + rx.slack.requests.length + rx.webhook.requests.length, 0);
});

t.test('PagerDuty sends per routing key stay within the sliding window', async (t) => {
  const { rx, escalator } = await setup(t, {
    config: (rx) => ({
      targets: { pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url, rateLimit: { max: 2, window: '1s' } } },
    }),
  });
  for (let i = 0; i < 4; i++) await escalator.trigger(serviceDownReport(), { targets: ['pd'] });
  const reqs = await rx.pagerduty.waitFor((q) => q.length >= 4, 5000);
  const times = reqs.map((r) => r.at).sort((a, b) => a - b);
  t.ok(times[2]! - times[0]! >= 950, `3rd event ${times[2]! - times[0]!} ms after the 1st (2 per second allowed)`);
  t.equal(rx.pagerduty.pages(), 4, 'all four episodes delivered in the end');
});

t.test('events enqueued by a process that does not deliver are delivered by one that does', async (t) => {
  const prefix = `t${++prefixes}`;
  const first = await setup(t, { delivery: { prefix }, deliver: false });
  const report = serviceDownReport();
  await first.escalator.trigger(report, { targets: ['pd'] });
  await sleep(200);
  t.equal(first.rx.pagerduty.requests.length, 0, 'enqueued, not delivered');
  const second = await DurableEscalator.start(
    escalatorDeps(redis.url, { ...first.config, delivery: { ...first.config.delivery, prefix } }),
  );
  t.teardown(() => second.close());
  await first.rx.pagerduty.waitFor((q) => q.length >= 1);
  t.equal(first.rx.pagerduty.pages(), 1);
});

t.test('a delivered page whose removal from its chain a Redis failover lost is removed again, not sent again', async (t) => {
  const prefix = `t${++prefixes}`;
  const first = await setup(t, { delivery: { prefix }, deliver: false });
  const report = serviceDownReport();
  await first.escalator.trigger(report, { targets: ['pd'] });
  await first.escalator.resolve(report);
  // The chain as a replica that never got the trigger's removal holds it after the failover.
  const raw = new Redis(redis.url);
  t.teardown(() => raw.quit());
  const chain = deliveryKeys(prefix).chain(chainIdFor(report.episodeKey, 'pd'));
  const [trigger] = await raw.lrange(chain, 0, 0);
  // The master dies right after the trigger's pop: the WAIT confirming it gets no answer, and the master that answers
  // next is the replica, with the trigger back at the head.
  let waits = 0;
  const failover = {
    minReplicas: 1,
    async replicated() {
      if (waits++ > 0) return 1;
      await raw.lpush(chain, trigger!);
      throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', 'Redis: cannot confirm the writes reached a replica: Connection is closed.');
    },
  } as unknown as DurabilityBarrier;
  const second = await DurableEscalator.start({
    ...escalatorDeps(redis.url, { ...first.config, delivery: { ...first.config.delivery, prefix } }),
    durability: () => failover,
  });
  t.teardown(() => second.close());
  await first.rx.pagerduty.waitFor((q) => q.length >= 2);
  await sleep(600); // room for a repeat to show up
  t.same(
    first.rx.pagerduty.requests.map((r) => (r.body as { event_action: string }).event_action),
    ['trigger', 'resolve'],
    'the trigger went once, then the resolve',
  );
  t.equal(waits, 3, 'each removal was confirmed; the lost one was done again');
  t.same(await raw.lrange(chain, 0, -1), [], 'the chain is empty');
});

t.test('a page whose pump a Redis failover left active with no worker is sent once its lock lapses', async (t) => {
  const prefix = `t${++prefixes}`;
  const first = await setup(t, { delivery: { prefix }, deliver: false });
  await first.escalator.trigger(serviceDownReport(), { targets: ['pd'] });
  // A worker takes the pump and vanishes without a word: what a lost moveToActive reply leaves (docs/contracts.md
  // §4.1). Its lock is 1 s, as the delivering process's own would be with worker.lockDuration: 1s.
  const ghost = new Worker('escalation', null, { connection: { url: redis.url }, prefix, lockDuration: 1000, autorun: false });
  const taken = await ghost.getNextJob(randomBytes(8).toString('hex'));
  t.ok(taken, 'the pump was taken');
  await ghost.close(true);
  const second = await DurableEscalator.start({
    ...escalatorDeps(redis.url, { ...first.config, delivery: { ...first.config.delivery, prefix } }),
    lockDurationMs: 1000,
    stalledIntervalMs: 250,
  });
  t.teardown(() => second.close());
  // With BullMQ's default stalled check (every 30 s) this wait would run out.
  await first.rx.pagerduty.waitFor((q) => q.length >= 1, 5000, 'the page');
  await sleep(300); // room for a repeat to show up
  t.equal(first.rx.pagerduty.pages(), 1, 'the page went once');
});

t.test('secrets never reach logs or dead-letter records, even when providers echo them', async (t) => {
  const { rx, escalator, log } = await setup(t, { delivery: { attempts: 2 } });
  rx.pagerduty.respondNext({
    status: 400,
    body: JSON.stringify({ status: 'invalid event', message: `routing key ${secrets.routingKey} is not active` }),
  });
  rx.opsgenie.respondNext(
    { status: 500, body: `GenieKey ${secrets.apiKey} throttled` },
    { status: 403, body: `key ${secrets.apiKey} lacks create` },
  );
  rx.webhook.respondNext({ status: 401, body: `bad signature for secret ${secrets.webhookSecret}` });
  await rx.slack.down(); // transport errors print the URL, whose path is the credential
  await escalator.trigger(serviceDownReport());
  const deadline = Date.now() + 5000;
  let dead = await escalator.deadLetters();
  while (dead.length < 4 && Date.now() < deadline) {
    await sleep(50);
    dead = await escalator.deadLetters();
  }
  t.equal(dead.length, 4, 'every target ended in the dead letter');
  const logs = log.text();
  const stored = JSON.stringify(dead);
  t.match(logs, /escalation refused by the target/, 'the failures were logged');
  t.match(stored, /HTTP 400/);
  for (const [name, secret] of Object.entries({ ...secrets, slackUrl: rx.slack.url, slackPath: rx.slack.path })) {
    t.notOk(logs.includes(secret), `${name} is not in the logs`);
    t.notOk(stored.includes(secret), `${name} is not in dead-letter records`);
  }
  t.match(stored, /\[redacted\]/, 'echoed secrets were replaced');
});

t.test('the webhook signature verifies over the raw body and fails when tampered', async (t) => {
  const { rx, escalator } = await setup(t);
  await escalator.trigger(serviceDownReport(), { targets: ['hook'] });
  const [req] = await rx.webhook.waitFor((q) => q.length >= 1);
  const headers = {
    signature: req!.headers['x-remediator-signature'] as string,
    timestamp: req!.headers['x-remediator-timestamp'] as string,
  };
  t.match(headers.signature, /^sha256=[0-9a-f]{64}$/);
  t.same(verifyWebhookSignature(secrets.webhookSecret, headers, req!.raw), { ok: true });
  t.same(verifyWebhookSignature(secrets.webhookSecret, headers, req!.raw.replace('ServiceDown', 'ServiceUp')), {
    ok: false,
    reason: 'signature does not match',
  });
  t.same(verifyWebhookSignature('another-secret', headers, req!.raw).ok, false);
  t.same(
    verifyWebhookSignature(secrets.webhookSecret, headers, req!.raw, { nowMs: Date.now() + 3_600_000 }).ok,
    false,
    'an old signature is refused',
  );
});

t.test('an invalid report or an unknown target is refused before anything is enqueued', async (t) => {
  const { escalator } = await setup(t);
  await t.rejects(escalator.trigger({ ...serviceDownReport(), level: 'P9' as 'P0' }), { code: 'REM_ERR_BAD_REQUEST' });
  await t.rejects(escalator.trigger(serviceDownReport(), { targets: ['nope'] }), {
    code: 'REM_ERR_BAD_REQUEST',
    message: /unknown escalation target/,
  });
  const ac = new AbortController();
  ac.abort(new Error('cancelled'));
  await t.rejects(escalator.trigger(serviceDownReport(), { signal: ac.signal }), { message: 'cancelled' });
});

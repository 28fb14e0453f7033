import t from 'tap';
import { Redis } from 'ioredis';
import { startTestService, fixture, serviceDownPlaybook } from '../support/harness.ts';

/**
 * The webhook takes what Alertmanager sends and nothing looser: label and annotation values are strings and
 * `version` is the string "4". Every other shape gets a 400 naming the field, and nothing is stored. Every real
 * payload recorded from Alertmanager and amtool still goes through.
 */
const svc = await startTestService({ playbooks: { 'sd.yaml': serviceDownPlaybook() } });
const firing = await fixture('alertmanager/firing.json');
const redis = new Redis(svc.redis!.url);
t.teardown(() => redis.quit());
// Episodes and runs: what an accepted alert writes (BullMQ's own keys come and go with its timers).
const keyCount = async () =>
  (await redis.keys(`${svc.config.redis.prefix}:episode:*`)).length + (await redis.keys(`${svc.config.redis.prefix}:run:*`)).length;

const refused: Array<{ name: string; change: (p: any) => void; field: string }> = [
  { name: 'version as a number', change: (p) => (p.version = 4), field: 'body.version' },
  { name: 'another version string', change: (p) => (p.version = '3'), field: 'body.version' },
  { name: 'a label value that is a number', change: (p) => (p.alerts[0].labels.code = 500), field: 'body.alerts[0].labels.code' },
  { name: 'a label value that is a boolean', change: (p) => (p.alerts[0].labels.canary = true), field: 'body.alerts[0].labels.canary' },
  { name: 'a label value that is null', change: (p) => (p.alerts[0].labels.zone = null), field: 'body.alerts[0].labels.zone' },
  {
    name: 'a label value that is an object',
    change: (p) => (p.alerts[0].labels.owner = { team: 'sre' }),
    field: 'body.alerts[0].labels.owner',
  },
  { name: 'a label value that is a list', change: (p) => (p.alerts[0].labels.zones = ['a']), field: 'body.alerts[0].labels.zones' },
  {
    name: 'an annotation value that is a number',
    change: (p) => (p.alerts[0].annotations.value = 0.93),
    field: 'body.alerts[0].annotations.value',
  },
  { name: 'a common label that is a number', change: (p) => (p.commonLabels.code = 500), field: 'body.commonLabels.code' },
  { name: 'a group label that is a number', change: (p) => (p.groupLabels.code = 500), field: 'body.groupLabels.code' },
  { name: 'a common annotation that is a number', change: (p) => (p.commonAnnotations.value = 1), field: 'body.commonAnnotations.value' },
  { name: 'truncatedAlerts as a string', change: (p) => (p.truncatedAlerts = '0'), field: 'body.truncatedAlerts' },
];

for (const r of refused) {
  t.test(`refused: ${r.name}`, async (t) => {
    const payload = structuredClone(firing);
    payload.groupLabels ??= {};
    payload.commonLabels ??= {};
    payload.commonAnnotations ??= {};
    r.change(payload);
    const before = await keyCount();
    const res = await svc.post(payload);
    t.equal(res.status, 400);
    t.equal(res.body.code, 'REM_ERR_PAYLOAD_INVALID');
    t.match(res.body.message, `${r.field}: must be`, 'the message names the field path');
    t.ok(
      (res.body.details.problems as string[]).some((p) => p.startsWith(`${r.field}: `)),
      'the problem list names it too',
    );
    t.equal(await keyCount(), before, 'nothing stored');
  });
}

t.test('several wrong values are all named in one answer', async (t) => {
  const payload = structuredClone(firing);
  payload.version = 4;
  payload.alerts[0].labels.code = 500;
  const res = await svc.post(payload);
  t.equal(res.status, 400);
  t.match(res.body.message, 'body.version: must be "4"');
  t.match(res.body.message, 'body.alerts[0].labels.code: must be string');
});

const real = [
  'firing.json',
  'resolved.json',
  'amtool-firing.json',
  'amtool-resolved.json',
  'public-highvalue-firing.json',
  'public-deployment-resolved.json',
  'resolved-after-prometheus-stop.json',
];
for (const name of real) {
  t.test(`accepted: the recorded Alertmanager payload ${name}`, async (t) => {
    const payload = await fixture(`alertmanager/${name}`);
    const res = await svc.post(payload);
    t.equal(res.status, 202, JSON.stringify(res.body));
    t.equal(res.body.accepted, payload.alerts.length);
    t.ok(await redis.exists(`${svc.config.redis.prefix}:episode:${res.body.alerts[0].episode}`), 'its episode is recorded');
  });
}

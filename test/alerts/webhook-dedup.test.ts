import t from 'tap';
import { startTestService, fixture, serviceDownPlaybook } from '../support/harness.ts';

const svc = await startTestService({ playbooks: { 'sd.yaml': serviceDownPlaybook() } });
const firing = await fixture('alertmanager/firing.json');

t.test('a firing episode starts one run; repeats and HA duplicates are deduplicated into it', async (t) => {
  const first = await svc.post(firing);
  t.equal(first.status, 202);
  t.equal(first.body.alerts[0].decision, 'started');
  const runId = first.body.alerts[0].runs[0].runId;
  t.match(runId, /^run-/);

  // repeat_interval re-send and a second Alertmanager replica sending the same group at once
  const [again, twin] = await Promise.all([svc.post(firing), svc.post(firing)]);
  for (const r of [again, twin]) {
    t.equal(r.status, 202);
    t.equal(r.body.alerts[0].decision, 'deduplicated');
    t.equal(r.body.alerts[0].runs[0].runId, runId, 'points at the one run');
  }

  const run = await svc.waitForRun(runId, (r) => r.status === 'completed');
  t.same(run.state.steps.map((s: any) => [s.id, s.status]), [['note', 'succeeded'], ['pause', 'succeeded']]);
  t.equal(run.state.outputs.note.message, 'phone-gateway is down in ai-ninja', 'templates rendered from the alert labels');
  t.same(run.target, { namespace: 'ai-ninja', kind: 'Deployment', name: 'phone-gateway' });
  const reasons = run.decisions.map((d: any) => d.reason);
  t.same(reasons.filter((r: string) => r === 'deduplicated').length, 2, 'each repeat is recorded as a decision');

  const list = await svc.api('GET', '/v1/runs?playbook=service-down-basic');
  t.equal(list.body.runs.length, 1, 'exactly one run exists for the episode');
});

t.test('a new startsAt for the same series is a new episode and a new run', async (t) => {
  const next = structuredClone(firing);
  next.alerts[0].startsAt = '2026-11-25T12:30:00.000Z';
  const res = await svc.post(next);
  t.equal(res.body.alerts[0].decision, 'started');
  const list = await svc.api('GET', '/v1/runs?playbook=service-down-basic');
  t.equal(list.body.runs.length, 2);
});

t.test('a group with a firing and a resolved alert is decided per alert', async (t) => {
  const group = structuredClone(firing);
  const other = structuredClone(firing.alerts[0]);
  other.labels = { ...other.labels, service: 'realtime-processor', deployment: 'realtime-processor' };
  other.fingerprint = '1111222233334444';
  other.status = 'resolved';
  other.endsAt = '2026-11-25T11:59:00.000Z';
  group.alerts[0].startsAt = '2026-11-25T13:00:00.000Z';
  group.alerts.push(other);
  group.status = 'firing';
  const res = await svc.post(group);
  t.equal(res.status, 202);
  t.equal(res.body.accepted, 2);
  t.equal(res.body.alerts[0].decision, 'started');
  t.equal(res.body.alerts[1].decision, 'resolved');
  t.same(res.body.alerts[1].runs, [], 'a resolved alert starts nothing');
});

t.test('an alert no playbook matches is recorded as unmatched', async (t) => {
  const res = await svc.post(await fixture('alertmanager/public-highvalue-firing.json'));
  t.equal(res.status, 202);
  t.equal(res.body.alerts[0].decision, 'unmatched');
});

t.test('resolved closes the episode and is recorded on its run', async (t) => {
  const res = await svc.post(await fixture('alertmanager/resolved.json'));
  t.equal(res.body.alerts[0].decision, 'resolved');
  const list = await svc.api('GET', '/v1/runs?playbook=service-down-basic');
  const original = list.body.runs.find((r: any) => r.alert.startsAt === firing.alerts[0].startsAt);
  const run = await svc.api('GET', `/v1/runs/${original.id}`);
  t.ok(run.body.alertResolvedAt, 'the run knows its alert resolved');
  t.ok(run.body.decisions.some((d: any) => d.reason === 'resolved'));
});

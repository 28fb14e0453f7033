import t, { type Test } from 'tap';
import { Job, Queue } from 'bullmq';
import { startTestService, fixture } from '../support/harness.ts';
import { healthServer } from '../support/health-server.ts';

/**
 * `onResolved: skip-waits`: when Alertmanager resolves the alert, a gate waiting for its next poll checks again at
 * once instead of after its interval. With `continue` (the default) the gate keeps its interval. Real redis-server,
 * real BullMQ delayed jobs.
 */
const health = await healthServer();
const url = health.url;

const INTERVAL_MS = 60_000;
const playbook = (name: string, alertname: string, onResolved: string) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  triggers: [{ matchers: ['alertname="${alertname}"'] }]
  onResolved: ${onResolved}
  onExhausted: { escalate: false }
  steps:
    - { id: health, gate: http.check, with: { url: "${url}" }, interval: 60s, timeout: 10m, successes: 1 }
`;
const svc = await startTestService({
  playbooks: {
    'skip.yaml': playbook('recheck', 'ServiceDown', 'skip-waits'),
    'keep.yaml': playbook('keep-interval', 'QueueStuck', 'continue'),
  },
});
const queue = new Queue(svc.service.store.keys.runQueue(), {
  prefix: svc.config.redis.prefix,
  connection: { host: '127.0.0.1', port: Number(new URL(svc.redis!.url).port) },
});
t.teardown(() => queue.close());

/** A firing alert and its resolve: same fingerprint and startsAt (one episode). */
async function episode(alertname: string, startsAt: string, fingerprint: string) {
  const firing = await fixture('alertmanager/firing.json');
  const resolved = await fixture('alertmanager/resolved.json');
  for (const p of [firing, resolved]) {
    p.alerts[0].labels.alertname = alertname;
    p.alerts[0].startsAt = startsAt;
    p.alerts[0].fingerprint = fingerprint;
  }
  return { firing, resolved };
}

/** Started, polled once (failing), and asleep in a delayed BullMQ job until the next poll. */
async function waitingAfterFirstPoll(t: Test, runId: string) {
  const run = await svc.waitForRun(runId, (r) => r.status === 'waiting' && r.state?.steps?.[0]?.polls === 1, 10_000);
  for (let i = 0; i < 100 && !(await (await Job.fromId(queue, runId))?.isDelayed()); i++) await new Promise((r) => setTimeout(r, 50));
  const job = await Job.fromId(queue, runId);
  t.ok(await job?.isDelayed(), 'the run sleeps in a delayed job');
  return { run, processedOn: job!.processedOn ?? 0 };
}

t.test('skip-waits: the resolve makes the waiting gate check again at once, long before its 60 s interval', async (t) => {
  health.set(false);
  const { firing, resolved } = await episode('ServiceDown', '2026-11-25T10:00:00.000Z', 'aa00000000000001');
  const started = await svc.post(firing);
  const runId = started.body.alerts[0].runs[0].runId as string;
  const { run: before } = await waitingAfterFirstPoll(t, runId);
  const firstPoll = Date.parse(before.state.steps[0].observations[0].at);
  t.equal(before.state.wakeAt, firstPoll + INTERVAL_MS, 'the next poll was due after the interval');

  health.set(true);
  const res = await svc.post(resolved);
  t.equal(res.status, 202);
  t.equal(res.body.alerts[0].decision, 'resolved');
  const done = await svc.waitForRun(runId, (r) => r.status === 'succeeded', 30_000);
  const polls = done.state.steps[0].observations;
  t.equal(polls.length, 2, 'one more poll, right after the resolve');
  const resolvedAt = Date.parse(done.decisions.find((d: any) => d.reason === 'resolved').at);
  const secondPoll = Date.parse(polls[1].at);
  t.ok(secondPoll >= resolvedAt, 'the second poll came after the resolve');
  t.ok(secondPoll < firstPoll + INTERVAL_MS, `the second poll came ${secondPoll - firstPoll} ms after the first, not after the interval`);
  t.equal(polls[1].verdict, 'pass');
  t.equal(done.state.verified, true, 'the gate, not the resolve, verified the fix');
});

t.test('continue (the default): the resolve is recorded and the gate keeps its interval', async (t) => {
  health.set(false);
  const { firing, resolved } = await episode('QueueStuck', '2026-11-25T11:00:00.000Z', 'aa00000000000002');
  const started = await svc.post(firing);
  const runId = started.body.alerts[0].runs[0].runId as string;
  const { processedOn } = await waitingAfterFirstPoll(t, runId);

  health.set(true);
  t.equal((await svc.post(resolved)).status, 202);
  // The resolve wakes the run's job like any other; wait until a worker has looked at it and put it back to sleep.
  for (let i = 0; i < 200; i++) {
    const job = await Job.fromId(queue, runId);
    if ((job?.processedOn ?? 0) > processedOn && (await job?.isDelayed())) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const job = await Job.fromId(queue, runId);
  t.ok((job?.processedOn ?? 0) > processedOn, 'a worker looked at the run after the resolve');
  t.ok(await job?.isDelayed(), 'and put it back to sleep');
  const after = (await svc.api('GET', `/v1/runs/${runId}`)).body;
  t.equal(after.status, 'waiting');
  t.equal(after.state.steps[0].polls, 1, 'no early poll');
  t.ok(
    after.decisions.some((d: any) => d.reason === 'resolved'),
    'the resolve is recorded on the run',
  );
  await svc.api('POST', `/v1/runs/${runId}/cancel`, { reason: 'end of test' });
});

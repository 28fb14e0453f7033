import t from 'tap';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pagedReplicas } from '../support/paged-replicas.ts';
import type { TestService } from '../support/harness.ts';
import { RunFence } from '../../src/queue/run-fence.ts';
import { escalate } from '../../src/engine/decide.ts';
import { initialRunState } from '../../src/engine/run-state.ts';
import { newRunId } from '../../src/store/run-id.ts';
import type { RunRecord } from '../../src/store/run-record.ts';

// What a process killed at the worst moments leaves in Redis, and how the sweeper finishes the work:
// - killed right after the save that ended a run escalated, before its page was enqueued: the page still goes out,
//   once, and the run gets its closing decision once;
// - the sweeper runs in a receiver-only process too, so this holds while every worker is down;
// - a run recorded whose job was never queued is found behind any number of finished runs.

const playbooks = {
  'hand-over.yaml': `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: hand-over }
spec:
  triggers: [{ matchers: ['alertname="HandOver"'] }]
  onExhausted: { targets: [pd] }
  steps:
    - { id: note, action: log, with: { message: "looking at {{ labels.deployment }}" } }
    - { id: up, gate: http.check, with: { url: "http://127.0.0.1:1/health" }, interval: 50ms, timeout: 300ms }
`,
};

const {
  redis,
  keys,
  rx,
  start,
  alert: post,
  pagesFor: pagesNaming,
} = await pagedReplicas({ playbooks, runs: { sweepInterval: '200ms', closingGrace: '500ms' } });
const direct = new Redis(redis.url, { maxRetriesPerRequest: 1 });
t.teardown(() => direct.disconnect());
const fence = new RunFence(direct, keys);

/** PagerDuty triggers (not acknowledges or resolves) that name the run. */
const pagesFor = (runId: string) => pagesNaming([runId]).filter((q) => (q.body as { event_action?: string }).event_action === 'trigger');
const alert = (svc: TestService, deployment: string) => post(svc, 'HandOver', deployment);

/** Exactly what a worker leaves when SIGKILLed just after the save that ends a run escalated: the state, nothing else. */
async function crashAfterFinalSave(runId: string): Promise<void> {
  const owner = `dead-worker-${randomBytes(4).toString('hex')}`;
  t.equal(await fence.claim(runId, owner, Date.now() + 60_000), 'claimed', 'the doomed worker claims the run');
  const ended = escalate(initialRunState(), 'restart did not bring the service back', Date.now()).state;
  t.equal(await fence.save(runId, owner, ended, Date.now()), 'saved', 'and saves its final escalated state, then dies');
}

t.test(
  'killed between the final save and the page, with only a receiver alive: the page is enqueued, then sent once a worker is back',
  async (t) => {
    const receiver = await start('receiver');
    const runId = await alert(receiver, 'phone-gateway');
    await crashAfterFinalSave(runId);
    t.equal((await direct.zscore(keys.runClosings(), runId)) !== null, true, "the final save left the run's closing open");

    // No worker anywhere: the receiver's own sweeper completes the closing.
    const closed = await receiver.waitForRun(runId, (r) => r.escalationEnqueuedAt !== undefined && r.finalDecisionAt !== undefined, 10_000);
    t.equal(closed.status, 'escalated');
    t.same(
      closed.decisions.map((d: any) => d.reason),
      ['started', 'escalated'],
      'the decisions a normal close records: the escalation, with its reason',
    );
    t.match(closed.decisions[1].message, /restart did not bring the service back/, "the escalation carries the run's reason");
    t.equal(await direct.zscore(keys.runClosings(), runId), null, 'the closing is closed');
    await sleep(300);
    t.equal(pagesFor(runId).length, 0, 'a receiver enqueues pages but does not deliver them');

    // A worker process comes up: its escalation worker delivers what waited in Redis.
    await start('worker');
    const deadline = Date.now() + 10_000;
    while (pagesFor(runId).length === 0 && Date.now() < deadline) await sleep(50);
    await sleep(1500); // several more sweeps: none may page again
    t.equal(pagesFor(runId).length, 1, 'exactly one PagerDuty trigger for the run');
    const after = (await receiver.api('GET', `/v1/runs/${runId}`)).body;
    t.equal(after.decisions.filter((d: any) => d.reason === 'escalated').length, 1, 'and no decision was recorded twice');
    t.same(rx.pagerduty.problems(), [], 'every page met the provider contract');
  },
);

t.test('a run with its page enqueued is not paged again by the sweeper', async (t) => {
  const svc = await start('all');
  const runId = await alert(svc, 'realtime-processor');
  const run = await svc.waitForRun(runId, (r) => r.status === 'escalated' && r.finalDecisionAt !== undefined, 10_000);
  t.ok(run.escalationEnqueuedAt, 'the page was marked enqueued');
  const deadline = Date.now() + 10_000;
  while (pagesFor(runId).length === 0 && Date.now() < deadline) await sleep(50);
  await sleep(1500);
  t.equal(pagesFor(runId).length, 1, 'one trigger, however many sweeps passed');
  t.equal(await direct.zscore(keys.runClosings(), runId), null, 'no closing left open');
  const final = (await svc.api('GET', `/v1/runs/${runId}`)).body;
  t.equal(final.decisions.filter((d: any) => d.reason === 'escalated').length, 1, 'one escalation, one escalated decision');
});

t.test('a run recorded but never queued is found behind hundreds of finished runs', async (t) => {
  const svc = await start('all');
  const old = Date.now() - 120_000;
  // 250 older runs that workers claimed and ended (the queued index forgets a run when a worker claims it).
  const m = direct.multi();
  const ids: string[] = [];
  for (let i = 0; i < 250; i++) {
    const id = newRunId(old - 1000 + i);
    ids.push(id);
    const record: RunRecord = {
      id,
      playbook: 'hand-over',
      createdAt: new Date(old - 1000 + i).toISOString(),
      trigger: 'manual',
      alert: {
        status: 'firing',
        labels: { alertname: 'HandOver' },
        annotations: {},
        startsAt: new Date(old).toISOString(),
        fingerprint: 'f',
      },
      params: {},
      dryRun: false,
      operator: 'alice',
      reason: 'history',
    };
    m.hset(keys.run(id), 'record', JSON.stringify(record), 'status', 'queued', 'updatedAt', record.createdAt)
      .zadd(keys.runs(), old - 1000 + i, id)
      .zadd(keys.runsQueued(), old - 1000 + i, id);
  }
  await m.exec();
  for (const id of ids) {
    await fence.claim(id, 'w', Date.now() + 60_000);
    await fence.save(id, 'w', { ...initialRunState(), status: 'succeeded' }, Date.now());
    await fence.closed(id);
  }
  // The one that matters: Redis failed between recording it and queueing its job, and nobody retried.
  const lost = newRunId(old);
  const record: RunRecord = {
    id: lost,
    playbook: 'hand-over',
    createdAt: new Date(old).toISOString(),
    trigger: 'manual',
    alert: {
      status: 'firing',
      labels: { alertname: 'HandOver', deployment: 'profile-analytics' },
      annotations: {},
      startsAt: new Date(old).toISOString(),
      fingerprint: 'g',
    },
    params: {},
    dryRun: false,
    operator: 'alice',
    reason: 'lost job',
  };
  await svc.service.store.createRun(record);
  const run = await svc.waitForRun(lost, (r) => r.status === 'escalated', 10_000);
  t.equal(run.status, 'escalated', 'the sweeper queued it and a worker ran it to its end');
  t.equal(await direct.zcard(keys.runsQueued()), 0, 'nothing is left in the queued index');
});

import t from 'tap';
import { kubeBatchRestartAction as batch, type BatchObjectResult } from '../../src/actions/kube-batch-restart.ts';
import type { ActionResult } from '../../src/engine/step-definition.ts';
import { ManualClock } from '../../src/ports/clock.ts';
import { runAction, type StepContextOptions } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster({ seed: 'ai-ninja' });
await sim.settle();
const services = { kube };
const ns = 'ai-ninja';
/** Each test restarts at its own minute: kubectl refuses a second restart within the same second. */
let minute = 0;
const freshClock = () => new ManualClock(Date.parse('2026-11-25T12:00:00Z') + ++minute * 3_600_000);
const restartedAt = (name: string) =>
  sim.get('Deployment', ns, name).spec.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];

/**
 * Calls the action as the engine does: again with its state after each `pending`, until it ends. Between calls the
 * simulated controllers settle (the condition the action waits on), and `between` may move the clock.
 */
async function drive(
  params: Record<string, unknown>,
  o: StepContextOptions,
  between?: (r: ActionResult) => void,
): Promise<{ result?: ActionResult; error?: any; calls: ActionResult[] }> {
  const calls: ActionResult[] = [];
  let state: unknown;
  for (let i = 0; i < 200; i++) {
    let r: ActionResult;
    try {
      r = await runAction(batch, params, { services, ...o, state });
    } catch (error) {
      return { error, calls };
    }
    calls.push(r);
    if (r.status !== 'pending') return { result: r, calls };
    state = r.state;
    between?.(r);
    await sim.settle();
  }
  throw new Error('the batch never ended');
}

t.test("restarts the runbook's four services in order, each one available before the next, ✅ for each", async (t) => {
  const names = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'];
  const from = sim.requests.length;
  const { result } = await drive({ namespace: ns, names }, { clock: freshClock(), run: { id: 'run-b1' }, step: { id: 'restart-all' } });
  t.equal(result?.status, 'ok');
  const out = (result as unknown as { output: { results: BatchObjectResult[]; restarted: number } }).output;
  t.same(
    out.results.map((r) => [r.name, r.mark, r.outcome]),
    names.map((n) => [n, '✅', 'restarted']),
  );
  t.match(out.results[0], { reason: 'deployment "phone-gateway" successfully rolled out', revision: 2 });
  t.equal(out.restarted, 4);
  t.match(
    (result as unknown as { summary: string }).summary,
    /^4 of 4 restarted and available: ✅ phone-gateway; ✅ realtime-processor; ✅ conversation-engine; ✅ profile-analytics$/,
  );
  const patches = sim.requests
    .slice(from)
    .filter((r) => r.method === 'PATCH')
    .map((r) => r.path.split('/').at(-1));
  t.same(patches, names, 'one restart per service, in the given order');
  for (const n of names) t.ok(restartedAt(n), `${n} carries kubectl's restartedAt`);
});

t.test('onFailure stop: the service that does not become available is ❌ with the reason, the rest are not touched', async (t) => {
  sim.faults.failRollouts(ns, 'realtime-processor');
  const clock = freshClock();
  const before = restartedAt('profile-analytics');
  const { error } = await drive(
    { namespace: ns, names: ['conversation-engine', 'realtime-processor', 'profile-analytics'], availableTimeout: '5m' },
    { clock, run: { id: 'run-b2' }, step: { id: 'restart-all' } },
    (r) => {
      // The stuck rollout is given up once the clock passes its timeout; the others finish before that.
      if (/realtime-processor/.test(r.status === 'pending' ? (r.summary ?? '') : '')) clock.advance(6 * 60_000);
    },
  );
  t.equal(error?.code, 'REM_ERR_BATCH_FAILED');
  const results: BatchObjectResult[] = error.details.results;
  t.same(
    results.map((r) => [r.name, r.mark, r.outcome]),
    [
      ['conversation-engine', '✅', 'restarted'],
      ['realtime-processor', '❌', 'failed'],
      ['profile-analytics', '❌', 'skipped'],
    ],
  );
  t.match(results[1]!.reason, /^not available within 5m: Waiting for deployment "realtime-processor" rollout to finish/);
  t.match(results[2]!.reason, 'not attempted: realtime-processor failed and onFailure is stop');
  t.match(error.message, /^1 of 3 restarted and available: ✅ conversation-engine; ❌ realtime-processor \(not available within 5m/);
  t.equal(
    restartedAt('profile-analytics'),
    before,
    'profile-analytics was not restarted: the batch waited on realtime-processor and stopped',
  );
});

t.test('onFailure continue: a missing service is ❌ not found and the next one is still restarted', async (t) => {
  const { error } = await drive(
    { namespace: ns, names: ['ghost', 'phone-gateway'], onFailure: 'continue' },
    { clock: freshClock(), run: { id: 'run-b3' }, step: { id: 'restart-all' } },
  );
  t.equal(error?.code, 'REM_ERR_BATCH_FAILED');
  t.match(error.details.results, [
    { name: 'ghost', mark: '❌', outcome: 'failed', reason: /REM_ERR_KUBE_NOT_FOUND: .*"ghost" not found/ },
    { name: 'phone-gateway', mark: '✅', outcome: 'restarted' },
  ]);
});

t.test('re-executed after a crash that lost its state, a restart already written is not written again', async (t) => {
  const opts = { clock: freshClock(), run: { id: 'run-b4' }, step: { id: 'restart-all' } };
  const first = await runAction(batch, { namespace: ns, names: ['profile-analytics'] }, { services, ...opts });
  t.equal(first.status, 'pending');
  const from = sim.requests.length;
  // The crash lost the state: the step starts over and finds its own stamp.
  const { result } = await drive({ namespace: ns, names: ['profile-analytics'] }, opts);
  t.equal(result?.status, 'ok');
  t.same(
    sim.requests.slice(from).filter((r) => r.method !== 'GET'),
    [],
    'only reads',
  );
});

t.test("first: the runbook's priority order goes first whatever order the services went down in", async (t) => {
  const { result } = await drive(
    {
      namespace: ns,
      names: ['profile-analytics', 'conversation-engine', 'phone-gateway'],
      first: ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'],
    },
    { clock: freshClock(), run: { id: 'run-b6' }, step: { id: 'restart-all' } },
  );
  t.same(
    (result as any).output.results.map((r: BatchObjectResult) => r.name),
    ['phone-gateway', 'conversation-engine', 'profile-analytics'],
  );
  t.equal((result as any).output.report, '✅ phone-gateway; ✅ conversation-engine; ✅ profile-analytics');
});

t.test('dry run: every service is planned, nothing changes', async (t) => {
  const before = restartedAt('phone-gateway');
  const { result } = await drive(
    { namespace: ns, names: ['phone-gateway', 'realtime-processor'] },
    { clock: freshClock(), run: { id: 'run-b5', dryRun: true } },
  );
  t.match(result, { status: 'ok', output: { dryRun: true, restarted: 2 }, summary: /^2 of 2 would be restarted/ });
  t.equal(restartedAt('phone-gateway'), before);
});

t.test('parameters are checked at load: names are DNS names, unique, at least one; onFailure is stop or continue', async (t) => {
  await t.rejects(runAction(batch, { namespace: ns, names: [] }, { services }), /names/);
  await t.rejects(runAction(batch, { namespace: ns, names: ['a', 'a'] }, { services }), /names/);
  await t.rejects(runAction(batch, { namespace: ns, names: ['Bad_Name'] }, { services }), /names/);
  await t.rejects(runAction(batch, { namespace: ns, names: ['a'], onFailure: 'retry' }, { services }), /onFailure/);
  t.same(
    batch.mutates!({ namespace: ns, names: ['a', 'b'] } as never, { changes: [], outputs: {}, limits: {} as never }),
    [
      { namespace: ns, kind: 'Deployment', name: 'a' },
      { namespace: ns, kind: 'Deployment', name: 'b' },
    ],
    'every service is a target of the guard layer',
  );
});

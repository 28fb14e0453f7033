import t from 'tap';
import { kubeBatchRestartAction as batch, type BatchObjectResult } from '../../src/actions/kube-batch-restart.ts';
import type { ActionResult } from '../../src/engine/step-definition.ts';
import { ManualClock } from '../../src/ports/clock.ts';
import { runAction, type StepContextOptions } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';
import { kubectlAvailable, kubectlFor } from '../../src/sim/kubectl.ts';

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
  const before = restartedAt('profile-analytics');
  // The first call writes the restart (and may see it rolled out already when the controllers are quick); its state is lost.
  await runAction(batch, { namespace: ns, names: ['profile-analytics'] }, { services, ...opts });
  t.not(restartedAt('profile-analytics'), before, 'the first call wrote the restart');
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

t.test('selector: the Deployments whose labels match, listed once by the API server in name order, the selection recorded', async (t) => {
  const decisions: Array<[string, string]> = [];
  const from = sim.requests.length;
  const { result } = await drive(
    { namespace: ns, selector: 'app in (realtime-processor,conversation-engine,phone-gateway)', first: ['phone-gateway'] },
    {
      clock: freshClock(),
      run: { id: 'run-s1' },
      step: { id: 'restart-all' },
      recordDecision: async (reason, message) => void decisions.push([reason, message]),
    },
  );
  t.equal(result?.status, 'ok');
  const out = (result as any).output;
  t.same(out.selected, ['conversation-engine', 'phone-gateway', 'realtime-processor'], 'name order, as kubectl lists them');
  t.same(
    out.results.map((r: BatchObjectResult) => [r.name, r.mark]),
    [
      ['phone-gateway', '✅'],
      ['conversation-engine', '✅'],
      ['realtime-processor', '✅'],
    ],
    '`first` still goes first',
  );
  t.same(decisions, [
    [
      'selected',
      'restart-all (kube.batchRestart): selector app in (realtime-processor,conversation-engine,phone-gateway) matched 3 Deployment(s) in ai-ninja: conversation-engine, phone-gateway, realtime-processor',
    ],
  ]);
  const lists = sim.requests.slice(from).filter((r) => r.method === 'GET' && r.path === `/apis/apps/v1/namespaces/${ns}/deployments`);
  t.equal(lists.length, 1, 'one list call for the whole batch');
  t.equal(lists[0]!.query.labelSelector, 'app in (realtime-processor,conversation-engine,phone-gateway)', 'the server filters');
  t.equal(
    sim.requests.slice(from).filter((r) => r.method === 'PATCH' && r.path.endsWith('/profile-analytics')).length,
    0,
    'what the selector did not match is not touched',
  );
});

t.test('selector: a Deployment labelled to match after the step started does not join the batch', async (t) => {
  const d = sim.get('Deployment', ns, 'profile-analytics');
  const { result } = await drive(
    { namespace: ns, selector: 'app=phone-gateway' },
    { clock: freshClock(), run: { id: 'run-s2' }, step: { id: 'restart-all' } },
    () => sim.put({ ...d, metadata: { ...d.metadata, labels: { ...d.metadata.labels, app: 'phone-gateway' } } }),
  );
  const now = sim.get('Deployment', ns, 'profile-analytics');
  sim.put({ ...now, metadata: { ...now.metadata, labels: d.metadata.labels } });
  t.same(
    (result as any).output.results.map((r: BatchObjectResult) => r.name),
    ['phone-gateway'],
  );
});

t.test('selector: nothing matches → not found, as kubectl says "no objects passed to restart"; nothing written', async (t) => {
  const from = sim.requests.length;
  const { error } = await drive({ namespace: ns, selector: 'app=nobody' }, { clock: freshClock(), run: { id: 'run-s3' } });
  t.equal(error?.code, 'REM_ERR_KUBE_NOT_FOUND');
  t.match(error.message, 'no Deployment in namespace ai-ninja matches the selector app=nobody');
  t.same(
    sim.requests.slice(from).filter((r) => r.method !== 'GET'),
    [],
  );
});

t.test('a workload the guard refuses is its own ❌ line with the reason; the batch goes on or stops as onFailure says', async (t) => {
  const asked: string[] = [];
  const admit = async (target: { name: string }) => {
    asked.push(target.name);
    return target.name === 'realtime-processor'
      ? {
          admitted: false as const,
          wait: false,
          reason: 'out_of_scope' as const,
          message: 'ai-ninja/Deployment/realtime-processor is labelled remediator.io/disabled=true',
        }
      : { admitted: true as const };
  };
  const before = restartedAt('realtime-processor');
  const names = ['phone-gateway', 'realtime-processor', 'profile-analytics'];
  const go = await drive(
    { namespace: ns, names, onFailure: 'continue' },
    { clock: freshClock(), run: { id: 'run-g1' }, step: { id: 'restart-all' }, admit },
  );
  t.equal(go.error?.code, 'REM_ERR_BATCH_FAILED');
  t.match(go.error.details, { restarted: 2, refused: 1, failed: 0 });
  t.same(
    go.error.details.results.map((r: BatchObjectResult) => [r.name, r.mark, r.outcome]),
    [
      ['phone-gateway', '✅', 'restarted'],
      ['realtime-processor', '❌', 'refused'],
      ['profile-analytics', '✅', 'restarted'],
    ],
  );
  t.match(
    go.error.message,
    '✅ phone-gateway; ❌ realtime-processor (out_of_scope: ai-ninja/Deployment/realtime-processor is labelled remediator.io/disabled=true); ✅ profile-analytics',
  );
  t.same(asked, names, 'each asked once, just before its turn');
  t.equal(restartedAt('realtime-processor'), before, 'the refused one was not restarted');

  const stop = await drive(
    { namespace: ns, names, onFailure: 'stop' },
    { clock: freshClock(), run: { id: 'run-g2' }, step: { id: 'restart-all' }, admit },
  );
  t.same(
    stop.error.details.results.map((r: BatchObjectResult) => [r.name, r.outcome, r.reason]),
    [
      ['phone-gateway', 'restarted', 'deployment "phone-gateway" successfully rolled out'],
      ['realtime-processor', 'refused', 'out_of_scope: ai-ninja/Deployment/realtime-processor is labelled remediator.io/disabled=true'],
      ['profile-analytics', 'skipped', 'not attempted: realtime-processor was refused and onFailure is stop'],
    ],
  );
});

t.test('a workload locked by another run is waited for, not failed', async (t) => {
  let locked = true;
  const admit = async () =>
    locked
      ? { admitted: false as const, wait: true, retryAfterMs: 250, reason: 'locked' as const, message: 'run r-9 is acting on it' }
      : { admitted: true as const };
  const before = restartedAt('phone-gateway');
  const opts = { clock: freshClock(), run: { id: 'run-g3' }, step: { id: 'restart-all' }, admit };
  const { result, calls } = await drive({ namespace: ns, names: ['phone-gateway'] }, opts, (r) => {
    if (r.status === 'pending' && /waiting: run r-9/.test(r.summary ?? '')) {
      t.equal(restartedAt('phone-gateway'), before, 'nothing written while the lock is held');
      locked = false;
    }
  });
  t.match(calls[0], { status: 'pending', resumeAfterMs: 250, summary: 'phone-gateway (1 of 1): waiting: run r-9 is acting on it' });
  t.equal(result?.status, 'ok');
  t.not(restartedAt('phone-gateway'), before);
});

t.test(
  'selector: the same workloads, in the same order, as kubectl -l picks them',
  { skip: !kubectlAvailable() && 'kubectl is not on PATH' },
  async (t) => {
    const kubectl = await kubectlFor(sim, ns);
    t.teardown(() => kubectl.cleanup());
    for (const selector of [
      'app in (realtime-processor,phone-gateway,profile-analytics)',
      'app!=phone-gateway',
      'app,app notin (profile-analytics)',
    ]) {
      const k = await kubectl(['get', 'deployments', '-l', selector, '-o', 'name']);
      t.equal(k.code, 0, k.stderr);
      const theirs = k.stdout
        .trim()
        .split('\n')
        .map((l) => l.replace('deployment.apps/', ''));
      const { result } = await drive(
        { namespace: ns, selector },
        { clock: freshClock(), run: { id: `run-k-${selector.length}`, dryRun: true } },
      );
      t.same((result as any).output.selected, theirs, selector);
    }
  },
);

import t from 'tap';
import { loadPlaybook } from '../../src/playbooks/load-playbook.ts';
import { createRegistry } from '../../src/main.ts';
import { beginStep, decide, interruptStep, stepUnderWay, type StepEvent } from '../../src/engine/decide.ts';
import { initialRunState, type RunState } from '../../src/engine/run-state.ts';
import { RemediatorError } from '../../src/domain/errors.ts';
import type { Playbook } from '../../src/domain/playbook.ts';

// The pure ladder: no Redis, no Kubernetes, no clock but the numbers passed in.
const ctx = { registry: createRegistry(), available: new Set<any>(['limits', 'prometheus']) };
const ladder = loadPlaybook(
  'ladder.yaml',
  `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ladder }
spec:
  triggers: [{ matchers: ['alertname="X"'] }]
  rungs:
    - name: restart
      steps:
        - id: fix1
          action: http.request
          with: { url: "http://127.0.0.1:1/fix" }
          retry: { attempts: 3, backoff: 1s }
        - id: verify1
          gate: prometheus.query
          with: { query: up, expect: nonEmpty }
          interval: 1s
          timeout: 5s
          successes: 2
    - name: rollback
      steps:
        - id: fix2
          action: log
          with: { message: rollback }
        - id: verify2
          gate: prometheus.query
          with: { query: up, expect: nonEmpty }
          interval: 1s
          timeout: 3s
`,
  ctx,
).playbook as Playbook;
t.ok(ladder, 'test playbook loads');

// Retry waits are jittered ±20 %; the middle of the range keeps these expectations exact (backoff.test.ts covers the spread).
const opts = { maxObservations: 5, random: () => 0.5 };
const T0 = 1_000_000;
function step(state: RunState, event: StepEvent, now: number) {
  return decide(ladder, beginStep(ladder, state, now), event, now, opts);
}
const ok: StepEvent = { type: 'result', result: { status: 'ok', output: {} } };
const pass: StepEvent = { type: 'observation', observation: { verdict: 'pass', summary: 'up = 1' } };
const fail: StepEvent = { type: 'observation', observation: { verdict: 'fail', summary: 'up = 0' } };
const transient = (msg = 'connection reset'): StepEvent => ({ type: 'error', error: new RemediatorError('REM_ERR_HTTP_TRANSPORT', msg) });

t.test('a retryable failure is retried with backoff, then the step succeeds', async (t) => {
  let d = step(initialRunState(), transient(), T0);
  t.same(d.directive, { kind: 'sleep', until: T0 + 1000 });
  t.equal(d.state.status, 'waiting');
  d = step(d.state, transient(), T0 + 1000);
  t.same(d.directive, { kind: 'sleep', until: T0 + 1000 + 2000 }, 'exponential: 1s then 2s');
  d = step(d.state, ok, T0 + 3000);
  t.same(d.directive, { kind: 'continue' });
  t.same(d.state.cursor, { rung: 0, step: 1 });
  t.equal(d.state.steps[0]!.attempts, 3);
});

t.test('step retry waits are really jittered: ±20 % around the backoff, spread by the random source', async (t) => {
  const waitWith = (random?: () => number) => {
    const d = decide(ladder, beginStep(ladder, initialRunState(), T0), transient(), T0, {
      maxObservations: 5,
      ...(random ? { random } : {}),
    });
    return (d.directive as { until: number }).until - T0;
  };
  t.equal(
    waitWith(() => 0),
    800,
    'lowest: 1 s − 20 %',
  );
  t.equal(
    waitWith(() => 0.999_999),
    1200,
    'highest: 1 s + 20 %',
  );
  // The default source is Math.random: many first retries do not all wait the same.
  const waits = Array.from({ length: 50 }, () => waitWith());
  t.ok(new Set(waits).size > 10, `spread by default (${new Set(waits).size} distinct waits of 50)`);
  t.ok(
    waits.every((w) => w >= 800 && w <= 1200),
    'within the bounds',
  );
});

t.test('a gate needs N consecutive passes; a fail resets the count; the run succeeds only when verified', async (t) => {
  let d = step(initialRunState(), ok, T0);
  d = step(d.state, pass, T0 + 10);
  t.same(d.directive, { kind: 'sleep', until: T0 + 1010 }, 'one pass of two: poll again after the interval');
  d = step(d.state, fail, T0 + 1010);
  t.equal(d.state.gate!.consecutive, 0);
  d = step(d.state, pass, T0 + 2010);
  d = step(d.state, pass, T0 + 3010);
  t.same(d.directive, { kind: 'done' });
  t.equal(d.state.status, 'succeeded');
  t.equal(d.state.verified, true);
  t.same(
    d.state.rungs.map((r) => [r.name, r.outcome]),
    [['restart', 'succeeded']],
  );
  t.equal(d.state.steps[1]!.observations!.length, 4, 'each poll recorded');
});

t.test('a gate that never passes fails at its timeout and the ladder climbs to the next rung', async (t) => {
  let d = step(initialRunState(), ok, T0);
  let now = T0;
  let guard = 0;
  while (d.directive.kind === 'sleep' || d.state.cursor.step === 1) {
    now += 1000;
    d = step(d.state, fail, now);
    if (++guard > 20) break;
    if (d.directive.kind === 'continue') break;
  }
  t.same(d.state.cursor, { rung: 1, step: 0 }, 'next rung');
  t.equal(d.state.steps[1]!.error!.code, 'REM_ERR_GATE_TIMEOUT');
  t.same(
    d.state.rungs.map((r) => [r.name, r.outcome]),
    [['restart', 'failed']],
  );
  t.equal(d.state.verified, false);
});

t.test('no data never passes: a gate that only sees nodata fails with REM_ERR_GATE_NO_DATA', async (t) => {
  let d = step(initialRunState(), ok, T0);
  let now = T0;
  for (let i = 0; i < 10 && d.state.cursor.rung === 0; i++) {
    now += 1000;
    d = step(d.state, { type: 'observation', observation: { verdict: 'nodata', summary: 'empty result' } }, now);
  }
  t.equal(d.state.steps[1]!.error!.code, 'REM_ERR_GATE_NO_DATA');
});

t.test('the last rung failing escalates with the reason', async (t) => {
  const s = initialRunState();
  s.cursor = { rung: 1, step: 0 };
  let d = step(s, ok, T0);
  d = step(d.state, { type: 'observation', observation: { verdict: 'fatal', summary: 'ProgressDeadlineExceeded' } }, T0 + 1);
  t.equal(d.directive.kind, 'escalate');
  t.equal(d.state.status, 'escalated');
  t.match(d.state.outcome, /every rung failed; last: step "verify2": ProgressDeadlineExceeded/);
});

t.test('a non-retryable error fails the step at once and does not retry', async (t) => {
  const d = step(
    initialRunState(),
    { type: 'error', error: new RemediatorError('REM_ERR_KUBE_NOT_FOUND', 'deployment ai-ninja/x not found') },
    T0,
  );
  t.same(d.state.cursor, { rung: 1, step: 0 });
  t.equal(d.state.steps[0]!.attempts, 1);
});

t.test("remediator's own Redis away is retried whatever the step's retry policy, then the step goes on", async (t) => {
  const storeAway: StepEvent = {
    type: 'error',
    error: new RemediatorError('REM_ERR_STORE_UNAVAILABLE', 'escalation could not be enqueued: Connection is closed.'),
  };
  // fix2 (rung rollback) has no retry policy: one attempt for its own failures.
  const atFix2 = decide(
    ladder,
    beginStep(ladder, initialRunState(), T0),
    { type: 'error', error: new RemediatorError('REM_ERR_KUBE_NOT_FOUND', 'gone') },
    T0,
    opts,
  );
  t.same(atFix2.state.cursor, { rung: 1, step: 0 });
  let d = step(atFix2.state, storeAway, T0);
  const waits: number[] = [];
  let now = T0;
  while (d.directive.kind === 'sleep') {
    waits.push(d.directive.until - now);
    now = d.directive.until;
    d = step(d.state, storeAway, now);
  }
  t.same(waits, [1000, 2000, 4000, 8000], 'four more attempts over 15 s');
  t.equal(d.state.steps.at(-1)!.status, 'failed', 'then the step fails as any other');
  t.equal(d.state.steps.at(-1)!.attempts, 5);
  const recovered = step(step(atFix2.state, storeAway, T0).state, ok, T0 + 1000);
  t.same(recovered.state.cursor, { rung: 1, step: 1 }, 'Redis back at the next attempt: the step succeeded');
});

t.test('steps without a gate end as completed, never succeeded', async (t) => {
  const noGate = loadPlaybook(
    'n.yaml',
    `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: n }
spec:
  triggers: [{ matchers: ['alertname="X"'] }]
  steps:
    - id: a
      action: log
      with: { message: hi }
`,
    ctx,
  ).playbook!;
  const d = decide(noGate, beginStep(noGate, initialRunState(), T0), ok, T0, opts);
  t.equal(d.state.status, 'completed');
  t.match(d.state.outcome, /nothing verified the fix/);
});

t.test('a guard refusal ends or parks the run with its reason', async (t) => {
  const wait = step(
    initialRunState(),
    { type: 'refused', refusal: { reason: 'locked', message: 'run r1 holds the lock', then: 'wait', retryAfterMs: 2000 } },
    T0,
  );
  t.same(wait.directive, { kind: 'sleep', until: T0 + 2000 });
  const esc = step(
    initialRunState(),
    { type: 'refused', refusal: { reason: 'budget_exhausted', message: '3 runs in 1h', then: 'escalate' } },
    T0,
  );
  t.equal(esc.state.status, 'escalated');
  const skip = step(initialRunState(), { type: 'refused', refusal: { reason: 'maintenance', message: 'window w', then: 'skip-run' } }, T0);
  t.equal(skip.state.status, 'skipped');
});

t.test('a stop during a gate that waits between polls: the gate is interrupted, the run cancelled, nothing undone', async (t) => {
  let d = step(initialRunState(), ok, T0);
  d = step(d.state, fail, T0 + 10);
  t.ok(stepUnderWay(d.state), 'the gate is under way between its polls');
  const stopped = interruptStep(d.state, { by: 'Dana Oncall', reason: 'acknowledged in PagerDuty' }, T0 + 20);
  t.same(stopped.directive, { kind: 'done' });
  t.equal(stopped.state.status, 'cancelled');
  t.equal(stopped.state.outcome, 'cancelled by Dana Oncall: acknowledged in PagerDuty');
  const gate = stopped.state.steps.at(-1)!;
  t.equal(gate.id, 'verify1');
  t.equal(gate.status, 'failed');
  t.same(gate.error, { code: 'REM_ERR_STEP_INTERRUPTED', message: 'interrupted: Dana Oncall stopped the run (acknowledged in PagerDuty)' });
  t.equal(stopped.state.steps[0]!.status, 'succeeded', 'the fix that ran stays recorded as done');
  t.equal(stopped.state.rungs[0]!.outcome, 'running', 'the rung was cut short, not failed');
  t.equal(stopped.state.cursor.rung, 0, 'no further rung is entered');
});

t.test('a stop between steps ends the run without blaming a step', async (t) => {
  const d = step(initialRunState(), ok, T0);
  t.notOk(stepUnderWay(d.state));
  const stopped = interruptStep(d.state, { by: 'alice', reason: 'by hand' }, T0 + 5);
  t.equal(stopped.state.status, 'cancelled');
  t.notOk(stopped.state.steps.some((s) => s.error?.code === 'REM_ERR_STEP_INTERRUPTED'));
});

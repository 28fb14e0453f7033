import type { Logger } from 'pino';
import type { ValidateFunction } from 'ajv';
import type { Step } from '../domain/playbook.ts';
import { matchesAll } from '../domain/matcher.ts';
import type { Clock } from '../ports/clock.ts';
import type { HttpClient } from '../ports/http-client.ts';
import type { ActionResult, Admission, Observation, StepContextBase, StepDefinition, TargetRef } from './step-definition.ts';
import type { StepServices } from '../ports/step-services.ts';
import { FINAL_STATUSES, type PlanDiff, type RunState } from './run-state.ts';
import {
  beginStep,
  currentStep,
  decide,
  escalate,
  finish,
  interruptStep,
  stepUnderWay,
  type Transition,
  type StepEvent,
} from './decide.ts';
import { stopOf, type StopRequest } from './run-stopped.ts';
import { describeTarget } from '../domain/target-ref.ts';
import { RemediatorError, toRemediatorError } from '../domain/errors.ts';
import { render } from './template.ts';
import { createAjv, describeErrors } from '../schema/validator.ts';
import type { MutationGuard, GuardVerdict, RunStartVerdict } from './mutation-guard.ts';
import type { DecisionReason } from './decision.ts';
import type { RungRecord } from './run-state.ts';
import type { RunContext } from './run-context.ts';
import { createHash } from 'node:crypto';
import { formatDuration } from '../domain/duration.ts';
import { linkedSignal } from '../domain/linked-signal.ts';
import type { Random } from './backoff.ts';

export interface ExecutorDeps {
  services: StepServices;
  /**
   * The services of one decision, asked for before every step attempt (the run's start check shares the first
   * step's): the guard's checks and the step read through them, so an object is read once per decision, and a later
   * attempt reads it again. Default: `services` as they are.
   */
  decisionServices?(services: StepServices): StepServices;
  http: HttpClient;
  clock: Clock;
  log: Logger;
  /** Saves the state after every decision (the run record). A crash repeats at most the step in flight. */
  persist(state: RunState): Promise<void>;
  /**
   * Called once the state that ends the run escalated is saved: enqueues the page. A failure is logged, never fatal
   * here; the worker's closing work notices the page is missing and leaves it to the sweeper (src/queue/run-closer.ts).
   */
  escalate?(ctx: RunContext, state: RunState, reason: string): Promise<void>;
  /** The safety layer in front of every mutating step. Absent: mutations are admitted (tests of the bare engine). */
  guard?: MutationGuard;
  /** Reports how long one call of a step took and how it ended (the step-duration metric). */
  observe?(uses: string, result: string, seconds: number): void;
  /**
   * A rung started (told while its first step's guard checks run, done before that step calls its extension) or
   * ended (after the state showing its outcome is saved): the hook that adds a note to an open incident for each
   * further rung. Failures are logged, never fatal. After a crash a start may be told twice, an end at most once.
   */
  onRung?(ctx: RunContext, state: RunState, rung: RungRecord, phase: 'started' | 'ended', signal: AbortSignal): Promise<void>;
  /** Records a decision (with its reason code, and the person who made it when one did) on the run and its episode. */
  recordDecision?(reason: DecisionReason, message: string, by?: string): Promise<void>;
  /**
   * Aborted, with a RunStopped naming who and why, when the run's cancel request reaches the worker while it holds the
   * run: the step in flight is interrupted (its signal aborts) and no further step starts. Absent: a cancel is seen
   * when the run is next picked up (`ctx.cancel`).
   */
  stop?: AbortSignal;
  maxObservations: number;
  /**
   * What a mutating Kubernetes step waiting for approval would change: `dryRun` runs the step's own action as a dry
   * run on the services it is given (the same code that builds the real write), and the previewer reads the objects
   * and diffs them. Called once per plan, when its approval is first asked. Absent: the approval shows the plan only.
   */
  previewMutation?(dryRun: (services: StepServices) => Promise<unknown>, services: StepServices, signal: AbortSignal): Promise<PlanDiff>;
  /** The jitter of step retry waits (src/engine/backoff.ts). Default Math.random. */
  random?: Random;
}

/** The directive the queue adapter acts on: sleep (moveToDelayed) or done (complete the job). */
export type Outcome = { state: RunState } & ({ kind: 'sleep'; until: number } | { kind: 'done' });

/** Thrown when the worker's signal aborts mid-step (shutdown): the step's result is unknown and not recorded. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted by shutdown');
    this.name = 'InterruptedError';
  }
}

const strictAjv = createAjv({ coerce: true, verbose: true });
const strictValidators = new WeakMap<object, ValidateFunction>();
const MAX_STEPS_PER_WAKE = 200;

/**
 * Runs the playbook from the saved cursor until it must wait or it is over. Each step: evaluate `when`, render its
 * parameters, check them strictly, pass mutations through the guard layer, call the extension under the attempt
 * timeout, then let `decide` pick the next state, and persist it before going on.
 */
export async function executeRun(ctx: RunContext, initial: RunState, deps: ExecutorDeps, signal: AbortSignal): Promise<Outcome> {
  const outcome = await loop(ctx, initial, deps, signal);
  if (outcome.kind === 'done' && !FINAL_STATUSES.has(initial.status)) await deps.guard?.finishRun?.(ctx, outcome.state);
  return outcome;
}

async function loop(ctx: RunContext, initial: RunState, deps: ExecutorDeps, signal: AbortSignal): Promise<Outcome> {
  let state = initial;
  // The cancel read when the run was picked up, or one that reached the worker since.
  const cancelled = (): StopRequest | undefined => ctx.cancel ?? stopOf(deps.stop);
  const freshServices = () => deps.decisionServices?.(deps.services) ?? deps.services;
  // The start check and the first step are one decision when nothing runs between them.
  let shared: StepServices | undefined;
  if (overdue(ctx, state, deps.clock.now()) && !cancelled()) return timedOut(ctx, state, deps);
  // Held for a fleet (spec.fleet.hold): a queued run sleeps until then; a cancel (absorbed) ends it at once below.
  if (state.status === 'queued' && ctx.holdUntil !== undefined && ctx.holdUntil > deps.clock.now() && !cancelled())
    return { state, kind: 'sleep', until: wakeBy(ctx, ctx.holdUntil) };
  if (state.status === 'queued' && deps.guard?.startRun && !cancelled()) {
    shared = freshServices();
    let verdict: RunStartVerdict;
    try {
      verdict = await deps.guard.startRun(ctx, state, { services: shared, signal });
    } catch (err) {
      if (signal.aborted) throw new InterruptedError();
      throw err;
    }
    state = verdict.state;
    for (const n of verdict.notes ?? []) await deps.recordDecision?.(n.reason, n.message);
    if (verdict.refusal) {
      await deps.recordDecision?.(verdict.refusal.reason, verdict.refusal.message);
      const now = deps.clock.now();
      const r = verdict.refusal;
      const d =
        r.then === 'escalate'
          ? escalate(structuredClone(state), `${r.reason}: ${r.message}`, now)
          : finish(structuredClone(state), 'skipped', `${r.reason}: ${r.message}`, now);
      await deps.persist(d.state);
      if (d.directive.kind === 'escalate') await callEscalate(ctx, d.state, d.directive.reason, deps);
      return { state: d.state, kind: 'done' };
    }
  }
  for (let i = 0; i < MAX_STEPS_PER_WAKE; i++) {
    if (FINAL_STATUSES.has(state.status)) return { state, kind: 'done' };
    const now = deps.clock.now();
    const cancel = cancelled();
    if (cancel) {
      // A step that waits between its calls (a gate between polls, a `wait`, a batch between workloads) is stopped
      // where it is, and says so; between steps the run just ends.
      if (stepUnderWay(state)) return interrupted(ctx, state, cancel, { inFlight: false }, deps);
      const d = finish(structuredClone(state), 'cancelled', `cancelled by ${cancel.by}: ${cancel.reason}`, now);
      await deps.persist(d.state);
      return { state: d.state, kind: 'done' };
    }
    if (overdue(ctx, state, now)) return timedOut(ctx, state, deps);
    // A plan awaiting approval sleeps until its window closes, unless the answer is in: then it goes on at once. A run
    // waiting for a locked target asks again whenever it is woken.
    if (state.wakeAt !== undefined && state.wakeAt > now && !state.wakeEarly && !answered(ctx, state)) {
      if (!resolveCutsWait(ctx, state)) return { state, kind: 'sleep', until: wakeBy(ctx, state.wakeAt) };
      deps.log.info(
        { resolvedAt: ctx.run.alert.endsAt },
        'Alertmanager resolved the alert: the waiting gate checks again now (onResolved: skip-waits)',
      );
      state = { ...state, resolveCutWait: true };
    }
    const step = currentStep(ctx.playbook, state);
    if (!step) {
      const d = finish(structuredClone(state), 'failed', 'the cursor points past the playbook (it changed under the run)', now);
      await deps.persist(d.state);
      return { state: d.state, kind: 'done' };
    }
    const before = state;
    state = beginStep(ctx.playbook, state, now);
    // The rung's start is told while the step's guard checks run (neither waits on the other), and before the step
    // calls its extension. tellRungs never rejects.
    const told = tellRungs(ctx, before, state, deps, signal);
    const log = deps.log.child({ step: step.id, rung: ctx.playbook.rungs[state.cursor.rung]?.name, attempt: state.attempt + 1 });
    const services = shared ?? freshServices();
    shared = undefined;
    const event = await runStep(ctx, state, step, { ...deps, services }, log, signal, told);
    await told;
    if (event.type === 'interrupted') return interrupted(ctx, state, event.stop, { inFlight: true, targets: event.targets }, deps);
    if (event.type === 'refused') await deps.recordDecision?.(event.refusal.reason, event.refusal.message);
    if (event.type === 'approval' && state.approval?.planHash !== event.pending.planHash) {
      await deps.recordDecision?.('awaiting_approval', `step "${step.id}" waits for approval of its plan until ${event.pending.expiresAt}`);
    }
    if (event.type === 'result' && step.approval)
      await deps.recordDecision?.('approved', `step "${step.id}" ran the plan ${ctx.approvals?.[step.id]?.by ?? 'an approver'} approved`);
    const transition: Transition = decide(ctx.playbook, state, event, deps.clock.now(), {
      maxObservations: deps.maxObservations,
      random: deps.random,
    });
    const stepped = state;
    state = transition.state;
    logDecision(log, step, state);
    await deps.persist(state);
    await tellRungs(ctx, stepped, state, deps, signal);
    const dir = transition.directive;
    if (dir.kind === 'sleep') return { state, kind: 'sleep', until: wakeBy(ctx, dir.until) };
    if (dir.kind === 'done') return { state, kind: 'done' };
    if (dir.kind === 'escalate') {
      await callEscalate(ctx, state, dir.reason, deps);
      return { state, kind: 'done' };
    }
  }
  // A playbook cannot loop (jumps only go forward), so this is a safety net, not a path.
  return { state, kind: 'sleep', until: deps.clock.now() };
}

/**
 * Ends a run whose step a stop interrupted (interruptStep): the state is saved, then `step_interrupted` is recorded
 * naming who stopped it and what the run had done by then, since nothing is undone. The `cancelled` decision itself
 * was recorded with the cancel request.
 */
async function interrupted(
  ctx: RunContext,
  state: RunState,
  stop: StopRequest,
  how: { inFlight: boolean; targets?: TargetRef[] },
  deps: ExecutorDeps,
): Promise<Outcome> {
  const d = interruptStep(state, stop, deps.clock.now());
  await deps.persist(d.state);
  deps.log.warn({ by: stop.by, reason: stop.reason, inFlight: how.inFlight }, 'step interrupted: the run was cancelled');
  await deps.recordDecision?.('step_interrupted', interruptionMessage(ctx, state, stop, how), stop.by);
  return { state: d.state, kind: 'done' };
}

/**
 * What people need to know about an interrupted step: which step, who stopped it and why, how far it had got, and
 * what the run changed before (it stays: nothing is rolled back by a stop). A mutating step stopped in flight may
 * have sent its write already; the message names its objects rather than claim either way.
 */
function interruptionMessage(
  ctx: RunContext,
  state: RunState,
  stop: StopRequest,
  how: { inFlight: boolean; targets?: TargetRef[] },
): string {
  const rec = state.steps.at(-1);
  const step = currentStep(ctx.playbook, state);
  const parts = [
    `step "${rec?.id ?? step?.id ?? '?'}" (${rec?.uses ?? step?.uses ?? '?'}) was interrupted ${how.inFlight ? 'in flight' : 'while it waited between its calls'} by ${stop.by}: ${stop.reason}`,
  ];
  if (rec?.summary) parts.push(`it had got to: ${rec.summary}`);
  if (ctx.run.dryRun) return `${[...parts, 'a dry run: nothing was changed', 'no further step runs'].join('; ')}.`;
  if (how.inFlight && step?.mutating && how.targets?.length)
    parts.push(`its change to ${how.targets.map(describeTarget).join(', ')} may already have been sent, and is not undone`);
  const mutatingIds = new Set(ctx.playbook.rungs.flatMap((r) => r.steps.filter((s) => s.mutating).map((s) => s.id)));
  const done = state.steps.filter((s) => s !== rec && s.status === 'succeeded' && mutatingIds.has(s.id));
  parts.push(
    done.length > 0
      ? `changes made before stay in place: ${done.map((s) => `${s.id} (${s.uses}${s.summary ? `: ${s.summary}` : ''})`).join('; ')}`
      : 'no earlier step of the run changed anything',
  );
  parts.push('no further step runs');
  return `${parts.join('; ')}.`;
}

/**
 * `onResolved: skip-waits`: the alert's resolve (ingest records it on the run and wakes the run's delayed job) makes
 * a gate waiting for its next poll check again at once instead of after its interval. Once per run: the resolve is
 * not proof of health, so the gate still decides, and its later polls keep their interval. Approvals, retry backoffs,
 * lock waits and `wait` steps are never cut.
 */
function resolveCutsWait(ctx: RunContext, state: RunState): boolean {
  return (
    ctx.playbook.onResolved === 'skip-waits' &&
    ctx.run.alert.status === 'resolved' &&
    !state.resolveCutWait &&
    state.status === 'waiting' &&
    state.gate !== undefined &&
    currentStep(ctx.playbook, state)?.kind === 'gate'
  );
}

function overdue(ctx: RunContext, state: RunState, now: number): boolean {
  return ctx.deadline !== undefined && now >= ctx.deadline.at && !FINAL_STATUSES.has(state.status);
}

/** A sleeping run wakes at its deadline at the latest, so a long wait, poll interval or approval cannot outlive it. */
function wakeBy(ctx: RunContext, until: number): number {
  return ctx.deadline ? Math.min(until, ctx.deadline.at) : until;
}

/**
 * Ends an overdue run: the state is saved first (persist refuses when someone else already closed the run, so the
 * decision and the escalation below happen once across workers and the sweeper), then `timed_out` is recorded and
 * the escalation hook called.
 */
async function timedOut(ctx: RunContext, state: RunState, deps: ExecutorDeps): Promise<Outcome> {
  const { state: closed, reason } = timeOutState(state, ctx.deadline!.limitMs, deps.clock.now());
  await deps.persist(closed);
  deps.log.warn({ limitMs: ctx.deadline!.limitMs }, reason);
  await deps.recordDecision?.('timed_out', reason);
  await callEscalate(ctx, closed, reason, deps);
  return { state: closed, kind: 'done' };
}

/**
 * The state of a run closed because it exceeded its maximum duration (pure): the step it was on fails with
 * REM_ERR_RUN_DEADLINE, open rungs fail, and the run is `escalated` with the reason in its outcome. Used by the
 * executor and by the sweeper that closes overdue runs no worker holds.
 */
export function timeOutState(state: RunState, limitMs: number, now: number): { state: RunState; reason: string } {
  const s = structuredClone(state);
  const at = new Date(now).toISOString();
  const rec = s.steps.at(-1);
  const where =
    rec && (rec.status === 'running' || rec.status === 'pending')
      ? ` (it was on step "${rec.id}": ${rec.summary ?? rec.status})`
      : s.status === 'queued'
        ? ' (it never started)'
        : '';
  const reason = `the run did not end within its maximum duration of ${formatDuration(limitMs)}${where}`;
  if (rec && (rec.status === 'running' || rec.status === 'pending')) {
    rec.status = 'failed';
    rec.error = { code: 'REM_ERR_RUN_DEADLINE', message: reason };
    rec.endedAt = at;
  }
  for (const r of s.rungs) {
    if (r.outcome !== 'running') continue;
    r.outcome = 'failed';
    r.reason = reason;
    r.endedAt = at;
  }
  s.approval = undefined;
  return { state: escalate(s, reason, now).state, reason };
}

async function callEscalate(ctx: RunContext, state: RunState, reason: string, deps: ExecutorDeps): Promise<void> {
  await deps.recordDecision?.('escalated', reason);
  if (!deps.escalate) return;
  try {
    await deps.escalate(ctx, state, reason);
  } catch (err) {
    deps.log.error({ err }, "escalation could not be enqueued; it is tried again when the run's closing is swept");
  }
}

/** Tells `deps.onRung` which rungs started or ended between two states. Never rejects: a failed hook is logged. */
async function tellRungs(ctx: RunContext, prev: RunState, next: RunState, deps: ExecutorDeps, signal: AbortSignal): Promise<void> {
  if (!deps.onRung) return;
  for (const rung of next.rungs) {
    const was = prev.rungs.find((r) => r.name === rung.name);
    const phase = !was ? 'started' : was.outcome === 'running' && rung.outcome !== 'running' ? 'ended' : undefined;
    if (!phase) continue;
    try {
      await deps.onRung(ctx, next, rung, phase, signal);
    } catch (err) {
      deps.log.warn({ err, rung: rung.name, phase }, 'rung hook failed');
    }
  }
}

async function runStep(
  ctx: RunContext,
  state: RunState,
  step: Step,
  deps: ExecutorDeps,
  log: Logger,
  signal: AbortSignal,
  /** Settles before the step calls its extension (the rung-start notes). */
  ready: Promise<void>,
): Promise<StepEvent | { type: 'interrupted'; stop: StopRequest; targets: TargetRef[] }> {
  const skip = whenFails(ctx, state, step);
  if (skip) return { type: 'skip', reason: skip };
  let params: unknown;
  try {
    params = renderParams(ctx, state, step);
  } catch (err) {
    return { type: 'error', error: toRemediatorError(err) };
  }
  let targets: TargetRef[] = [];
  if (step.mutating && step.definition.kind === 'action') {
    try {
      targets = [
        (await step.definition.mutates?.(params, { changes: state.changes, outputs: state.outputs, limits: deps.services.limits })) ?? [],
      ].flat();
    } catch (err) {
      return { type: 'error', error: toRemediatorError(err) };
    }
  }
  const each = step.definition.kind === 'action' && step.definition.admission === 'each';
  // A dry run (the approval's preview) records no decision and asks the guard nothing: it only reads and writes
  // with dryRun=All.
  const base = (services: StepServices, dryRun: boolean): StepContextBase<unknown> => ({
    params,
    run: dryRun ? { ...ctx.run, dryRun: true } : ctx.run,
    step: { id: step.id, attempt: state.attempt + 1, rung: ctx.playbook.rungs[state.cursor.rung]!.name },
    verified: state.verified,
    state: dryRun ? undefined : state.stepState,
    outputs: state.outputs,
    changes: state.changes,
    signal,
    log,
    clock: deps.clock,
    http: deps.http,
    services,
    ...(deps.recordDecision && !dryRun ? { recordDecision: deps.recordDecision } : {}),
    ...(each && !dryRun ? { admit: (target: TargetRef) => admitOne(ctx, state, step, params, target, deps, signal) } : {}),
  });
  if (step.approval) {
    const gate = approvalGate(ctx, state, step, params, targets.length > 1 ? targets : targets[0], deps.clock.now());
    // A new plan: what it would change is worked out once, now, by a dry run of the step itself.
    if (gate?.type === 'approval' && state.approval?.planHash !== gate.pending.planHash && deps.previewMutation) {
      const dryRun = (services: StepServices) =>
        withTimeout(step.definition, base(services, true), step.attemptTimeoutMs, signal, deps.stop);
      const diff = await previewDiff(step, dryRun, deps, signal);
      if (diff) gate.pending.diff = diff;
    }
    if (gate) return gate;
  }
  // Each object is admitted before anything is written; the first refusal stops the step. An `admission: 'each'`
  // action asks for each object itself, just before writing it (ctx.admit above).
  for (const target of deps.guard && !each ? targets : []) {
    let verdict: GuardVerdict;
    try {
      verdict = await deps.guard!.admit({ ctx, state, step, target, params, services: deps.services, signal });
    } catch (err) {
      if (signal.aborted) throw new InterruptedError();
      throw err;
    }
    if (!verdict.admit) return { type: 'refused', refusal: verdict.refusal };
  }
  await ready;
  // Stopped while the guard admitted it (or while the rung-start notes went out): the step was never called, so it
  // sent nothing.
  const before = stopOf(deps.stop);
  if (before) return { type: 'interrupted', stop: before, targets: [] };
  const started = performance.now();
  const timed = (result: string) => deps.observe?.(step.uses, result, (performance.now() - started) / 1000);
  try {
    const value = await withTimeout(step.definition, base(deps.services, false), step.attemptTimeoutMs, signal, deps.stop);
    if (step.kind === 'gate') {
      const observation = value as Observation;
      timed(observation.verdict);
      return { type: 'observation', observation };
    }
    const result = value as ActionResult;
    timed(result.status);
    return { type: 'result', result };
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    // Stopped: whatever the step made of its aborted calls, it did not fail on its own.
    const stop = stopOf(deps.stop);
    if (stop) {
      timed('REM_ERR_STEP_INTERRUPTED');
      return { type: 'interrupted', stop, targets };
    }
    const error = toRemediatorError(err);
    timed(error.code);
    return { type: 'error', error };
  }
}

/**
 * One object of an `admission: 'each'` action through the guard layer, as the up-front loop does for other actions;
 * a refusal is recorded as a decision here (the step itself goes on), so the action only reports it.
 */
async function admitOne(
  ctx: RunContext,
  state: RunState,
  step: Step,
  params: unknown,
  target: TargetRef,
  deps: ExecutorDeps,
  signal: AbortSignal,
): Promise<Admission> {
  if (!deps.guard) return { admitted: true };
  let verdict: GuardVerdict;
  try {
    verdict = await deps.guard.admit({ ctx, state, step, target, params, services: deps.services, signal });
  } catch (err) {
    if (signal.aborted) throw new InterruptedError();
    throw err;
  }
  if (verdict.admit) return { admitted: true };
  const r = verdict.refusal;
  await deps.recordDecision?.(r.reason, r.message);
  return {
    admitted: false,
    reason: r.reason,
    message: r.message,
    wait: r.then === 'wait',
    ...(r.retryAfterMs === undefined ? {} : { retryAfterMs: r.retryAfterMs }),
  };
}

/**
 * Calls the extension with a signal that aborts at the attempt timeout, when the worker shuts down (InterruptedError)
 * or when the run is stopped (RunStopped). A run stopped before the call never calls it.
 */
async function withTimeout(
  def: StepDefinition,
  base: StepContextBase<unknown>,
  timeoutMs: number,
  parent: AbortSignal,
  stop: AbortSignal | undefined,
): Promise<unknown> {
  if (stop?.aborted) throw stop.reason;
  // The attempt's signal is unhooked from the worker's and the run's once the attempt is over (linked-signal.ts).
  const { signal, dispose } = linkedSignal([parent, stop], {
    timeoutMs,
    timeoutReason: () => new RemediatorError('REM_ERR_STEP_TIMEOUT', `attempt timed out after ${timeoutMs} ms`),
  });
  try {
    const call = def.kind === 'gate' ? def.check({ ...base, signal }) : def.run({ ...base, signal });
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(parent.aborted ? new InterruptedError() : signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    return await Promise.race([call, aborted]);
  } catch (err) {
    if (parent.aborted) throw new InterruptedError();
    throw err;
  } finally {
    dispose();
  }
}

/**
 * The diff of a mutating Kubernetes step's plan, for its approval (see ExecutorDeps.previewMutation). A dry run that
 * fails is shown as the reason no diff could be made; only the worker's shutdown is an error here.
 */
async function previewDiff(
  step: Step,
  dryRun: (services: StepServices) => Promise<unknown>,
  deps: ExecutorDeps,
  signal: AbortSignal,
): Promise<PlanDiff | undefined> {
  if (!step.mutating || step.definition.kind !== 'action' || !step.definition.needs?.includes('kube')) return undefined;
  try {
    return await deps.previewMutation!(dryRun, deps.services, signal);
  } catch (err) {
    if (err instanceof InterruptedError || signal.aborted) throw new InterruptedError();
    const e = toRemediatorError(err);
    return { at: new Date(deps.clock.now()).toISOString(), objects: [], error: `the dry run failed: ${e.code}: ${e.message}` };
  }
}

/** Whether an operator answered the plan the run waits on (that exact plan: same step, same hash). */
function answered(ctx: RunContext, state: RunState): boolean {
  const pending = state.approval;
  return pending !== undefined && ctx.approvals?.[pending.stepId]?.planHash === pending.planHash;
}

/**
 * A step that needs approval runs only when an operator approved exactly this plan (same hash) before it expired.
 * Returns the event to record instead of running, or undefined to run the step.
 */
function approvalGate(
  ctx: RunContext,
  state: RunState,
  step: Step,
  params: unknown,
  target: TargetRef | TargetRef[] | undefined,
  now: number,
): StepEvent | undefined {
  const plan = { step: step.id, uses: step.uses, params, target, dryRun: ctx.run.dryRun };
  const planHash = createHash('sha256').update(JSON.stringify(plan)).digest('hex');
  const answer = ctx.approvals?.[step.id];
  if (answer && answer.planHash === planHash) {
    if (answer.verdict === 'approved') return undefined;
    return {
      type: 'refused',
      refusal: { reason: 'rejected', message: `${answer.by} rejected the plan of step "${step.id}": ${answer.reason}`, then: 'skip-run' },
    };
  }
  const pending = state.approval?.stepId === step.id && state.approval.planHash === planHash ? state.approval : undefined;
  if (pending && Date.parse(pending.expiresAt) <= now) {
    return {
      type: 'refused',
      refusal: { reason: 'approval_expired', message: `nobody approved step "${step.id}" before ${pending.expiresAt}`, then: 'escalate' },
    };
  }
  const expiresAt = pending ? Date.parse(pending.expiresAt) : now + step.approval!.timeoutMs;
  return {
    type: 'approval',
    verdict: 'waiting',
    until: expiresAt,
    summary: `awaiting approval of its plan (POST /v1/runs/${ctx.run.id}/approve) until ${new Date(expiresAt).toISOString()}`,
    pending: pending ?? {
      stepId: step.id,
      planHash,
      plan,
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(expiresAt).toISOString(),
    },
  };
}

function whenFails(ctx: RunContext, state: RunState, step: Step): string | undefined {
  const w = step.when;
  if (!w) return undefined;
  if (w.dryRun !== undefined && w.dryRun !== ctx.run.dryRun)
    return `when.dryRun is ${w.dryRun}; this run is ${ctx.run.dryRun ? '' : 'not '}a dry run`;
  for (const [id, allowed] of Object.entries(w.steps ?? {})) {
    const rec = [...state.steps].reverse().find((r) => r.id === id);
    const outcome = rec
      ? rec.status === 'succeeded' || rec.status === 'failed' || rec.status === 'skipped'
        ? rec.status
        : undefined
      : 'skipped';
    if (!outcome || !allowed.includes(outcome)) return `when.steps.${id} needs ${allowed.join(' or ')}, it was ${outcome ?? 'not run'}`;
  }
  if (w.alert && !matchesAll(w.alert, ctx.run.alert.labels)) return `when.alert matchers do not hold for this alert`;
  return undefined;
}

export function templateView(ctx: RunContext, state: RunState): Record<string, unknown> {
  return {
    alert: ctx.run.alert,
    labels: ctx.run.alert.labels,
    annotations: ctx.run.alert.annotations,
    params: ctx.params,
    steps: state.outputs,
    run: { id: ctx.run.id, playbook: ctx.run.playbook, dryRun: ctx.run.dryRun, manual: ctx.run.manual },
    target: ctx.target,
  };
}

/** Renders a step's parameters and checks them strictly against its schema (label strings coerced to numbers). */
export function renderParams(ctx: RunContext, state: RunState, step: Step): unknown {
  const rendered = render(step.with, templateView(ctx, state));
  let validate = strictValidators.get(step.definition.params);
  if (!validate) {
    validate = strictAjv.compile(JSON.parse(JSON.stringify(step.definition.params)));
    strictValidators.set(step.definition.params, validate);
  }
  if (!validate(rendered)) {
    const lines = describeErrors(validate.errors, 'with');
    const nameProblem = validate.errors?.some((e) => e.keyword === 'format' && String(e.params.format).startsWith('dns1123'));
    throw new RemediatorError(
      nameProblem ? 'REM_ERR_INVALID_NAME' : 'REM_ERR_TEMPLATE',
      `${step.uses} parameters after rendering: ${lines.join('; ')}`,
      { details: { problems: lines } },
    );
  }
  return rendered;
}

function logDecision(log: Logger, step: Step, state: RunState): void {
  const rec = state.steps.at(-1);
  if (!rec) return;
  const fields = { status: rec.status, summary: rec.summary, error: rec.error, reason: rec.reason, runStatus: state.status };
  if (rec.status === 'failed') log.warn(fields, `${step.uses} ${step.id}: failed: ${rec.error?.message ?? ''}`);
  else if (rec.status === 'pending') log.debug(fields, `${step.uses} ${step.id}: ${rec.summary ?? 'pending'}`);
  else log.info(fields, `${step.uses} ${step.id}: ${rec.status}${rec.summary ? ` — ${rec.summary}` : ''}`);
}

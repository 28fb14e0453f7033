import type { Playbook, Step } from '../domain/playbook.ts';
import type { ActionResult, Observation } from './step-definition.ts';
import type { RunState, StepRecord, StepError, PendingApproval } from './run-state.ts';
import type { RemediatorError } from '../domain/errors.ts';
import { nextRetry, type Random, type RetryPolicy } from './backoff.ts';
import type { Refusal } from './mutation-guard.ts';

/**
 * The pure core of the engine: given the run state, the playbook and what one call of a step produced, decide
 * the next state and what the worker does next. No I/O, no clock reads (time is passed in), so every ladder
 * decision is unit-testable.
 */
export type Directive =
  /** Run the step under the cursor now. */
  | { kind: 'continue' }
  /** Come back at `until` (ms): a retry backoff, a gate interval, a pending action, an approval. */
  | { kind: 'sleep'; until: number }
  /** The run is over with `state.status`. */
  | { kind: 'done' }
  /** Hand over to a human, then the run is over with status `escalated`. */
  | { kind: 'escalate'; reason: string };

/** What `decide` returns: the next state of the run and what the executor does next. Pure; nothing is stored here (`RunStore.recordDecision` stores the recorded Decision of src/engine/decision.ts). */
export interface Transition {
  state: RunState;
  directive: Directive;
}

export type StepEvent =
  | { type: 'refused'; refusal: Refusal }
  | { type: 'approval'; verdict: 'waiting'; until: number; summary: string; pending: PendingApproval }
  | { type: 'result'; result: ActionResult }
  | { type: 'error'; error: RemediatorError }
  | { type: 'observation'; observation: Observation }
  | { type: 'skip'; reason: string };

export interface DecideOptions {
  /** Gate observations kept per step. */
  maxObservations: number;
  /** The jitter of retry waits (src/engine/backoff.ts). Default Math.random; tests inject a fixed one. */
  random?: Random;
}

export function currentStep(p: Playbook, s: RunState): Step | undefined {
  return p.rungs[s.cursor.rung]?.steps[s.cursor.step];
}

/** Marks the current step as started (first call) or re-entered (later calls) and returns its record. */
export function beginStep(p: Playbook, state: RunState, now: number): RunState {
  const s = structuredClone(state);
  const step = currentStep(p, s)!;
  const rung = p.rungs[s.cursor.rung]!;
  if (!s.rungs.some((r) => r.name === rung.name)) s.rungs.push({ name: rung.name, outcome: 'running', startedAt: iso(now) });
  let rec = s.steps.at(-1);
  if (!rec || rec.id !== step.id || isFinished(rec)) {
    rec = { id: step.id, rung: rung.name, uses: step.uses, kind: step.kind, status: 'running', startedAt: iso(now), attempts: 0 };
    s.steps.push(rec);
    s.stepStartedAt = now;
    s.attempt = 0;
    s.stepState = undefined;
    s.gate = step.kind === 'gate' ? { consecutive: 0, polls: 0 } : undefined;
  }
  rec.status = 'running';
  s.status = 'running';
  s.startedAt ??= iso(now);
  s.wakeAt = undefined;
  s.wakeEarly = undefined;
  return s;
}

export function decide(p: Playbook, state: RunState, event: StepEvent, now: number, opts: DecideOptions): Transition {
  const s = structuredClone(state);
  const step = currentStep(p, s)!;
  const rec = s.steps.at(-1)!;

  switch (event.type) {
    case 'refused': {
      const r = event.refusal;
      rec.reason = `${r.reason}: ${r.message}`;
      if (r.then === 'wait') {
        rec.status = 'pending';
        rec.summary = `waiting: ${r.message}`;
        return sleep(s, now + (r.retryAfterMs ?? 5_000), { early: true });
      }
      rec.status = 'skipped';
      rec.endedAt = iso(now);
      const rung = p.rungs[s.cursor.rung]!;
      closeRung(s, rung.name, 'failed', r.message, now);
      if (r.then === 'escalate') return escalate(s, `${r.reason}: ${r.message}`, now);
      return finish(s, 'skipped', `${r.reason}: ${r.message}`, now);
    }
    case 'approval': {
      rec.status = 'pending';
      rec.summary = event.summary;
      s.status = 'awaiting_approval';
      s.approval = event.pending;
      s.wakeAt = event.until;
      return { state: s, directive: { kind: 'sleep', until: event.until } };
    }
    case 'skip': {
      rec.status = 'skipped';
      rec.reason = event.reason;
      rec.endedAt = iso(now);
      return advance(p, s, now);
    }
    case 'result': {
      s.attempt += 1;
      rec.attempts = s.attempt;
      const r = event.result;
      if (r.status === 'pending') {
        rec.status = 'pending';
        rec.summary = r.summary ?? rec.summary;
        s.stepState = r.state;
        s.attempt -= 1; // waiting is not another attempt
        rec.attempts = Math.max(1, s.attempt + 1);
        const deadline = step.deadlineMs === undefined ? Infinity : (s.stepStartedAt ?? now) + step.deadlineMs;
        const until = now + Math.max(0, r.resumeAfterMs);
        if (until > deadline && step.deadlineExplicit) {
          return failStep(p, s, { code: 'REM_ERR_STEP_DEADLINE', message: `step "${step.id}" did not finish within its deadline` }, now);
        }
        return sleep(s, until);
      }
      if (r.status === 'skipped') {
        rec.status = 'skipped';
        rec.reason = r.reason;
        rec.output = r.output;
        rec.endedAt = iso(now);
        if (r.output) s.outputs[step.id] = r.output;
        return advance(p, s, now);
      }
      rec.status = 'succeeded';
      rec.output = r.output;
      rec.summary = r.summary;
      rec.endedAt = iso(now);
      s.outputs[step.id] = r.output ?? {};
      if (r.changes?.length) s.changes.push(...r.changes);
      return advance(p, s, now);
    }
    case 'error': {
      const err = event.error;
      if (step.kind === 'gate') {
        // A gate that cannot poll (Prometheus down, a 5xx) has not passed; keep polling unless the error is final.
        if (err.retryable) return onObservation(p, s, step, { verdict: 'fail', summary: `${err.code}: ${err.message}` }, now, opts);
        return failStep(p, s, errorOf(err), now);
      }
      s.attempt += 1;
      rec.attempts = s.attempt;
      rec.error = errorOf(err);
      const next = err.retryable
        ? nextRetry(retryPolicyFor(step.retry, err.code), s.attempt, {
            now,
            deadline: (s.stepStartedAt ?? now) + step.deadlineMs,
            random: opts.random,
          })
        : undefined;
      if (next?.retry) {
        rec.status = 'pending';
        rec.summary = `attempt ${s.attempt} failed (${err.code}); retrying in ${Math.round(next.delayMs / 1000)} s`;
        return sleep(s, now + next.delayMs);
      }
      return failStep(p, s, errorOf(err), now);
    }
    case 'observation':
      return onObservation(p, s, step, event.observation, now, opts);
  }
}

function onObservation(p: Playbook, s: RunState, step: Step, obs: Observation, now: number, opts: DecideOptions): Transition {
  const rec = s.steps.at(-1)!;
  s.gate ??= { consecutive: 0, polls: 0 };
  const g = s.gate;
  g.polls += 1;
  rec.polls = g.polls;
  rec.attempts = g.polls;
  rec.summary = obs.summary;
  recordObservation(rec, obs, now, opts.maxObservations);
  if (obs.state !== undefined) s.stepState = obs.state;

  if (obs.verdict === 'fatal') return failStep(p, s, { code: 'REM_ERR_GATE_FAILED', message: obs.summary }, now);
  const interval = step.gate!.intervalMs;
  const successes = step.gate!.successes;
  if (obs.verdict === 'pass') {
    g.consecutive += 1;
    if (g.consecutive >= successes) {
      rec.status = 'succeeded';
      rec.endedAt = iso(now);
      rec.output = { ...obs.output, passes: g.consecutive, polls: g.polls, last: obs.summary };
      s.outputs[step.id] = rec.output;
      s.verified = true;
      return advance(p, s, now);
    }
  } else {
    g.consecutive = 0;
  }
  const deadline = (s.stepStartedAt ?? now) + step.deadlineMs;
  if (now + interval > deadline) {
    const code = obs.verdict === 'nodata' ? 'REM_ERR_GATE_NO_DATA' : 'REM_ERR_GATE_TIMEOUT';
    const why = obs.verdict === 'pass' ? `only ${g.consecutive} of ${successes} consecutive passes` : `last poll: ${obs.summary}`;
    return failStep(p, s, { code, message: `gate "${step.id}" did not pass within ${Math.round(step.deadlineMs / 1000)} s (${why})` }, now);
  }
  rec.status = 'pending';
  return sleep(s, now + interval);
}

/** The step failed for good: apply its onFailure. */
export function failStep(p: Playbook, state: RunState, error: StepError, now: number): Transition {
  const s = state;
  const step = currentStep(p, s)!;
  const rec = s.steps.at(-1)!;
  rec.status = 'failed';
  rec.error = error;
  rec.endedAt = iso(now);
  s.outputs[step.id] = { failed: true, error };
  const rung = p.rungs[s.cursor.rung]!;
  const target = step.onFailure;
  if (target === 'continue') return advance(p, s, now);
  if (target === 'abort') return finish(s, 'failed', `step "${step.id}" failed and aborted the run: ${error.message}`, now, rung.name);
  if (target === 'escalate') {
    closeRung(s, rung.name, 'failed', `step "${step.id}" failed: ${error.message}`, now);
    return escalate(s, `step "${step.id}" failed: ${error.message}`, now);
  }
  if (target !== 'next-rung') {
    const pos = findStep(p, target);
    if (pos) {
      if (pos.rung !== s.cursor.rung) closeRung(s, rung.name, 'failed', `step "${step.id}" failed: ${error.message}`, now);
      return move(s, pos, now);
    }
  }
  closeRung(s, rung.name, 'failed', `step "${step.id}" failed: ${error.message}`, now);
  if (s.cursor.rung + 1 < p.rungs.length) return move(s, { rung: s.cursor.rung + 1, step: 0 }, now);
  const why = `every rung failed; last: step "${step.id}": ${error.message}`;
  if (p.onExhausted.escalate) return escalate(s, why, now);
  return finish(s, 'failed', why, now);
}

/** The current step is done (succeeded, skipped or failed-and-continue): go to the next one or end the rung. */
function advance(p: Playbook, s: RunState, now: number): Transition {
  const rung = p.rungs[s.cursor.rung]!;
  if (s.cursor.step + 1 < rung.steps.length) return move(s, { rung: s.cursor.rung, step: s.cursor.step + 1 }, now);
  // The rung is done: it fixed things only if a gate verified it.
  const verified = s.verified;
  closeRung(s, rung.name, 'succeeded', verified ? 'verification gates passed' : 'all steps ran; no gate verified the fix', now);
  return finish(
    s,
    verified ? 'succeeded' : 'completed',
    verified
      ? `rung "${rung.name}" fixed it: verification gates passed`
      : `rung "${rung.name}" ran every step but nothing verified the fix`,
    now,
  );
}

function move(s: RunState, to: { rung: number; step: number }, _now: number): Transition {
  if (to.rung !== s.cursor.rung) s.verified = false;
  s.cursor = to;
  s.attempt = 0;
  s.stepState = undefined;
  s.stepStartedAt = undefined;
  s.gate = undefined;
  return { state: s, directive: { kind: 'continue' } };
}

/**
 * Attempts a step gets when remediator's own Redis is away (a Sentinel failover, a restart), whatever its retry
 * policy: that says nothing about the step, and the worker itself waits for Redis. With the default backoff (1 s,
 * doubling) they span about 15 s, still within the step's deadline.
 */
export const STORE_AWAY_ATTEMPTS = 5;

function retryPolicyFor(policy: RetryPolicy, code: string): RetryPolicy {
  if (code !== 'REM_ERR_STORE_UNAVAILABLE' || policy.attempts >= STORE_AWAY_ATTEMPTS) return policy;
  return {
    attempts: STORE_AWAY_ATTEMPTS,
    backoffMs: Math.max(policy.backoffMs, 1000),
    factor: Math.max(policy.factor, 2),
    maxBackoffMs: Math.max(policy.maxBackoffMs, 8000),
  };
}

/** `early`: any wake of the run ends the wait (a locked target, whose release wakes its waiters). */
function sleep(s: RunState, until: number, opts: { early?: boolean } = {}): Transition {
  s.status = 'waiting';
  s.wakeAt = until;
  s.wakeEarly = opts.early === true ? true : undefined;
  return { state: s, directive: { kind: 'sleep', until } };
}

export function finish(s: RunState, status: RunState['status'], outcome: string, now: number, openRung?: string): Transition {
  if (openRung) closeRung(s, openRung, 'failed', outcome, now);
  s.status = status;
  s.outcome = outcome;
  s.endedAt = iso(now);
  s.wakeAt = undefined;
  return { state: s, directive: { kind: 'done' } };
}

/**
 * The run was stopped (its cancel request) while a step was under way: in flight, or between the calls of a step that
 * waits (a gate between polls, a `wait`, a batch between workloads). The step fails with REM_ERR_STEP_INTERRUPTED
 * naming who stopped it and the run ends `cancelled`; its rung is left open, as any cancel leaves it (it was cut short,
 * it did not fail: reports show it stopped). Nothing is undone: what the step had done stays, as its record says.
 */
export function interruptStep(state: RunState, stop: { by: string; reason: string }, now: number): Transition {
  const s = structuredClone(state);
  const rec = s.steps.at(-1);
  const outcome = `cancelled by ${stop.by}: ${stop.reason}`;
  if (!rec || isFinished(rec)) return finish(s, 'cancelled', outcome, now);
  rec.status = 'failed';
  rec.error = { code: 'REM_ERR_STEP_INTERRUPTED', message: `interrupted: ${stop.by} stopped the run (${stop.reason})` };
  rec.endedAt = iso(now);
  return finish(s, 'cancelled', outcome, now);
}

/** A step is under way: started and not finished (running, or pending between its calls). */
export function stepUnderWay(state: RunState): boolean {
  const rec = state.steps.at(-1);
  return rec !== undefined && !isFinished(rec);
}

export function escalate(s: RunState, reason: string, now: number): Transition {
  s.status = 'escalated';
  s.outcome = `escalated: ${reason}`;
  s.escalation = { reason, at: iso(now) };
  s.endedAt = iso(now);
  s.wakeAt = undefined;
  return { state: s, directive: { kind: 'escalate', reason } };
}

function closeRung(s: RunState, name: string, outcome: 'succeeded' | 'failed', reason: string, now: number): void {
  const r = s.rungs.find((x) => x.name === name);
  if (r && r.outcome === 'running') {
    r.outcome = outcome;
    r.reason = reason;
    r.endedAt = iso(now);
  }
}

function findStep(p: Playbook, id: string): { rung: number; step: number } | undefined {
  for (let r = 0; r < p.rungs.length; r++) {
    const i = p.rungs[r]!.steps.findIndex((st) => st.id === id);
    if (i >= 0) return { rung: r, step: i };
  }
  return undefined;
}

function recordObservation(rec: StepRecord, obs: Observation, now: number, max: number): void {
  rec.observations ??= [];
  const list = rec.observations;
  const { state: _state, output: _output, ...shown } = obs;
  list.push({ ...shown, at: iso(now) });
  // Keep the first two polls (what it looked like at the start) and the most recent ones.
  if (list.length > max) list.splice(2, list.length - max);
}

function errorOf(err: RemediatorError): StepError {
  return err.details === undefined
    ? { code: err.code, message: err.message }
    : { code: err.code, message: err.message, details: err.details };
}

function isFinished(rec: StepRecord): boolean {
  return rec.status === 'succeeded' || rec.status === 'failed' || rec.status === 'skipped';
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

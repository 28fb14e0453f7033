import type { Static, TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Clock } from '../ports/clock.ts';
import type { HttpClient } from '../ports/http-client.ts';
import type { RemediatorError } from '../domain/errors.ts';
import type { StepServices } from '../ports/step-services.ts';
import type { DecisionReason } from './decision.ts';

/**
 * The contract between the engine and its extensions. An action or a gate is one file exporting one definition,
 * listed on one line of `src/actions/index.ts` or `src/gates/index.ts`. Its `params` schema (TypeBox, so the same
 * object is the JSON Schema and the TypeScript type) is checked when a playbook loads, and checked again after
 * templates are rendered, before `run`/`check` is called.
 */

export { targetKey, describeTarget, type TargetRef } from '../domain/target-ref.ts';
export type { AlertView, RunInfo } from '../domain/run-info.ts';
import type { TargetRef } from '../domain/target-ref.ts';
import type { RunInfo } from '../domain/run-info.ts';

/** A change a mutating step made, kept on the run so `kube.restore` (and operators) can revert it. */
export interface RecordedChange {
  target: TargetRef;
  /** What was there before, in the shape the action can write back (e.g. `{ data: { KEY: 'old' } }`). */
  before: unknown;
  after: unknown;
  /** The action that can undo it, usually the one that made it. */
  action: string;
}

/** What `mutates` may read besides the parameters: the run so far and the service limits. */
export interface MutationScope {
  changes: readonly RecordedChange[];
  outputs: Readonly<Record<string, unknown>>;
  limits: StepServices['limits'];
}

export interface StepContextBase<P> {
  params: P;
  run: RunInfo;
  step: { id: string; attempt: number; rung: string };
  /**
   * Whether a verification gate of the current rung has passed: the fix this rung made is verified so far. What lets
   * an `escalate` step tell a recovery rather than a hand-over.
   */
  verified?: boolean;
  /** Whatever the step returned as `state` in its last `pending` result; undefined on the first call. */
  state: unknown;
  /** Outputs of the steps that already finished in this run, by step id. */
  outputs: Readonly<Record<string, unknown>>;
  /** Changes recorded by earlier steps of this run (oldest first). */
  changes: readonly RecordedChange[];
  /** Aborted when the attempt times out, the run is cancelled or the worker shuts down. Pass it to every I/O call. */
  signal: AbortSignal;
  log: Logger;
  clock: Clock;
  http: HttpClient;
  services: StepServices;
  /**
   * For an action with `admission: 'each'` only: passes one object through the guard layer (scope, storm, budget,
   * lock, GitOps suspension) before the action writes it. A refusal is recorded as a decision on the run before it is
   * answered; what the action does with it (a ❌ line, waiting) is its own. Absent for other steps.
   */
  admit?(target: TargetRef): Promise<Admission>;
  /** Records a decision (with its reason code) on the run and its episode, e.g. the objects a selector resolved to. */
  recordDecision?(reason: DecisionReason, message: string): Promise<void>;
}

/**
 * What the guard layer said about one object an `admission: 'each'` action asked about. `wait`: not now (another
 * run holds the object's lock, or its labels could not be read); ask again after `retryAfterMs`. Otherwise a refusal
 * is final for this object in this run.
 */
export type Admission =
  | { admitted: true }
  | { admitted: false; reason: DecisionReason; message: string; wait: boolean; retryAfterMs?: number };

export type ActionContext<P> = StepContextBase<P>;
export type GateContext<P> = StepContextBase<P>;

/** What one call of an action's `run` produced. Failures are thrown as RemediatorError. */
export type ActionResult =
  | { status: 'ok'; output?: Record<string, unknown>; changes?: RecordedChange[]; summary?: string }
  | { status: 'skipped'; reason: string; output?: Record<string, unknown> }
  /** Call me again after `resumeAfterMs` with this `state` (the worker does not hold a slot meanwhile). */
  | { status: 'pending'; resumeAfterMs: number; state?: unknown; summary?: string };

/**
 * What one poll of a gate saw. The engine, not the gate, counts consecutive passes, spaces polls by the step's
 * interval and fails the gate at its timeout.
 * - `pass`: this poll satisfied the condition.
 * - `fail`: not satisfied yet (keep polling).
 * - `nodata`: nothing to judge (an empty Prometheus answer for a threshold); never counts as a pass.
 * - `fatal`: a definitive failure; the gate fails now (e.g. ProgressDeadlineExceeded).
 */
export interface Observation {
  verdict: 'pass' | 'fail' | 'nodata' | 'fatal';
  /** One line for people: `HTTP 200 in 12 ms`, `up = 0`, `2 of 3 updated replicas are available`. */
  summary: string;
  value?: unknown;
  statusCode?: number;
  latencyMs?: number;
  /** Persisted and handed back as `ctx.state` on the next poll (e.g. a pinned revision). */
  state?: unknown;
  output?: Record<string, unknown>;
}

interface DefinitionBase<S extends TSchema> {
  /** `kube.rolloutRestart`, `http.check`: the name playbooks use. */
  name: string;
  /** One sentence for `GET /v1/playbooks`, the JSON Schema and the docs. */
  summary: string;
  params: S;
  /** Services the step needs; a playbook using it is refused at load when one is not configured. */
  needs?: ReadonlyArray<keyof StepServices>;
}

export interface ActionDefinition<S extends TSchema = TSchema> extends DefinitionBase<S> {
  kind: 'action';
  /**
   * The object(s) this action would mutate, or null when it mutates nothing. Every one goes through the guard layer
   * (lock, budget, scope, dry-run, approval) before `run` is called; the action itself never checks guards. `scope`
   * holds what earlier steps of this run changed and output and the service limits, for actions whose objects are
   * not in their parameters (kube.restore: the run's changes; kube.apply: the manifest's objects). A throw fails the
   * step like an error of `run`.
   */
  mutates?(params: Static<S>, scope: MutationScope): TargetRef | TargetRef[] | null | Promise<TargetRef | TargetRef[] | null>;
  /**
   * `all` (default): every object `mutates` names is admitted before `run` is called, and the first refusal refuses the
   * whole step. `each`: for actions that write their objects one after another and report each (kube.batchRestart):
   * nothing is admitted up front; the action calls `ctx.admit(target)` before writing each object, so a refusal of
   * one object is that object's result and the others go on as the action's policy says. `mutates` still names the
   * objects for approval plans, RBAC and pre-flight.
   */
  admission?: 'all' | 'each';
  /** Kubernetes permissions needed, checked by pre-flight (SelfSubjectAccessReview) at load and in /readyz. */
  permissions?(params: Static<S>): Array<{ verb: string; group: string; resource: string; subresource?: string; namespace?: string }>;
  run(ctx: ActionContext<Static<S>>): Promise<ActionResult>;
}

export interface GateDefinition<S extends TSchema = TSchema> extends DefinitionBase<S> {
  kind: 'gate';
  /** Defaults for the step's `interval`, `timeout` and `successes` when the playbook does not set them. */
  defaults?: { intervalMs?: number; timeoutMs?: number; successes?: number };
  permissions?(params: Static<S>): Array<{ verb: string; group: string; resource: string; subresource?: string; namespace?: string }>;
  check(ctx: GateContext<Static<S>>): Promise<Observation>;
}

export type StepDefinition = ActionDefinition | GateDefinition;

export function defineAction<S extends TSchema>(def: Omit<ActionDefinition<S>, 'kind'>): ActionDefinition<S> {
  return { ...def, kind: 'action' };
}

export function defineGate<S extends TSchema>(def: Omit<GateDefinition<S>, 'kind'>): GateDefinition<S> {
  return { ...def, kind: 'gate' };
}

export type { RemediatorError };

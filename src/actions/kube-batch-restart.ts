import { Type, type Static } from '@sinclair/typebox';
import { defineAction, type ActionContext, type ActionResult } from '../engine/step-definition.ts';
import { RemediatorError, toRemediatorError } from '../domain/errors.ts';
import { Duration, formatDuration, parseDuration } from '../domain/duration.ts';
import type { ObjectRef, WorkloadKind } from '../ports/cluster.ts';
import { permission } from '../kube/kinds.ts';
import { revisionOf } from '../kube/rollback-plan.ts';
import { rolloutStatus } from '../kube/rollout-status.ts';
import { kubeOf } from '../kube/step-kube.ts';
import { Namespace, ObjectName, WorkloadKindParam } from '../kube/step-params.ts';
import { restartWorkload } from './kube-rollout-restart.ts';

const params = Type.Object(
  {
    namespace: Namespace,
    names: Type.Optional(
      Type.Array(ObjectName, {
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
        description: 'The workloads to restart, in this order. Exactly one of names and selector.',
      }),
    ),
    selector: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        format: 'label-selector',
        description:
          'Restart the workloads of `kind` in the namespace whose labels match this selector (`app in (a,b)`, `tier=web,track!=canary`), as `kubectl rollout restart -l` picks them: listed once when the step starts, in name order, at most 50. Exactly one of names and selector.',
      }),
    ),
    kind: Type.Optional(WorkloadKindParam),
    first: Type.Optional(
      Type.Array(ObjectName, {
        maxItems: 50,
        uniqueItems: true,
        description:
          'Priority order: those of the workloads (named or selected) listed here go first, in this order; the rest follow in their own order.',
      }),
    ),
    onFailure: Type.Optional(
      Type.Union([Type.Literal('stop'), Type.Literal('continue')], {
        default: 'stop',
        description: 'After a workload fails to restart or become available: stop (the rest are not touched) or continue with the next.',
      }),
    ),
    availableTimeout: Type.Optional(
      Duration({ description: 'How long each workload may take to roll out and be available (default 5m).' }),
    ),
    pollInterval: Type.Optional(Duration({ description: 'How often a rolling workload is read again (default 2s).' })),
  },
  { additionalProperties: false, oneOf: [{ required: ['names'] }, { required: ['selector'] }] },
);

/** At most this many workloads in one batch, named or selected. */
const MAX_WORKLOADS = 50;

export type BatchMark = '✅' | '❌';

/** The outcome for one workload of the batch, in the run record and the page. */
export interface BatchObjectResult {
  name: string;
  mark: BatchMark;
  /**
   * restarted: rolled out and available; failed: the restart or the rollout failed; refused: the guard layer did not
   * let it be restarted (the reason code and message in `reason`); skipped: not attempted.
   */
  outcome: 'restarted' | 'failed' | 'refused' | 'skipped';
  reason: string;
  restartedAt?: string;
  revision?: number;
  tookMs?: number;
}

interface BatchState {
  /** With `selector`: the workloads it matched when the step started, in name order (the batch's `names`). */
  selected?: string[];
  /** The workload in progress; the next one is the first of the order without a result. */
  current?: string;
  /** The guard layer admitted `current` (asked once per workload, before its restart is written). */
  admitted?: boolean;
  /** Set once a failure stopped the batch (`onFailure: stop`). */
  stopped?: boolean;
  /** `wait`: its restart was written; waiting for the controller to roll it out. */
  phase: 'restart' | 'wait';
  since?: number;
  generation?: number;
  revision?: number;
  restartedAt?: string;
  results: BatchObjectResult[];
}

type Params = Static<typeof params>;

/**
 * The runbook's Fix 1.2: restart workloads one after another, as `kubectl rollout restart` does, and wait for each
 * to be rolled out and available (kubectl's rollout status viewers, src/kube/rollout-status.ts, pinned to the
 * revision the restart created) before the next. The result names every workload with ✅ or ❌ and why.
 *
 * The workloads are `names`, or those of `kind` a label `selector` matches in the namespace, resolved as kubectl
 * resolves `-l`: one list call with the selector (the API server filters), in the order the server lists them (by
 * name). The selection is made once, when the step starts, kept in the step's state and recorded as a `selected`
 * decision; it is not made again on later calls, so the batch does not change under itself. Nothing matching is an
 * error, as kubectl's "no objects passed to restart".
 *
 * Every workload is a target of the guard layer (scope, storm, budget, lock), asked just before its restart is
 * written (`admission: 'each'`), so a batch of four counts as four restarts, and a workload the guard refuses is that
 * workload's ❌ line with the guard's reason code and message; the batch then stops or goes on as `onFailure` says.
 * A lock held by another run is waited for. The waiting is `pending` results: no worker slot is held between reads,
 * and the progress (which workload, its pinned revision, the results so far) is the step's state, so a crash resumes
 * where it was; a restart written before a crash is recognised by its stamp and not written again.
 *
 * `onFailure: stop` leaves the workloads after a failure untouched (`skipped`); `continue` goes on. When any
 * workload failed or was refused, the step fails with REM_ERR_BATCH_FAILED, whose details carry every result.
 */
export const kubeBatchRestartAction = defineAction({
  name: 'kube.batchRestart',
  summary:
    'Restart several workloads (named, or matched by a label selector) one after another like `kubectl rollout restart`, waiting for each to be available; a ✅/❌ result per workload.',
  needs: ['kube'],
  params,
  admission: 'each',
  // Before rendering (RBAC, pre-flight) `names` may still be a template, and a selector is resolved only at run time:
  // one placeholder target of the kind stands for them.
  mutates: (p) =>
    (Array.isArray(p.names) ? ordered(p, p.names) : [String(p.names ?? p.selector)]).map((name) => ({
      namespace: p.namespace,
      kind: p.kind ?? 'Deployment',
      name,
    })),
  permissions: (p) => [
    permission('get', p.kind ?? 'Deployment', p.namespace),
    permission('patch', p.kind ?? 'Deployment', p.namespace),
    ...(p.selector === undefined ? [] : [permission('list', p.kind ?? 'Deployment', p.namespace)]),
    permission('create', 'Event', p.namespace),
  ],
  async run(ctx) {
    const p = ctx.params;
    const s: BatchState = structuredClone((ctx.state as BatchState | undefined) ?? { phase: 'restart', results: [] });
    const pollMs = p.pollInterval === undefined ? 2_000 : parseDuration(p.pollInterval);
    if (p.selector !== undefined && s.selected === undefined) {
      s.selected = await select(ctx, p.selector);
      await ctx.recordDecision?.(
        'selected',
        `${ctx.step.id} (kube.batchRestart): selector ${p.selector} matched ${s.selected.length} ${p.kind ?? 'Deployment'}(s) in ${p.namespace}: ${s.selected.join(', ')}`,
      );
    }
    for (;;) {
      const names = namesOf(p, s);
      const name = s.current ?? (s.stopped ? undefined : names.find((n) => !s.results.some((r) => r.name === n)));
      if (name === undefined) break;
      s.current = name;
      const ref: ObjectRef<WorkloadKind> = { kind: p.kind ?? 'Deployment', namespace: p.namespace, name };
      if (s.phase === 'restart') {
        if (!s.admitted && ctx.admit) {
          const admission = await ctx.admit(ref);
          if (!admission.admitted && admission.wait)
            return pending(
              s,
              admission.retryAfterMs ?? pollMs,
              `${name} (${s.results.length + 1} of ${names.length}): waiting: ${admission.message}`,
            );
          if (!admission.admitted) {
            next(ctx, s, { name, mark: '❌', outcome: 'refused', reason: `${admission.reason}: ${admission.message}` });
            continue;
          }
        }
        s.admitted = true;
        const started = await restartOne(ctx, ref, s);
        if (started !== 'done')
          return pending(s, pollMs, `${name} (${s.results.length + 1} of ${names.length}): ${started.retry}; trying again`);
        continue;
      }
      const waiting = await checkOne(ctx, ref, s);
      if (waiting !== undefined) return pending(s, pollMs, waiting);
    }
    return finish(ctx, s);
  },
});

/**
 * The workloads of the kind whose labels match the selector, as `kubectl rollout restart <kind> -l <selector>` finds
 * them: the API server filters (so the selector means exactly what it means to kubectl), listed by name.
 */
async function select(ctx: ActionContext<Params>, selector: string): Promise<string[]> {
  const p = ctx.params;
  const kind = p.kind ?? 'Deployment';
  const found = await kubeOf(ctx).list(kind, p.namespace, { labelSelector: selector, signal: ctx.signal });
  const names = found.map((o) => o.metadata.name as string).sort();
  if (names.length === 0)
    throw new RemediatorError('REM_ERR_KUBE_NOT_FOUND', `no ${kind} in namespace ${p.namespace} matches the selector ${selector}`);
  if (names.length > MAX_WORKLOADS)
    throw new RemediatorError(
      'REM_ERR_KUBE_PRECONDITION',
      `the selector ${selector} matches ${names.length} ${kind}s in ${p.namespace}, more than the ${MAX_WORKLOADS} one batch restarts; narrow it`,
    );
  return names;
}

/** Writes the restart of the current workload; a final error records ❌, a retryable one is tried again on the next call. */
async function restartOne(ctx: ActionContext<Params>, ref: ObjectRef<WorkloadKind>, s: BatchState): Promise<'done' | { retry: string }> {
  const now = ctx.clock.now();
  s.since ??= now;
  try {
    const r = await restartWorkload(ctx, ref);
    const out = r.output as { restartedAt?: string; generation?: number; dryRun?: boolean };
    if (out.dryRun) {
      next(ctx, s, {
        name: ref.name,
        mark: '✅',
        outcome: 'restarted',
        reason: r.summary ?? 'would restart',
        ...(out.restartedAt ? { restartedAt: out.restartedAt } : {}),
      });
      return 'done';
    }
    s.phase = 'wait';
    if (out.generation !== undefined) s.generation = out.generation;
    if (out.restartedAt !== undefined) s.restartedAt = out.restartedAt;
    return 'done';
  } catch (err) {
    ctx.signal.throwIfAborted();
    const e = toRemediatorError(err);
    if (e.retryable && now - s.since < timeoutOf(ctx)) return { retry: `${e.code}: ${e.message}` };
    next(ctx, s, { name: ref.name, mark: '❌', outcome: 'failed', reason: `${e.code}: ${e.message}`, tookMs: now - s.since });
    return 'done';
  }
}

/** One rollout-status read of the current workload: undefined when it is settled (✅ or ❌), else what it waits for. */
async function checkOne(ctx: ActionContext<Params>, ref: ObjectRef<WorkloadKind>, s: BatchState): Promise<string | undefined> {
  const now = ctx.clock.now();
  const took = now - (s.since ?? now);
  const base = { name: ref.name, ...(s.restartedAt ? { restartedAt: s.restartedAt } : {}) };
  let message: string;
  try {
    const w = await kubeOf(ctx).get(ref, { signal: ctx.signal });
    const observed = w.status?.observedGeneration ?? 0;
    if (s.generation !== undefined && observed < s.generation) {
      message = `Waiting for ${ref.kind.toLowerCase()} spec update to be observed...`;
    } else {
      if (ref.kind === 'Deployment' && s.revision === undefined) {
        const r = revisionOf(w);
        if (r !== undefined) s.revision = r;
      }
      const v = rolloutStatus(ref.kind, w, ref.kind === 'Deployment' ? s.revision : undefined);
      const revision = s.revision === undefined ? {} : { revision: s.revision };
      if (v.state === 'done') {
        next(ctx, s, { ...base, ...revision, mark: '✅', outcome: 'restarted', reason: v.message, tookMs: took });
        return undefined;
      }
      if (v.state === 'failed') {
        next(ctx, s, { ...base, ...revision, mark: '❌', outcome: 'failed', reason: v.message, tookMs: took });
        return undefined;
      }
      message = v.message;
    }
  } catch (err) {
    ctx.signal.throwIfAborted();
    const e = toRemediatorError(err);
    if (!e.retryable) {
      next(ctx, s, { ...base, mark: '❌', outcome: 'failed', reason: `${e.code}: ${e.message}`, tookMs: took });
      return undefined;
    }
    message = `${e.code}: ${e.message}`;
  }
  if (took >= timeoutOf(ctx)) {
    next(ctx, s, {
      ...base,
      mark: '❌',
      outcome: 'failed',
      reason: `not available within ${formatDuration(timeoutOf(ctx))}: ${message}`,
      tookMs: took,
    });
    return undefined;
  }
  return `${ref.name} (${s.results.length + 1} of ${namesOf(ctx.params, s).length}): ${message}`;
}

/** Records the result of the current workload and moves on; after a ❌ with `onFailure: stop`, the rest are skipped. */
function next(ctx: ActionContext<Params>, s: BatchState, result: BatchObjectResult): void {
  s.results.push(result);
  s.current = undefined;
  s.admitted = undefined;
  s.phase = 'restart';
  s.since = undefined;
  s.generation = undefined;
  s.revision = undefined;
  s.restartedAt = undefined;
  if (result.mark === '❌' && (ctx.params.onFailure ?? 'stop') === 'stop') {
    for (const name of namesOf(ctx.params, s)) {
      if (!s.results.some((r) => r.name === name))
        s.results.push({
          name,
          mark: '❌',
          outcome: 'skipped',
          reason: `not attempted: ${result.name} ${result.outcome === 'refused' ? 'was refused' : 'failed'} and onFailure is stop`,
        });
    }
    s.stopped = true;
  }
}

function pending(s: BatchState, pollMs: number, summary: string): ActionResult {
  const done = s.results.map(line).join('; ');
  return { status: 'pending', resumeAfterMs: pollMs, state: s, summary: done ? `${done}; ${summary}` : summary };
}

function finish(ctx: ActionContext<Params>, s: BatchState): ActionResult {
  const ok = s.results.filter((r) => r.mark === '✅').length;
  const output = {
    namespace: ctx.params.namespace,
    kind: ctx.params.kind ?? 'Deployment',
    results: s.results,
    restarted: ok,
    ...(ctx.params.selector === undefined ? {} : { selector: ctx.params.selector, selected: s.selected ?? [] }),
    failed: s.results.filter((r) => r.outcome === 'failed').length,
    refused: s.results.filter((r) => r.outcome === 'refused').length,
    skipped: s.results.filter((r) => r.outcome === 'skipped').length,
    report: s.results.map(line).join('; '),
    ...(ctx.run.dryRun ? { dryRun: true } : {}),
  };
  const summary = `${ok} of ${s.results.length} ${ctx.run.dryRun ? 'would be restarted' : 'restarted and available'}: ${s.results.map(line).join('; ')}`;
  if (ok < s.results.length) throw new RemediatorError('REM_ERR_BATCH_FAILED', summary, { details: output });
  return { status: 'ok', output, summary };
}

/**
 * The order of the batch: `first` (a priority list) then the rest of the workloads. The named list may grow while the
 * batch runs (a fleet run's services): the next workload is always the first of the order without a result.
 */
function ordered(p: { first?: string[] }, names: readonly string[]): string[] {
  const head = (Array.isArray(p.first) ? p.first : []).filter((n) => names.includes(n));
  return [...head, ...names.filter((n) => !head.includes(n))];
}

/** The batch's workloads in order: the named ones, or those the selector matched when the step started. */
function namesOf(p: Params, s: BatchState): string[] {
  return ordered(p, p.names ?? s.selected ?? []);
}

function line(r: BatchObjectResult): string {
  return r.mark === '✅' ? `✅ ${r.name}` : `❌ ${r.name} (${r.reason})`;
}

function timeoutOf(ctx: ActionContext<Params>): number {
  return ctx.params.availableTimeout === undefined ? 300_000 : parseDuration(ctx.params.availableTimeout);
}

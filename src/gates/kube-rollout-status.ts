import { Type } from '@sinclair/typebox';
import { defineGate, type GateContext } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';
import type { KindMap, ObjectRef, WorkloadKind } from '../ports/cluster.ts';
import { permission } from '../kube/kinds.ts';
import { revisionOf } from '../kube/rollback-plan.ts';
import { rolloutStatus } from '../kube/rollout-status.ts';
import { kubeOf } from '../kube/step-kube.ts';
import { Namespace, ObjectName, WorkloadKindParam } from '../kube/step-params.ts';

interface PinState {
  /** Deployment revision this gate judges; a different running revision is a concurrent rollout → fatal. */
  revision?: number;
  /** Generation the run's own write produced; the revision is pinned once the controller has observed it. */
  generation?: number;
}

type Params = { namespace: string; name: string; kind?: WorkloadKind; revision?: number };

/**
 * `kubectl rollout status`, one evaluation per poll (kubectl's viewers, see src/kube/rollout-status.ts), pinned
 * to the rollout this run caused: the explicit `revision`, else the Deployment revision running once the
 * controller observed the generation written by the run's most recent step on this object (its output's
 * `generation`), else the revision current at the first poll. Verdicts: rolled out → pass; still rolling →
 * fail with kubectl's message; ProgressDeadlineExceeded, another revision, or the object gone → fatal. An
 * unreachable API server is a fail (keep polling), never a pass.
 */
export const kubeRolloutStatusGate = defineGate({
  name: 'kube.rolloutStatus',
  summary: "Pass when the rollout of a workload finished, like `kubectl rollout status` (pinned to the run's revision).",
  needs: ['kube'],
  defaults: { intervalMs: 2_000, timeoutMs: 600_000, successes: 1 },
  params: Type.Object(
    {
      namespace: Namespace,
      name: ObjectName,
      kind: Type.Optional(WorkloadKindParam),
      revision: Type.Optional(
        Type.Integer({ minimum: 1, description: 'Deployment revision to wait for (default: the one the run created).' }),
      ),
    },
    { additionalProperties: false },
  ),
  permissions: (p) => [permission('get', p.kind ?? 'Deployment', p.namespace)],
  async check(ctx) {
    const kind = ctx.params.kind ?? 'Deployment';
    const ref: ObjectRef<WorkloadKind> = { kind, namespace: ctx.params.namespace, name: ctx.params.name };
    let w: KindMap[WorkloadKind];
    try {
      w = await kubeOf(ctx).get(ref, { signal: ctx.signal });
    } catch (err) {
      if (err instanceof RemediatorError && err.code === 'REM_ERR_KUBE_NOT_FOUND')
        return { verdict: 'fatal', summary: `${kind.toLowerCase()} "${ref.name}" does not exist` };
      if (err instanceof RemediatorError && err.code === 'REM_ERR_KUBE_UNAVAILABLE')
        return { verdict: 'fail', summary: err.message, state: ctx.state };
      throw err;
    }
    const state: PinState = { ...((ctx.state as PinState | undefined) ?? {}) };
    if (state.generation === undefined && state.revision === undefined) {
      const g = ctx.params.revision === undefined ? generationFromOutputs(ctx) : undefined;
      if (g !== undefined) state.generation = g;
    }
    const observed = w.status?.observedGeneration ?? 0;
    if (state.generation !== undefined && observed < state.generation) {
      return {
        verdict: 'fail',
        summary: `Waiting for ${kind.toLowerCase()} spec update to be observed...`,
        state,
        value: { observedGeneration: observed, generation: state.generation },
      };
    }
    let revision = ctx.params.revision ?? state.revision;
    if (kind === 'Deployment' && revision === undefined) {
      revision = revisionOf(w);
      if (revision !== undefined) state.revision = revision;
    }
    const v = rolloutStatus(kind, w, kind === 'Deployment' ? revision : undefined);
    const value = { revision, generation: w.metadata.generation, observedGeneration: observed, ...w.status };
    const output = { revision, state: v.state, message: v.message };
    if (v.state === 'done') return { verdict: 'pass', summary: v.message, state, value, output };
    if (v.state === 'failed') return { verdict: 'fatal', summary: v.message, state, value, output };
    return { verdict: 'fail', summary: v.message, state, value, output };
  },
});

/** The generation written by the run's most recent step whose output names this object. */
function generationFromOutputs(ctx: GateContext<Params>): number | undefined {
  let found: number | undefined;
  for (const out of Object.values(ctx.outputs)) {
    const o = out as { target?: { namespace?: string; kind?: string; name?: string }; generation?: unknown } | undefined;
    const t = o?.target;
    if (
      t?.namespace === ctx.params.namespace &&
      t.name === ctx.params.name &&
      t.kind === (ctx.params.kind ?? 'Deployment') &&
      typeof o?.generation === 'number'
    )
      found = o.generation;
  }
  return found;
}

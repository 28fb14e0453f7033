import { Type } from '@sinclair/typebox';
import {
  defineAction,
  describeTarget,
  targetKey,
  type ActionContext,
  type ActionResult,
  type MutationScope,
  type RecordedChange,
  type TargetRef,
} from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';
import type { WorkloadKind } from '../ports/cluster.ts';
import { writeConfigMapData, type DataChange } from './kube-patch-config-map.ts';
import { scaleTo } from './kube-scale.ts';
import { setEnv, type EnvChange } from './kube-set-env.ts';
import { setResources, type ResourcesChange } from './kube-set-resources.ts';
import { switchSelector } from './kube-switch-service-selector.ts';

/** The actions whose recorded changes kube.restore knows how to put back. */
const RESTORABLE = ['kube.setEnv', 'kube.setResources', 'kube.patchConfigMap', 'kube.switchServiceSelector', 'kube.scale'];

/**
 * Reverts what earlier steps of this run changed (ctx.changes), newest first: env variables, container resources,
 * ConfigMap keys, Service selectors and replicas go back to their recorded `before`. With `step`, only that step's
 * changes. Each write compares first, so running it again (or after someone already reverted by hand) writes nothing.
 * Restarts and rollbacks are not changes of this kind (use kube.rolloutUndo).
 */
export const kubeRestoreAction = defineAction({
  name: 'kube.restore',
  summary: 'Put back what earlier steps of this run changed (env, resources, ConfigMap keys, selectors, replicas), newest first.',
  needs: ['kube'],
  params: Type.Object(
    { step: Type.Optional(Type.String({ minLength: 1, description: 'Only the changes of this step (its id).' })) },
    { additionalProperties: false },
  ),
  // Its objects are those the run changed: each is admitted by the guard layer again (the run's lock may have expired,
  // an operator may have paused automation since).
  mutates: (p, run) => uniqueTargets(restorable(run, p.step).map((c) => c.target)),
  async run(ctx) {
    const wanted = restorable(ctx, ctx.params.step);
    if (wanted.length === 0) {
      return {
        status: 'skipped',
        reason:
          ctx.params.step === undefined
            ? 'this run changed nothing that can be restored'
            : `step ${ctx.params.step} changed nothing that can be restored`,
      };
    }
    const results: Array<{ target: string; action: string; status: string; summary?: string }> = [];
    for (const change of [...wanted].reverse()) {
      const r = await restoreOne(ctx, change);
      results.push({
        target: targetKey(change.target),
        action: change.action,
        status: r.status,
        ...(r.status === 'ok' && r.summary ? { summary: r.summary } : {}),
      });
    }
    return {
      status: 'ok',
      output: { restored: results, ...(ctx.run.dryRun ? { dryRun: true } : {}) },
      summary: `restored ${results.length} change(s)`,
    };
  },
});

/** The changes this step would put back, oldest first. */
function restorable(run: Pick<MutationScope, 'changes' | 'outputs'>, step: string | undefined): RecordedChange[] {
  return run.changes.filter((c) => RESTORABLE.includes(c.action) && (step === undefined || stepOf(c, run) === step));
}

function uniqueTargets(targets: TargetRef[]): TargetRef[] {
  const seen = new Map(targets.map((t) => [targetKey(t), t]));
  return [...seen.values()];
}

function stepOf(change: RecordedChange, ctx: Pick<MutationScope, 'changes' | 'outputs'>): string | undefined {
  const own = (change as RecordedChange & { step?: unknown }).step;
  if (typeof own === 'string') return own;
  // Changes recorded without a step id: attribute them to the step whose output names the same target.
  for (const [id, out] of Object.entries(ctx.outputs)) {
    const t = (out as { target?: { namespace?: string; kind?: string; name?: string } } | undefined)?.target;
    if (t && t.namespace === change.target.namespace && t.kind === change.target.kind && t.name === change.target.name) return id;
  }
  return undefined;
}

/** Puts back one recorded change (compare first: a field already at its `before` is not written). Also used by the revert of a finished run. */
export async function restoreOne(ctx: ActionContext<unknown>, change: RecordedChange): Promise<ActionResult> {
  const { kind, name, namespace } = change.target;
  // Every action kube.restore reverts changes a namespaced object.
  if (namespace === undefined)
    throw new RemediatorError(
      'REM_ERR_STEP_FAILED',
      `kube.restore cannot revert ${change.action} of cluster-scoped ${describeTarget(change.target)}`,
    );
  const t = { kind, name, namespace };
  switch (change.action) {
    case 'kube.setEnv': {
      const before = change.before as Record<string, EnvChange>;
      let last: ActionResult = { status: 'skipped', reason: 'nothing recorded' };
      for (const [container, env] of Object.entries(before))
        last = await setEnv(ctx, { kind: t.kind as WorkloadKind, namespace: t.namespace, name: t.name }, container, env, false);
      return last;
    }
    case 'kube.setResources': {
      const before = change.before as Record<string, ResourcesChange>;
      let last: ActionResult = { status: 'skipped', reason: 'nothing recorded' };
      for (const [container, res] of Object.entries(before))
        last = await setResources(ctx, { kind: t.kind as WorkloadKind, namespace: t.namespace, name: t.name }, container, res, false);
      return last;
    }
    case 'kube.patchConfigMap':
      return writeConfigMapData(ctx, t.namespace, t.name, (change.before as { data: DataChange }).data, false);
    case 'kube.switchServiceSelector':
      return switchSelector(ctx, t.namespace, t.name, (change.before as { selector: Record<string, string> }).selector, false);
    case 'kube.scale':
      return scaleTo(
        ctx,
        { kind: t.kind as 'Deployment' | 'StatefulSet', namespace: t.namespace, name: t.name },
        (change.before as { replicas: number }).replicas,
      );
    default:
      throw new RemediatorError('REM_ERR_STEP_FAILED', `kube.restore cannot revert ${change.action}`);
  }
}

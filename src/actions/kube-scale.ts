import { Type } from '@sinclair/typebox';
import { defineAction, type ActionContext, type RecordedChange } from '../engine/step-definition.ts';
import type { ObjectRef } from '../ports/cluster.ts';
import { permission } from '../kube/kinds.ts';
import { kubeOf, precondition, recordEvent, retryOnConflict, stepChange, writeOptions } from '../kube/step-kube.ts';
import { Namespace, ObjectName } from '../kube/step-params.ts';

type ScaleKind = 'Deployment' | 'StatefulSet';

/**
 * `kubectl scale --resource-version`: reads the Scale subresource, checks the bounds and `expectReplicas`, and
 * PUTs the Scale with the resourceVersion it read, so a concurrent change (an HPA, a person) makes it fail with a
 * conflict; it then re-reads and tries again, at most 5 times. Bounds: the step's `min`/`max` and the global
 * `limits.maxReplicas`; a target outside them is refused, never clamped.
 *
 * The Scale subresource cannot carry the remediator stamp, so a re-executed step relies on the state itself: a
 * Scale already at the target is reported as done without a write.
 */
export const kubeScaleAction = defineAction({
  name: 'kube.scale',
  summary: 'Set the replicas of a Deployment or StatefulSet through its scale subresource, within bounds.',
  needs: ['kube'],
  params: Type.Object(
    {
      namespace: Namespace,
      name: ObjectName,
      kind: Type.Optional(Type.Union([Type.Literal('Deployment'), Type.Literal('StatefulSet')], { default: 'Deployment' })),
      replicas: Type.Integer({ minimum: 0, description: 'Desired replicas.' }),
      min: Type.Optional(Type.Integer({ minimum: 0, description: 'Refuse a target below this.' })),
      max: Type.Optional(Type.Integer({ minimum: 0, description: 'Refuse a target above this (the global ceiling applies too).' })),
      expectReplicas: Type.Optional(
        Type.Integer({ minimum: 0, description: 'Like --current-replicas: refuse unless the workload has this many now.' }),
      ),
    },
    { additionalProperties: false },
  ),
  mutates: (p) => ({ namespace: p.namespace, kind: p.kind ?? 'Deployment', name: p.name }),
  permissions: (p) => [
    permission('get', p.kind ?? 'Deployment', p.namespace, 'scale'),
    permission('update', p.kind ?? 'Deployment', p.namespace, 'scale'),
    permission('create', 'Event', p.namespace),
  ],
  async run(ctx) {
    const p = ctx.params;
    const ref: ObjectRef<ScaleKind> = { kind: p.kind ?? 'Deployment', namespace: p.namespace, name: p.name };
    checkBounds(ctx, p.replicas);
    return scaleTo(ctx, ref, p.replicas, p.expectReplicas);
  },
});

function checkBounds(ctx: ActionContext<{ replicas: number; min?: number; max?: number }>, replicas: number): void {
  const { min, max } = ctx.params;
  const ceiling = ctx.services.limits.maxReplicas;
  if (min !== undefined && replicas < min)
    throw precondition(`refusing to scale to ${replicas} replicas: below the step's minimum of ${min}`, { replicas, min });
  if (max !== undefined && replicas > max)
    throw precondition(`refusing to scale to ${replicas} replicas: above the step's maximum of ${max}`, { replicas, max });
  if (replicas > ceiling)
    throw precondition(`refusing to scale to ${replicas} replicas: above the global ceiling limits.maxReplicas = ${ceiling}`, {
      replicas,
      maxReplicas: ceiling,
    });
}

/** Read-check-PUT with conflict retries. Also used by kube.restore to put back the replicas a run changed. */
export async function scaleTo(ctx: ActionContext<unknown>, ref: ObjectRef<ScaleKind>, replicas: number, expectReplicas?: number) {
  const kube = kubeOf(ctx);
  const target = { namespace: ref.namespace, kind: ref.kind, name: ref.name };
  return retryOnConflict(ctx, async () => {
    const scale = await kube.getScale(ref, { signal: ctx.signal });
    const before = scale.spec.replicas ?? 0;
    if (before === replicas) {
      return {
        status: 'ok' as const,
        output: { target, replicas, previousReplicas: before, unchanged: true },
        summary: `${ref.kind.toLowerCase()} ${ref.name} already has ${replicas} replicas`,
      };
    }
    if (expectReplicas !== undefined && before !== expectReplicas) {
      throw precondition(`Expected replicas to be ${expectReplicas}, was ${before}`, { target, expectReplicas, replicas: before });
    }
    const desired = { ...scale, spec: { ...scale.spec, replicas } };
    const written = await kube.replaceScale(ref, desired, writeOptions(ctx));
    if (ctx.run.dryRun) {
      return {
        status: 'ok' as const,
        output: {
          target,
          dryRun: true,
          plan: { put: 'scale', resourceVersion: scale.metadata.resourceVersion, replicas: { from: before, to: replicas } },
        },
        summary: `would scale ${ref.kind.toLowerCase()} ${ref.name} from ${before} to ${replicas} replicas`,
      };
    }
    const change: RecordedChange = stepChange(ctx, {
      target,
      before: { replicas: before },
      after: { replicas: written.spec.replicas ?? replicas },
      action: 'kube.scale',
    });
    await recordEvent(
      ctx,
      { metadata: { ...written.metadata, namespace: ref.namespace } },
      ref.kind,
      'RemediatorScale',
      `scaled ${ref.kind.toLowerCase()} ${ref.name} from ${before} to ${replicas} replicas`,
    );
    return {
      status: 'ok' as const,
      output: { target, replicas, previousReplicas: before },
      changes: [change],
      summary: `scaled ${ref.kind.toLowerCase()} ${ref.name} from ${before} to ${replicas} replicas`,
    };
  });
}

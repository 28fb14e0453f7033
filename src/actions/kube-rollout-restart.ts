import { Type } from '@sinclair/typebox';
import { defineAction, type ActionContext, type ActionResult } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';
import type { ObjectRef, WorkloadKind } from '../ports/cluster.ts';
import { permission } from '../kube/kinds.ts';
import { readStamp, stampAnnotations } from '../kube/stamp.ts';
import { kubeOf, precondition, recordEvent, retryOnConflict, writeOptions } from '../kube/step-kube.ts';
import { Namespace, ObjectName, WorkloadKindParam } from '../kube/step-params.ts';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/**
 * `kubectl rollout restart`: sets the pod template annotation `kubectl.kubernetes.io/restartedAt` to the current
 * time (RFC 3339, seconds) with a strategic merge patch, which makes the controller roll every pod. The
 * remediator stamp goes into the same patch, so a re-executed step sees it and does not restart twice.
 */
export const kubeRolloutRestartAction = defineAction({
  name: 'kube.rolloutRestart',
  summary: 'Restart the pods of a Deployment, StatefulSet or DaemonSet like `kubectl rollout restart`.',
  needs: ['kube'],
  params: Type.Object({ namespace: Namespace, name: ObjectName, kind: Type.Optional(WorkloadKindParam) }, { additionalProperties: false }),
  mutates: (p) => ({ namespace: p.namespace, kind: p.kind ?? 'Deployment', name: p.name }),
  permissions: (p) => [
    permission('get', p.kind ?? 'Deployment', p.namespace),
    permission('patch', p.kind ?? 'Deployment', p.namespace),
    permission('create', 'Event', p.namespace),
  ],
  async run(ctx) {
    const ref: ObjectRef<WorkloadKind> = { kind: ctx.params.kind ?? 'Deployment', namespace: ctx.params.namespace, name: ctx.params.name };
    return restartWorkload(ctx, ref);
  },
});

/**
 * One `kubectl rollout restart` of one workload, with conflict retries and the stamp check. Also used by
 * kube.batchRestart for each object of its list. The output's `generation` is what the controller must observe.
 */
export async function restartWorkload(ctx: ActionContext<unknown>, ref: ObjectRef<WorkloadKind>): Promise<ActionResult & { status: 'ok' }> {
  const kube = kubeOf(ctx);
  const target = { namespace: ref.namespace, kind: ref.kind, name: ref.name };
  return retryOnConflict(ctx, async () => {
    const current = await kube.get(ref, { signal: ctx.signal });
    if (!ctx.run.dryRun && readStamp(current, ctx).mine) {
      const restartedAt = current.spec.template.metadata?.annotations?.[RESTARTED_AT];
      return {
        status: 'ok',
        output: { target, restartedAt, generation: current.metadata.generation, repeated: true },
        summary: `${lower(ref.kind)} ${ref.name} was already restarted by this step`,
      };
    }
    if (ref.kind === 'Deployment' && current.spec.paused)
      throw precondition("can't restart paused deployment (run rollout resume first)", { target });
    const restartedAt = rfc3339Seconds(ctx.clock.now());
    if (current.spec.template.metadata?.annotations?.[RESTARTED_AT] === restartedAt) {
      throw new RemediatorError(
        'REM_ERR_KUBE_PRECONDITION',
        'if restart has already been triggered within the past second, please wait before attempting to trigger another',
        {
          retryable: true,
          details: { target },
        },
      );
    }
    const body = {
      metadata: { annotations: stampAnnotations(ctx) },
      spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } },
    };
    const written = await kube.patch(ref, { type: 'strategic', body }, writeOptions(ctx));
    if (ctx.run.dryRun) {
      return {
        status: 'ok',
        output: { target, plan: { patch: { type: 'strategic', body } }, restartedAt, dryRun: true },
        summary: `would restart ${lower(ref.kind)} ${ref.name}`,
      };
    }
    await recordEvent(ctx, written, ref.kind, 'RemediatorRolloutRestart', `restarted ${lower(ref.kind)} ${ref.name}`);
    return {
      status: 'ok',
      output: { target, restartedAt, generation: written.metadata.generation },
      summary: `restarted ${lower(ref.kind)} ${ref.name}`,
    };
  });
}

/** kubectl's `time.Now().Format(time.RFC3339)`, in UTC: `2026-11-25T12:05:14Z`. */
export function rfc3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function lower(kind: string): string {
  return kind.toLowerCase();
}

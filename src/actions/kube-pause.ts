import { Type } from '@sinclair/typebox';
import { defineAction, type ActionContext, type ActionResult } from '../engine/step-definition.ts';
import { permission } from '../kube/kinds.ts';
import { readStamp, stampAnnotations } from '../kube/stamp.ts';
import { kubeOf, recordEvent, retryOnConflict, writeOptions } from '../kube/step-kube.ts';
import { Namespace, ObjectName } from '../kube/step-params.ts';

const params = Type.Object({ namespace: Namespace, name: ObjectName }, { additionalProperties: false });

/**
 * `kubectl rollout pause` / `resume` for a Deployment: the strategic merge patch `{"spec":{"paused":true}}` or
 * `{"spec":{"paused":null}}` (what kubectl's two-way patch sends), with the remediator stamp in the same patch.
 * Pausing a paused Deployment (or resuming a running one) writes nothing and reports `skipped` with kubectl's
 * words: the state the step asks for already holds.
 */
export const kubePauseAction = pauseDefinition(true);
export const kubeResumeAction = pauseDefinition(false);

function pauseDefinition(paused: boolean) {
  return defineAction({
    name: paused ? 'kube.pause' : 'kube.resume',
    summary: paused
      ? 'Pause the rollout of a Deployment like `kubectl rollout pause`.'
      : 'Resume the rollout of a paused Deployment like `kubectl rollout resume`.',
    needs: ['kube'],
    params,
    mutates: (p) => ({ namespace: p.namespace, kind: 'Deployment', name: p.name }),
    permissions: (p) => [
      permission('get', 'Deployment', p.namespace),
      permission('patch', 'Deployment', p.namespace),
      permission('create', 'Event', p.namespace),
    ],
    run: (ctx) => setPaused(ctx, paused),
  });
}

async function setPaused(ctx: ActionContext<{ namespace: string; name: string }>, paused: boolean): Promise<ActionResult> {
  const kube = kubeOf(ctx);
  const ref = { kind: 'Deployment' as const, namespace: ctx.params.namespace, name: ctx.params.name };
  const target = { ...ref };
  const verb = paused ? 'paused' : 'resumed';
  return retryOnConflict(ctx, async (): Promise<ActionResult> => {
    const current = await kube.get(ref, { signal: ctx.signal });
    if (!ctx.run.dryRun && readStamp(current, ctx).mine) {
      return {
        status: 'ok',
        output: { target, paused, generation: current.metadata.generation, repeated: true },
        summary: `deployment ${ref.name} was already ${verb} by this step`,
      };
    }
    if ((current.spec.paused === true) === paused) {
      return {
        status: 'skipped',
        reason: `deployment "${ref.name}" is ${paused ? 'already paused' : 'not paused'}`,
        output: { target, paused },
      };
    }
    const body = { metadata: { annotations: stampAnnotations(ctx) }, spec: { paused: paused ? true : null } };
    const written = await kube.patch(ref, { type: 'strategic', body }, writeOptions(ctx));
    if (ctx.run.dryRun) {
      return {
        status: 'ok',
        output: { target, plan: { patch: { type: 'strategic', body } }, dryRun: true },
        summary: `would ${paused ? 'pause' : 'resume'} deployment ${ref.name}`,
      };
    }
    await recordEvent(ctx, written, 'Deployment', paused ? 'RemediatorPause' : 'RemediatorResume', `${verb} deployment ${ref.name}`);
    return { status: 'ok', output: { target, paused, generation: written.metadata.generation }, summary: `${verb} deployment ${ref.name}` };
  });
}

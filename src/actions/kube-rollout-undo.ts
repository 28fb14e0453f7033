import { Type } from '@sinclair/typebox';
import { defineAction, type ActionResult } from '../engine/step-definition.ts';
import { permission } from '../kube/kinds.ts';
import { selectorToString } from '../kube/label-selector.ts';
import { planRollback, revisionOf } from '../kube/rollback-plan.ts';
import { readStamp, stampAnnotations } from '../kube/stamp.ts';
import { kubeOf, precondition, recordEvent, retryOnConflict, writeOptions } from '../kube/step-kube.ts';
import { Namespace, ObjectName } from '../kube/step-params.ts';

/**
 * `kubectl rollout undo deployment/X [--to-revision=N]`, exactly (see planRollback): the previous revision's pod
 * template and annotations go back in one JSON Patch. The remediator stamp rides in the annotations of that same
 * patch. Output: the revision rolled back to, and the Deployment generation the patch produced (what
 * kube.rolloutStatus pins on).
 */
export const kubeRolloutUndoAction = defineAction({
  name: 'kube.rolloutUndo',
  summary: 'Roll a Deployment back to its previous (or a given) revision like `kubectl rollout undo`.',
  needs: ['kube'],
  params: Type.Object(
    {
      namespace: Namespace,
      name: ObjectName,
      toRevision: Type.Optional(
        Type.Integer({ minimum: 0, default: 0, description: 'Revision to go back to; 0 (default) = the previous one.' }),
      ),
      skipRestarts: Type.Optional(
        Type.Boolean({
          default: false,
          description:
            'With toRevision 0: skip revisions that differ only by a rollout restart, so the rollback reaches the previous release instead of undoing a restart (not kubectl).',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  mutates: (p) => ({ namespace: p.namespace, kind: 'Deployment', name: p.name }),
  permissions: (p) => [
    permission('get', 'Deployment', p.namespace),
    permission('patch', 'Deployment', p.namespace),
    permission('list', 'ReplicaSet', p.namespace),
    permission('create', 'Event', p.namespace),
  ],
  async run(ctx) {
    const kube = kubeOf(ctx);
    const ref = { kind: 'Deployment' as const, namespace: ctx.params.namespace, name: ctx.params.name };
    const target = { ...ref };
    return retryOnConflict(ctx, async (): Promise<ActionResult> => {
      const deployment = await kube.get(ref, { signal: ctx.signal });
      const stamp = readStamp(deployment, ctx);
      if (!ctx.run.dryRun && stamp.mine) {
        const revision = (stamp.change?.after as { revision?: number } | undefined)?.revision;
        return {
          status: 'ok',
          output: { target, revision, generation: deployment.metadata.generation, repeated: true },
          summary: `deployment ${ref.name} was already rolled back by this step`,
        };
      }
      const selector = selectorToString(deployment.spec.selector ?? {});
      if (selector === '')
        throw precondition(`deployment "${ref.name}" has an empty selector; refusing to guess its ReplicaSets`, { target });
      const replicaSets = await kube.listReplicaSets(ref.namespace, selector, { signal: ctx.signal });
      const toRevision = ctx.params.toRevision ?? 0;
      const plan = planRollback(deployment, replicaSets, toRevision, { skipRestarts: ctx.params.skipRestarts ?? false });
      if (plan.kind === 'refuse') throw precondition(plan.message, { target, toRevision });
      if (plan.kind === 'skip') return { status: 'skipped', reason: plan.message, output: { target, revision: plan.revision } };
      // kubectl's two operations; the stamp (with the revision, for a re-executed step to report) rides in the annotations.
      const annotations = {
        ...plan.annotations,
        ...stampAnnotations(ctx, { before: { revision: revisionOf(deployment) }, after: { revision: plan.revision } }),
      };
      const ops = [
        { op: 'replace', path: '/spec/template', value: plan.template },
        { op: 'replace', path: '/metadata/annotations', value: annotations },
      ];
      const written = await kube.patch(ref, { type: 'json', body: ops }, writeOptions(ctx));
      if (ctx.run.dryRun) {
        return {
          status: 'ok',
          output: { target, revision: plan.revision, dryRun: true, plan: { patch: { type: 'json', body: ops } } },
          summary: `would roll back deployment ${ref.name} to revision ${plan.revision}`,
        };
      }
      await recordEvent(
        ctx,
        written,
        'Deployment',
        'RemediatorRolloutUndo',
        `rolled back deployment ${ref.name} to revision ${plan.revision}`,
      );
      return {
        status: 'ok',
        output: { target, revision: plan.revision, generation: written.metadata.generation },
        summary: `rolled back deployment ${ref.name} to revision ${plan.revision}`,
      };
    });
  },
});

import { Type } from '@sinclair/typebox';
import { defineAction, targetKey, type RecordedChange, type TargetRef } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';
import { kubeOf } from '../kube/step-kube.ts';
import { describeConflicts, observeTargets, planRevert, REVERTABLE_ACTIONS, type RevertChange } from '../kube/revert-plan.ts';
import { restoreOne } from './kube-restore.ts';

const Target = Type.Object({ namespace: Type.Optional(Type.String()), kind: Type.String(), name: Type.String() });

/**
 * The one step of a revert run (POST /v1/runs/:id/revert): puts back what a finished run changed, from the changes it
 * recorded (src/kube/revert-plan.ts). Not a playbook action (it is not in src/actions/index.ts): only the built-in
 * revert playbook (src/playbooks/revert-playbook.ts) uses it, with the changes the operator's plan showed.
 *
 * It re-reads every object and checks again, just before writing, that nobody changed it since the run: an object
 * changed since refuses the whole revert (nothing is written), naming each one. A field that already holds its old
 * value is not written, so a revert repeated after a crash finishes what it started.
 */
export const revertRunAction = defineAction({
  name: 'remediator.revert',
  summary: 'Put back what a finished run changed, refusing objects changed since.',
  needs: ['kube'],
  params: Type.Object(
    {
      of: Type.String({ minLength: 1, description: 'The run being reverted.' }),
      changes: Type.Array(
        Type.Object({
          target: Target,
          action: Type.String(),
          before: Type.Unknown(),
          after: Type.Unknown(),
          step: Type.Optional(Type.String()),
          at: Type.Optional(Type.String()),
        }),
        { minItems: 1 },
      ),
    },
    { additionalProperties: false },
  ),
  mutates: (p) => uniqueTargets((p.changes as RevertChange[]).filter((c) => REVERTABLE_ACTIONS.has(c.action)).map((c) => c.target)),
  async run(ctx) {
    const changes = ctx.params.changes as RevertChange[];
    const observed = await observeTargets(kubeOf(ctx), changes, ctx.signal);
    const plan = planRevert(ctx.params.of, changes, observed, { fieldManager: ctx.services.limits.fieldManager, revertRunId: ctx.run.id });
    if (plan.conflicts.length > 0) {
      throw new RemediatorError(
        'REM_ERR_REVERT_CONFLICT',
        `not reverting run ${ctx.params.of}: changed since by someone else: ${describeConflicts(plan.conflicts)}`,
        {
          details: { conflicts: plan.conflicts.map((c) => ({ target: targetKey(c.target), why: c.why })) },
        },
      );
    }
    const pending = new Set(plan.targets.filter((t) => t.revert.length > 0).map((t) => targetKey(t.target)));
    const reverted: Array<{ target: string; action: string; summary?: string }> = [];
    for (const change of [...changes].reverse()) {
      if (!REVERTABLE_ACTIONS.has(change.action) || !pending.has(targetKey(change.target))) continue;
      const r = await restoreOne(ctx, change as RecordedChange);
      reverted.push({
        target: targetKey(change.target),
        action: change.action,
        ...(r.status === 'ok' && r.summary ? { summary: r.summary } : {}),
      });
    }
    const already = plan.targets.filter((t) => t.revert.length === 0).map((t) => targetKey(t.target));
    if (reverted.length === 0)
      return {
        status: 'ok',
        output: { of: ctx.params.of, reverted, alreadyReverted: already },
        summary: `everything run ${ctx.params.of} changed already holds its earlier value`,
      };
    return {
      status: 'ok',
      output: { of: ctx.params.of, reverted, alreadyReverted: already },
      summary: `put back ${reverted.length} change(s) of run ${ctx.params.of}`,
    };
  },
});

function uniqueTargets(targets: TargetRef[]): TargetRef[] {
  return [...new Map(targets.map((t) => [targetKey(t), t])).values()];
}

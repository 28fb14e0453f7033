import type { StepContextBase } from '../engine/step-definition.ts';
import type { KubeObject } from '../ports/cluster.ts';

/** Set on every object remediator writes, in the same write: `<runId>.<stepId>`. */
export const RUN_ANNOTATION = 'remediator.io/run';
/** The `{before, after}` of a recorded change, written with the stamp so a re-run after a crash can still report it. */
export const CHANGE_ANNOTATION = 'remediator.io/change';

type Ctx = Pick<StepContextBase<unknown>, 'run' | 'step'>;

export function stampValue(ctx: Ctx): string {
  return `${ctx.run.id}.${ctx.step.id}`;
}

/** The annotations a write of this step adds (the change record only when the step records one). */
export function stampAnnotations(ctx: Ctx, change?: { before: unknown; after: unknown }): Record<string, string> {
  const a: Record<string, string> = { [RUN_ANNOTATION]: stampValue(ctx) };
  if (change !== undefined) a[CHANGE_ANNOTATION] = JSON.stringify(change);
  return a;
}

/**
 * Whether this very step already wrote the object: a step re-executed after a crash (BullMQ re-runs stalled jobs)
 * re-reads first and, when it sees its own stamp, reports success without writing again. `change` is what the first
 * execution recorded, when it recorded one.
 */
export function readStamp(obj: KubeObject, ctx: Ctx): { mine: boolean; change?: { before: unknown; after: unknown } } {
  const annotations = obj.metadata.annotations ?? {};
  if (annotations[RUN_ANNOTATION] !== stampValue(ctx)) return { mine: false };
  const raw = annotations[CHANGE_ANNOTATION];
  if (raw === undefined) return { mine: true };
  try {
    return { mine: true, change: JSON.parse(raw) as { before: unknown; after: unknown } };
  } catch {
    return { mine: true };
  }
}

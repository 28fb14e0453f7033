import type { ActionContext } from '../engine/step-definition.ts';
import type { Container, ObjectRef, Workload, WorkloadKind } from '../ports/cluster.ts';
import { patchGuarded, pointer, type JsonPatchOp } from './json-patch.ts';
import { readStamp, stampAnnotations } from './stamp.ts';
import { kubeOf, precondition, retryOnConflict, writeOptions } from './step-kube.ts';

/** The edited copy of the container, or undefined when nothing would change. `before`/`after` describe it. */
export type ContainerEdit<T> = (container: Container) => { next: Container; before: T; after: T } | undefined;

export interface ContainerEditResult<T> {
  /** `written`: a write happened (or would, in a dry run); `repeated`: this step had already written it; `unchanged`. */
  outcome: 'written' | 'repeated' | 'unchanged';
  workload: Workload;
  before: Record<string, T>;
  after: Record<string, T>;
  ops: JsonPatchOp[];
}

/**
 * Read-modify-write of the containers of a workload's pod template, as `kubectl set env` / `set resources` do:
 * the named container, or every container when none is named. The write is a guarded JSON Patch (test of the
 * resourceVersion read, then each changed container's field), retried on conflict; `before`/`after` by container
 * name go into the stamp so a re-executed step can still report the change it made.
 */
export async function editContainers<T>(
  ctx: ActionContext<unknown>,
  ref: ObjectRef<WorkloadKind>,
  container: string | undefined,
  field: 'env' | 'resources',
  edit: ContainerEdit<T>,
  options: { checkStamp: boolean },
): Promise<ContainerEditResult<T>> {
  const kube = kubeOf(ctx);
  return retryOnConflict(ctx, async () => {
    const workload = await kube.get(ref, { signal: ctx.signal });
    const stamp = readStamp(workload, ctx);
    if (options.checkStamp && !ctx.run.dryRun && stamp.mine) {
      const change = (stamp.change ?? { before: {}, after: {} }) as { before: Record<string, T>; after: Record<string, T> };
      return { outcome: 'repeated', workload, before: change.before, after: change.after, ops: [] };
    }
    const containers = workload.spec.template.spec?.containers ?? [];
    if (container !== undefined && !containers.some((c) => c.name === container)) {
      throw precondition(`unable to find container named "${container}" in ${ref.kind.toLowerCase()} ${ref.name}`, {
        target: ref,
        containers: containers.map((c) => c.name),
      });
    }
    const before: Record<string, T> = {};
    const after: Record<string, T> = {};
    const ops: JsonPatchOp[] = [];
    containers.forEach((c, i) => {
      if (container !== undefined && c.name !== container) return;
      const e = edit(c);
      if (e === undefined) return;
      before[c.name] = e.before;
      after[c.name] = e.after;
      ops.push({
        op: 'add',
        path: pointer('spec', 'template', 'spec', 'containers', i, field),
        value: e.next[field] ?? (field === 'env' ? [] : {}),
      });
    });
    if (ops.length === 0) return { outcome: 'unchanged', workload, before, after, ops };
    const written = await patchGuarded(kube, ref, workload, ops, stampAnnotations(ctx, { before, after }), writeOptions(ctx));
    return { outcome: 'written', workload: written, before, after, ops };
  });
}

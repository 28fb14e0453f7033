import { Type } from '@sinclair/typebox';
import { defineAction, type ActionContext, type ActionResult } from '../engine/step-definition.ts';
import { patchGuarded } from '../kube/json-patch.ts';
import { permission } from '../kube/kinds.ts';
import { readStamp, stampAnnotations } from '../kube/stamp.ts';
import { kubeOf, precondition, recordEvent, retryOnConflict, stepChange, writeOptions } from '../kube/step-kube.ts';
import { Namespace, ObjectName } from '../kube/step-params.ts';

/** Keys of `data` before/after; null = absent. */
export type DataChange = Record<string, string | null>;

/**
 * Sets and removes keys of a ConfigMap's `data` with a guarded JSON Patch (retried on conflict) and records the
 * previous values, so kube.restore can put them back. Pods only see the change when they re-read the file or
 * restart; a playbook that needs that adds kube.rolloutRestart after this step.
 */
export const kubePatchConfigMapAction = defineAction({
  name: 'kube.patchConfigMap',
  summary: 'Set or remove keys of a ConfigMap (records the old values).',
  needs: ['kube'],
  params: Type.Object(
    {
      namespace: Namespace,
      name: ObjectName,
      set: Type.Optional(Type.Record(Type.String({ pattern: '^[-._a-zA-Z0-9]+$' }), Type.String())),
      remove: Type.Optional(Type.Array(Type.String({ pattern: '^[-._a-zA-Z0-9]+$' }), { uniqueItems: true })),
    },
    { additionalProperties: false },
  ),
  mutates: (p) => ({ namespace: p.namespace, kind: 'ConfigMap', name: p.name }),
  permissions: (p) => [
    permission('get', 'ConfigMap', p.namespace),
    permission('patch', 'ConfigMap', p.namespace),
    permission('create', 'Event', p.namespace),
  ],
  async run(ctx) {
    const p = ctx.params;
    const desired: DataChange = { ...(p.set ?? {}) };
    for (const key of p.remove ?? []) {
      if (key in desired) throw precondition(`key "${key}" is both set and removed`);
      desired[key] = null;
    }
    if (Object.keys(desired).length === 0) throw precondition('kube.patchConfigMap needs set or remove');
    return writeConfigMapData(ctx, p.namespace, p.name, desired, true);
  },
});

/** Writes data keys (null removes); kube.restore calls it with the recorded `before`. */
export async function writeConfigMapData(
  ctx: ActionContext<unknown>,
  namespace: string,
  name: string,
  desired: DataChange,
  checkStamp: boolean,
): Promise<ActionResult> {
  const kube = kubeOf(ctx);
  const ref = { kind: 'ConfigMap' as const, namespace, name };
  const target = { ...ref };
  return retryOnConflict(ctx, async (): Promise<ActionResult> => {
    const cm = await kube.get(ref, { signal: ctx.signal });
    const stamp = readStamp(cm, ctx);
    if (checkStamp && !ctx.run.dryRun && stamp.mine && stamp.change !== undefined) {
      return {
        status: 'ok',
        output: { target, repeated: true },
        changes: [stepChange(ctx, { target, ...stamp.change, action: 'kube.patchConfigMap' })],
        summary: `configmap ${name} was already changed by this step`,
      };
    }
    const data = { ...(cm.data ?? {}) };
    const before: DataChange = {};
    const after: DataChange = {};
    for (const [key, value] of Object.entries(desired)) {
      const old = data[key] ?? null;
      if (old === value) continue;
      before[key] = old;
      after[key] = value;
      if (value === null) delete data[key];
      else data[key] = value;
    }
    if (Object.keys(after).length === 0)
      return { status: 'ok', output: { target, unchanged: true }, summary: `configmap ${name} already holds these values` };
    const ops = [{ op: 'add' as const, path: '/data', value: data }];
    const written = await patchGuarded(
      kube,
      ref,
      cm,
      ops,
      stampAnnotations(ctx, { before: { data: before }, after: { data: after } }),
      writeOptions(ctx),
    );
    const keys = Object.keys(after).join(', ');
    if (ctx.run.dryRun)
      return {
        status: 'ok',
        output: { target, dryRun: true, plan: { before, after } },
        summary: `would change ${keys} in configmap ${name}`,
      };
    await recordEvent(ctx, written, 'ConfigMap', 'RemediatorPatchConfigMap', `changed ${keys} in configmap ${name}`);
    return {
      status: 'ok',
      output: { target, keys: Object.keys(after) },
      changes: [stepChange(ctx, { target, before: { data: before }, after: { data: after }, action: 'kube.patchConfigMap' })],
      summary: `changed ${keys} in configmap ${name}`,
    };
  });
}

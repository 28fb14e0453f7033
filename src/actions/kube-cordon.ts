import { Type } from '@sinclair/typebox';
import { defineAction } from '../engine/step-definition.ts';
import { permission } from '../kube/kinds.ts';
import { kubeOf, recordEvent, stepChange, writeOptions } from '../kube/step-kube.ts';
import { ObjectName } from '../kube/step-params.ts';

/**
 * `kubectl cordon` / `kubectl uncordon`: reads the Node and, when its `spec.unschedulable` is not already what is
 * asked, sends what kubectl sends, a strategic merge patch `{"spec":{"unschedulable":true}}` (uncordon:
 * `{"spec":{"unschedulable":null}}`, the field is omitted when false). A Node already in that state is left alone,
 * like kubectl's "already cordoned". The change is recorded with the state before it; the Node's pods keep running
 * (nothing is drained).
 */
export const kubeCordonAction = defineAction({
  name: 'kube.cordon',
  summary: 'Mark a Node unschedulable (or schedulable again with uncordon: true) like `kubectl cordon`/`uncordon`.',
  needs: ['kube'],
  params: Type.Object(
    {
      name: { ...ObjectName, description: 'Name of the Node.' },
      uncordon: Type.Optional(Type.Boolean({ default: false, description: 'Make the Node schedulable again (`kubectl uncordon`).' })),
    },
    { additionalProperties: false },
  ),
  mutates: (p) => ({ kind: 'Node', name: p.name }),
  permissions: () => [permission('get', 'Node'), permission('patch', 'Node'), permission('create', 'Event', 'default')],
  async run(ctx) {
    const kube = kubeOf(ctx);
    const ref = { kind: 'Node' as const, name: ctx.params.name };
    const target = { kind: 'Node', name: ref.name };
    const unschedulable = !ctx.params.uncordon;
    const verb = unschedulable ? 'cordoned' : 'uncordoned';
    const node = await kube.get(ref, { signal: ctx.signal });
    if ((node.spec?.unschedulable === true) === unschedulable) {
      return { status: 'ok', output: { target, unschedulable, changed: false }, summary: `node ${ref.name} already ${verb}` };
    }
    const patch = { type: 'strategic' as const, body: { spec: { unschedulable: unschedulable ? true : null } } };
    const written = await kube.patch(ref, patch, writeOptions(ctx));
    if (ctx.run.dryRun)
      return { status: 'ok', output: { target, plan: { patch }, dryRun: true }, summary: `would mark node ${ref.name} ${verb}` };
    await recordEvent(ctx, written, 'Node', unschedulable ? 'RemediatorCordon' : 'RemediatorUncordon', `${verb} node ${ref.name}`);
    const change = stepChange(ctx, { target, before: { unschedulable: !unschedulable }, after: { unschedulable }, action: 'kube.cordon' });
    return { status: 'ok', output: { target, unschedulable, changed: true }, changes: [change], summary: `node ${ref.name} ${verb}` };
  },
});

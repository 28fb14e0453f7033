import { Type } from '@sinclair/typebox';
import { defineAction, type ActionContext, type ActionResult } from '../engine/step-definition.ts';
import type { Container, ObjectRef, WorkloadKind } from '../ports/cluster.ts';
import { editContainers } from '../kube/container-edit.ts';
import { permission } from '../kube/kinds.ts';
import { parseQuantity } from '../kube/quantity.ts';
import { precondition, recordEvent, stepChange } from '../kube/step-kube.ts';
import { Namespace, ObjectName, WorkloadKindParam } from '../kube/step-params.ts';

/** What a container's limits/requests were or became, per resource name; null = not set. */
export interface ResourcesChange {
  limits: Record<string, string | null>;
  requests: Record<string, string | null>;
}

const Quantities = Type.Record(
  Type.String({ pattern: '^[a-zA-Z0-9./-]+$' }),
  Type.Union([Type.String({ pattern: '^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$' }), Type.Null()]),
);

/**
 * `kubectl set resources -c <container>`: sets (null: removes) limits and requests of one container. Every value
 * set must be at most the step's `max` for that resource (`max: {memory: 4Gi}`); above it the step is refused,
 * never clamped. The previous values are recorded as a change for kube.restore.
 */
export const kubeSetResourcesAction = defineAction({
  name: 'kube.setResources',
  summary: 'Set limits/requests of one container like `kubectl set resources`, within per-resource maxima.',
  needs: ['kube'],
  params: Type.Object(
    {
      namespace: Namespace,
      name: ObjectName,
      kind: Type.Optional(WorkloadKindParam),
      container: Type.String({ minLength: 1 }),
      limits: Type.Optional(Quantities),
      requests: Type.Optional(Quantities),
      max: Type.Optional(
        Type.Record(Type.String(), Type.String(), { description: 'Highest value allowed per resource, e.g. {memory: 4Gi, cpu: "2"}.' }),
      ),
    },
    { additionalProperties: false },
  ),
  mutates: (p) => ({ namespace: p.namespace, kind: p.kind ?? 'Deployment', name: p.name }),
  permissions: (p) => [
    permission('get', p.kind ?? 'Deployment', p.namespace),
    permission('patch', p.kind ?? 'Deployment', p.namespace),
    permission('create', 'Event', p.namespace),
  ],
  async run(ctx) {
    const p = ctx.params;
    if (p.limits === undefined && p.requests === undefined) throw precondition('kube.setResources needs limits or requests');
    for (const [section, values] of [
      ['limits', p.limits ?? {}],
      ['requests', p.requests ?? {}],
    ] as const) {
      for (const [resource, value] of Object.entries(values)) {
        const max = p.max?.[resource];
        if (value === null || max === undefined) continue;
        const v = parseQuantity(value);
        const m = parseQuantity(max);
        if (v === undefined || m === undefined) throw precondition(`cannot compare ${resource} ${value} with the maximum ${max}`);
        if (v > m)
          throw precondition(`refusing to set ${section}.${resource} = ${value}: above the step's maximum of ${max}`, {
            resource,
            value,
            max,
          });
      }
    }
    const desired: ResourcesChange = { limits: p.limits ?? {}, requests: p.requests ?? {} };
    return setResources(ctx, { kind: p.kind ?? 'Deployment', namespace: p.namespace, name: p.name }, p.container, desired, true);
  },
});

/** Writes limits/requests of one container (kube.restore calls it with the recorded `before`). */
export async function setResources(
  ctx: ActionContext<unknown>,
  ref: ObjectRef<WorkloadKind>,
  container: string,
  desired: ResourcesChange,
  checkStamp: boolean,
): Promise<ActionResult> {
  const target = { namespace: ref.namespace, kind: ref.kind, name: ref.name };
  const what = `container ${container} of ${ref.kind.toLowerCase()} ${ref.name}`;
  const res = await editContainers<ResourcesChange>(ctx, ref, container, 'resources', (c) => editResources(c, desired), { checkStamp });
  if (res.outcome === 'unchanged')
    return { status: 'ok', output: { target, unchanged: true }, summary: `${what} already has these resources` };
  const change = stepChange(ctx, { target, before: res.before, after: res.after, action: 'kube.setResources' });
  if (res.outcome === 'repeated') {
    return {
      status: 'ok',
      output: { target, generation: res.workload.metadata.generation, repeated: true },
      changes: [change],
      summary: `${what}: resources already changed by this step`,
    };
  }
  if (ctx.run.dryRun)
    return {
      status: 'ok',
      output: { target, dryRun: true, plan: { patch: { type: 'json', body: res.ops }, before: res.before, after: res.after } },
      summary: `would change resources of ${what}`,
    };
  const text = describe(res.after[container]);
  await recordEvent(ctx, res.workload, ref.kind, 'RemediatorSetResources', `set resources ${text} on ${what}`);
  return {
    status: 'ok',
    output: { target, generation: res.workload.metadata.generation },
    changes: [change],
    summary: `set resources ${text} on ${what}`,
  };
}

function editResources(
  c: Container,
  desired: ResourcesChange,
): { next: Container; before: ResourcesChange; after: ResourcesChange } | undefined {
  const resources = { ...(c.resources ?? {}) };
  const before: ResourcesChange = { limits: {}, requests: {} };
  const after: ResourcesChange = { limits: {}, requests: {} };
  for (const section of ['limits', 'requests'] as const) {
    const values = { ...(resources[section] ?? {}) };
    for (const [name, value] of Object.entries(desired[section])) {
      const old = values[name] ?? null;
      if (old === value) continue;
      before[section][name] = old;
      after[section][name] = value;
      if (value === null) delete values[name];
      else values[name] = value;
    }
    if (Object.keys(values).length === 0) delete resources[section];
    else resources[section] = values;
  }
  if (Object.keys(after.limits).length + Object.keys(after.requests).length === 0) return undefined;
  return { next: { ...c, resources }, before, after };
}

function describe(c: ResourcesChange | undefined): string {
  if (c === undefined) return '';
  const parts: string[] = [];
  for (const section of ['limits', 'requests'] as const)
    for (const [k, v] of Object.entries(c[section])) parts.push(`${section}.${k}=${v ?? '(unset)'}`);
  return parts.join(' ');
}

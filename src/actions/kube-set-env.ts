import { Type } from '@sinclair/typebox';
import { defineAction, type ActionContext, type ActionResult } from '../engine/step-definition.ts';
import type { Container, EnvVar, ObjectRef, WorkloadKind } from '../ports/cluster.ts';
import { editContainers } from '../kube/container-edit.ts';
import { permission } from '../kube/kinds.ts';
import { recordEvent, stepChange } from '../kube/step-kube.ts';
import { Namespace, ObjectName, WorkloadKindParam } from '../kube/step-params.ts';

/** Per container: each variable's entry before/after the change; null = not set. */
export type EnvChange = Record<string, EnvVar | null>;

/**
 * `kubectl set env`: sets (or, with null, removes) environment variables in the named container, or in every
 * container. A variable that came from `valueFrom` is replaced by the plain value, as kubectl does. The previous
 * entries are recorded as a change, so kube.restore can put them back (valueFrom included).
 */
export const kubeSetEnvAction = defineAction({
  name: 'kube.setEnv',
  summary: 'Set or remove environment variables of a workload like `kubectl set env` (records the old values).',
  needs: ['kube'],
  params: Type.Object(
    {
      namespace: Namespace,
      name: ObjectName,
      kind: Type.Optional(WorkloadKindParam),
      container: Type.Optional(Type.String({ minLength: 1, description: 'Container to change; default every container.' })),
      env: Type.Record(Type.String({ pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$' }), Type.Union([Type.String(), Type.Null()]), {
        minProperties: 1,
        description: 'Variables to set; null removes one.',
      }),
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
    const desired: EnvChange = {};
    for (const [k, v] of Object.entries(p.env)) desired[k] = v === null ? null : { name: k, value: v };
    return setEnv(ctx, { kind: p.kind ?? 'Deployment', namespace: p.namespace, name: p.name }, p.container, desired, true);
  },
});

/** Writes env entries (used by kube.restore with the recorded `before` entries, container by container). */
export async function setEnv(
  ctx: ActionContext<unknown>,
  ref: ObjectRef<WorkloadKind>,
  container: string | undefined,
  desired: EnvChange,
  checkStamp: boolean,
): Promise<ActionResult> {
  const target = { namespace: ref.namespace, kind: ref.kind, name: ref.name };
  const res = await editContainers<EnvChange>(ctx, ref, container, 'env', (c) => editEnv(c, desired), { checkStamp });
  const names = Object.keys(desired).join(', ');
  const what = `${ref.kind.toLowerCase()} ${ref.name}`;
  if (res.outcome === 'unchanged')
    return { status: 'ok', output: { target, unchanged: true }, summary: `${what} already has ${names} as asked` };
  const change = stepChange(ctx, { target, before: res.before, after: res.after, action: 'kube.setEnv' });
  if (res.outcome === 'repeated') {
    return {
      status: 'ok',
      output: { target, generation: res.workload.metadata.generation, repeated: true },
      changes: [change],
      summary: `${what}: env already changed by this step`,
    };
  }
  if (ctx.run.dryRun)
    return {
      status: 'ok',
      output: { target, dryRun: true, plan: { patch: { type: 'json', body: res.ops }, before: res.before, after: res.after } },
      summary: `would set ${names} on ${what}`,
    };
  await recordEvent(ctx, res.workload, ref.kind, 'RemediatorSetEnv', `set env ${names} on ${what}`);
  return {
    status: 'ok',
    output: { target, generation: res.workload.metadata.generation, containers: Object.keys(res.after) },
    changes: [change],
    summary: `set env ${names} on ${what}`,
  };
}

function editEnv(c: Container, desired: EnvChange): { next: Container; before: EnvChange; after: EnvChange } | undefined {
  let env = [...(c.env ?? [])];
  const before: EnvChange = {};
  const after: EnvChange = {};
  for (const [name, entry] of Object.entries(desired)) {
    const existing = env.find((e) => e.name === name) ?? null;
    if (entry === null ? existing === null : existing !== null && sameEntry(existing, entry)) continue;
    before[name] = existing;
    after[name] = entry;
    if (entry === null) env = env.filter((e) => e.name !== name);
    else if (existing !== null) env = env.map((e) => (e.name === name ? entry : e));
    else env.push(entry);
  }
  if (Object.keys(after).length === 0) return undefined;
  return { next: { ...c, env }, before, after };
}

function sameEntry(a: EnvVar, b: EnvVar): boolean {
  return a.value === b.value && JSON.stringify(a.valueFrom ?? null) === JSON.stringify(b.valueFrom ?? null);
}

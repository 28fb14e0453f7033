import { Type } from '@sinclair/typebox';
import { defineAction, type ActionContext, type ActionResult } from '../engine/step-definition.ts';
import { patchGuarded } from '../kube/json-patch.ts';
import { permission } from '../kube/kinds.ts';
import { readStamp, stampAnnotations } from '../kube/stamp.ts';
import { kubeOf, precondition, recordEvent, retryOnConflict, stepChange, writeOptions } from '../kube/step-kube.ts';
import { Namespace, ObjectName } from '../kube/step-params.ts';

/**
 * Points a Service at other pods (blue/green failover, draining a bad track): one atomic JSON Patch that tests
 * `/metadata/resourceVersion` and replaces `/spec/selector` as a whole (like `kubectl set selector`, which also
 * replaces it entirely), retried on conflict. The old selector is recorded for kube.restore.
 */
export const kubeSwitchServiceSelectorAction = defineAction({
  name: 'kube.switchServiceSelector',
  summary: 'Replace the selector of a Service atomically (records the old one).',
  needs: ['kube'],
  params: Type.Object(
    {
      namespace: Namespace,
      name: ObjectName,
      selector: Type.Record(Type.String({ minLength: 1 }), Type.String(), {
        minProperties: 1,
        description: 'The whole new selector, e.g. {app: web, track: green}.',
      }),
    },
    { additionalProperties: false },
  ),
  mutates: (p) => ({ namespace: p.namespace, kind: 'Service', name: p.name }),
  permissions: (p) => [
    permission('get', 'Service', p.namespace),
    permission('patch', 'Service', p.namespace),
    permission('create', 'Event', p.namespace),
  ],
  run: (ctx) => switchSelector(ctx, ctx.params.namespace, ctx.params.name, ctx.params.selector, true),
});

export async function switchSelector(
  ctx: ActionContext<unknown>,
  namespace: string,
  name: string,
  selector: Record<string, string>,
  checkStamp: boolean,
): Promise<ActionResult> {
  const kube = kubeOf(ctx);
  const ref = { kind: 'Service' as const, namespace, name };
  const target = { ...ref };
  const text = (s: Record<string, string>) =>
    Object.entries(s)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  return retryOnConflict(ctx, async (): Promise<ActionResult> => {
    const svc = await kube.get(ref, { signal: ctx.signal });
    const stamp = readStamp(svc, ctx);
    if (checkStamp && !ctx.run.dryRun && stamp.mine && stamp.change !== undefined) {
      return {
        status: 'ok',
        output: { target, repeated: true },
        changes: [stepChange(ctx, { target, ...stamp.change, action: 'kube.switchServiceSelector' })],
        summary: `service ${name} was already switched by this step`,
      };
    }
    const old = svc.spec.selector ?? {};
    if (JSON.stringify(sorted(old)) === JSON.stringify(sorted(selector))) {
      return { status: 'ok', output: { target, selector, unchanged: true }, summary: `service ${name} already selects ${text(selector)}` };
    }
    if (Object.keys(old).length === 0)
      throw precondition(`service "${name}" has no selector (its endpoints are managed by hand); refusing to add one`, { target });
    const before = { selector: old };
    const after = { selector };
    const written = await patchGuarded(
      kube,
      ref,
      svc,
      [{ op: 'replace', path: '/spec/selector', value: selector }],
      stampAnnotations(ctx, { before, after }),
      writeOptions(ctx),
    );
    if (ctx.run.dryRun)
      return {
        status: 'ok',
        output: { target, dryRun: true, plan: { before, after } },
        summary: `would switch service ${name} from ${text(old)} to ${text(selector)}`,
      };
    await recordEvent(
      ctx,
      written,
      'Service',
      'RemediatorSwitchSelector',
      `switched service ${name} from ${text(old)} to ${text(selector)}`,
    );
    return {
      status: 'ok',
      output: { target, selector, previousSelector: old },
      changes: [stepChange(ctx, { target, before, after, action: 'kube.switchServiceSelector' })],
      summary: `switched service ${name} from ${text(old)} to ${text(selector)}`,
    };
  });
}

function sorted(s: Record<string, string>): Array<[string, string]> {
  return Object.entries(s).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

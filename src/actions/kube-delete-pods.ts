import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { defineAction, type ActionContext, type ActionResult } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';
import type { Cluster, Pod } from '../ports/cluster.ts';
import { permission } from '../kube/kinds.ts';
import { isFailing, restarts } from '../kube/pod-health.ts';
import { RUN_ANNOTATION, stampValue } from '../kube/stamp.ts';
import { eventMessage, kubeOf, retryOnConflict, writeOptions } from '../kube/step-kube.ts';
import { Namespace, SelectorString } from '../kube/step-params.ts';

/** Annotation of the record Event: the pods this step chose, `[{name, uid}]`. */
export const PODS_ANNOTATION = 'remediator.io/pods';

type Victim = { name: string; uid: string };

/**
 * Deletes pods by label selector (their controller recreates them), at most `maxCount`, failing ones first. Each
 * delete carries `preconditions: {uid, resourceVersion}` of the pod as read, so a pod that was replaced or changed
 * meanwhile is not deleted blindly (on a changed pod it re-reads and re-checks, at most 5 times).
 *
 * Deleted pods cannot carry the remediator stamp, so before deleting, the step writes its choice into an Event with
 * a name derived from the run and step (`remediator-<hash>`, on the first victim). A re-executed step finds that
 * Event, deletes only the chosen pods that still exist, and never picks new victims.
 */
export const kubeDeletePodsAction = defineAction({
  name: 'kube.deletePods',
  summary: 'Delete at most maxCount pods matching a label selector (failing ones first), with uid/resourceVersion preconditions.',
  needs: ['kube'],
  params: Type.Object(
    {
      namespace: Namespace,
      selector: SelectorString,
      maxCount: Type.Integer({ minimum: 1, maximum: 100 }),
      onlyFailing: Type.Optional(
        Type.Boolean({ default: false, description: 'Only pods that are Failed/Unknown, crash-looping, or cannot pull or start.' }),
      ),
    },
    { additionalProperties: false },
  ),
  mutates: (p) => ({ namespace: p.namespace, kind: 'Pod', name: p.selector }),
  permissions: (p) => [
    permission('list', 'Pod', p.namespace),
    permission('delete', 'Pod', p.namespace),
    permission('create', 'Event', p.namespace),
    permission('get', 'Event', p.namespace),
  ],
  async run(ctx) {
    const kube = kubeOf(ctx);
    const { namespace, selector, maxCount } = ctx.params;
    const ledgerName = `remediator-${createHash('sha256').update(stampValue(ctx)).digest('hex').slice(0, 20)}`;
    if (!ctx.run.dryRun) {
      const chosen = await readLedger(kube, namespace, ledgerName, ctx.signal);
      if (chosen !== undefined) return finish(ctx, kube, chosen, true);
    }
    const pods = (await kube.listPods(namespace, selector, { signal: ctx.signal })).filter(
      (p) => p.metadata.deletionTimestamp === undefined,
    );
    const candidates = pods
      .map((pod) => ({ pod, failing: isFailing(pod), restarts: restarts(pod) }))
      .filter((c) => !ctx.params.onlyFailing || c.failing)
      .sort(
        (a, b) => Number(b.failing) - Number(a.failing) || b.restarts - a.restarts || (a.pod.metadata.name < b.pod.metadata.name ? -1 : 1),
      );
    const victims = candidates.slice(0, maxCount).map((c) => c.pod);
    if (victims.length === 0) {
      return {
        status: 'skipped',
        reason: `no ${ctx.params.onlyFailing ? 'failing ' : ''}pods match ${selector} in namespace ${namespace}`,
        output: { selector, matched: pods.length },
      };
    }
    if (ctx.run.dryRun) {
      for (const pod of victims) await kube.deletePod(namespace, pod.metadata.name, preconditionsOf(pod), writeOptions(ctx));
      return {
        status: 'ok',
        output: { dryRun: true, plan: { delete: victims.map((p) => p.metadata.name) }, matched: pods.length },
        summary: `would delete ${victims.length} of ${pods.length} pods matching ${selector}`,
      };
    }
    const chosen: Victim[] = victims.map((p) => ({ name: p.metadata.name, uid: p.metadata.uid ?? '' }));
    const first = victims[0] as Pod;
    try {
      await kube.createEvent(
        {
          namespace,
          name: ledgerName,
          involvedObject: { apiVersion: 'v1', kind: 'Pod', name: first.metadata.name, namespace, uid: first.metadata.uid ?? '' },
          reason: 'RemediatorDeletePods',
          message: eventMessage(ctx, `deleted ${chosen.length} pod(s) matching ${selector} (${chosen.map((c) => c.name).join(', ')})`),
          annotations: { [RUN_ANNOTATION]: stampValue(ctx), [PODS_ANNOTATION]: JSON.stringify(chosen) },
        },
        { signal: ctx.signal, fieldManager: ctx.services.limits.fieldManager },
      );
    } catch (err) {
      // AlreadyExists: another execution of this very step got there first; follow its choice.
      if (err instanceof RemediatorError && err.code === 'REM_ERR_KUBE_CONFLICT') {
        const theirs = await readLedger(kube, namespace, ledgerName, ctx.signal);
        if (theirs !== undefined) return finish(ctx, kube, theirs, true);
      }
      throw err;
    }
    return finish(ctx, kube, chosen, false, new Map(victims.map((p) => [p.metadata.uid ?? '', p])));
  },
});

async function readLedger(kube: Cluster, namespace: string, name: string, signal: AbortSignal): Promise<Victim[] | undefined> {
  try {
    const ev = await kube.getEvent(namespace, name, { signal });
    return JSON.parse(ev.metadata.annotations?.[PODS_ANNOTATION] ?? '[]') as Victim[];
  } catch (err) {
    if (err instanceof RemediatorError && err.code === 'REM_ERR_KUBE_NOT_FOUND') return undefined;
    throw err;
  }
}

/** Deletes the chosen pods that still exist (as read, or re-read after a conflict). */
async function finish(
  ctx: ActionContext<{ namespace: string; selector: string }>,
  kube: Cluster,
  chosen: Victim[],
  repeated: boolean,
  asRead?: Map<string, Pod>,
): Promise<ActionResult> {
  const { namespace, selector } = ctx.params;
  const deleted: string[] = [];
  const gone: string[] = [];
  let current = asRead;
  for (const victim of chosen) {
    await retryOnConflict(ctx, async (attempt) => {
      if (current === undefined || attempt > 1) {
        const pods = await kube.listPods(namespace, selector, { signal: ctx.signal });
        current = new Map(pods.filter((p) => p.metadata.deletionTimestamp === undefined).map((p) => [p.metadata.uid ?? '', p]));
      }
      const pod = current.get(victim.uid);
      if (pod === undefined) {
        gone.push(victim.name);
        return;
      }
      await kube.deletePod(namespace, victim.name, preconditionsOf(pod), writeOptions(ctx));
      deleted.push(victim.name);
    });
  }
  const summary =
    deleted.length === 0
      ? `the ${chosen.length} pod(s) this step chose are already gone`
      : `deleted ${deleted.length} pod(s) matching ${selector}: ${deleted.join(', ')}`;
  return { status: 'ok', output: { selector, deleted, alreadyGone: gone, ...(repeated ? { repeated: true } : {}) }, summary };
}

function preconditionsOf(pod: Pod): { uid: string; resourceVersion?: string } {
  const uid = pod.metadata.uid ?? '';
  return pod.metadata.resourceVersion === undefined ? { uid } : { uid, resourceVersion: pod.metadata.resourceVersion };
}

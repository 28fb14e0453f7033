import { Type } from '@sinclair/typebox';
import { defineAction, type ActionContext } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';
import type { Cluster, ContainerStatus, KubeEvent, Pod } from '../ports/cluster.ts';
import { permission } from '../kube/kinds.ts';
import { isFailing, isReady, restarts } from '../kube/pod-health.ts';
import { selectorToString } from '../kube/label-selector.ts';
import { kubeOf, precondition } from '../kube/step-kube.ts';
import { Namespace, ObjectName, SelectorString, WorkloadKindParam } from '../kube/step-params.ts';

const params = Type.Object(
  {
    namespace: Namespace,
    name: Type.Optional(ObjectName),
    kind: Type.Optional(WorkloadKindParam),
    selector: Type.Optional(SelectorString),
    logLines: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 50 })),
    maxPods: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    maxEvents: Type.Optional(Type.Integer({ minimum: 0, maximum: 200, default: 20 })),
    maxBytes: Type.Optional(
      Type.Integer({ minimum: 4096, maximum: 1_048_576, default: 65_536, description: 'Cap of the JSON output; logs are cut first.' }),
    ),
  },
  { additionalProperties: false },
);

interface ContainerView {
  name: string;
  ready: boolean;
  restarts: number;
  state?: string;
  reason?: string;
  lastTermination?: { reason?: string; exitCode: number; finishedAt?: string };
  log?: string;
  logSource?: 'previous' | 'current';
}

/**
 * What a person opens first when paged: the pods of a workload (or a selector) with phase, readiness, restarts,
 * last termination (OOMKilled, Error) and waiting reason (CrashLoopBackOff), recent Events of the workload and its
 * pods, and the last lines of the logs of failing containers (the previous container's when it crashed). A plain
 * JSON object the run record shows, at most `maxBytes`: logs are shortened first, then events, then pods.
 */
export const kubeSnapshotAction = defineAction({
  name: 'kube.snapshot',
  summary: "Collect pods, recent Events and failing containers' logs of a workload for the run record.",
  needs: ['kube'],
  params,
  mutates: () => null,
  permissions: (p) => [
    ...(p.name !== undefined ? [permission('get', p.kind ?? 'Deployment', p.namespace)] : []),
    permission('list', 'Pod', p.namespace),
    permission('get', 'Pod', p.namespace, 'log'),
    permission('list', 'Event', p.namespace),
  ],
  async run(ctx) {
    const kube = kubeOf(ctx);
    const p = ctx.params;
    if ((p.name === undefined) === (p.selector === undefined))
      throw precondition('kube.snapshot needs exactly one of name (a workload) or selector');
    let selector = p.selector ?? '';
    const involved = new Set<string>();
    if (p.name !== undefined) {
      const w = await kube.get({ kind: p.kind ?? 'Deployment', namespace: p.namespace, name: p.name }, { signal: ctx.signal });
      selector = selectorToString(w.spec.selector ?? {});
      if (selector === '') throw precondition(`${(p.kind ?? 'Deployment').toLowerCase()} "${p.name}" has an empty selector`);
      involved.add(p.name);
    }
    const pods = (await kube.listPods(p.namespace, selector, { signal: ctx.signal }))
      .map((pod) => ({ pod, failing: isFailing(pod) || !isReady(pod) }))
      .sort((a, b) => Number(b.failing) - Number(a.failing) || restarts(b.pod) - restarts(a.pod));
    const shown = pods.slice(0, p.maxPods ?? 10);
    const views = [];
    for (const { pod, failing } of shown) {
      involved.add(pod.metadata.name);
      for (const o of pod.metadata.ownerReferences ?? []) involved.add(o.name);
      views.push(await podView(ctx, kube, pod, failing, p.logLines ?? 50));
    }
    const events = await recentEvents(ctx, kube, p.namespace, involved, p.maxEvents ?? 20);
    const snapshot = {
      namespace: p.namespace,
      ...(p.name !== undefined ? { workload: { kind: p.kind ?? 'Deployment', name: p.name } } : {}),
      selector,
      takenAt: new Date(ctx.clock.now()).toISOString(),
      pods: { total: pods.length, failing: pods.filter((x) => x.failing).length, shown: views.length, items: views },
      events,
    };
    const bounded = bound(snapshot, p.maxBytes ?? 65_536);
    const failing = snapshot.pods.failing;
    const reasons = [
      ...new Set(
        views.flatMap((v) =>
          v.containers.flatMap((c) => [c.reason, c.lastTermination?.reason]).filter((r): r is string => r !== undefined),
        ),
      ),
    ];
    return {
      status: 'ok',
      output: bounded,
      summary: `${pods.length} pods, ${failing} failing${reasons.length ? ` (${reasons.join(', ')})` : ''}, ${events.length} events`,
    };
  },
});

async function podView(ctx: ActionContext<unknown>, kube: Cluster, pod: Pod, failing: boolean, logLines: number) {
  const containers: ContainerView[] = [];
  for (const s of pod.status?.containerStatuses ?? []) {
    const v = containerView(s);
    const broken = !s.ready || s.state?.waiting !== undefined || s.state?.terminated !== undefined;
    if (failing && broken && logLines > 0) {
      const crashed = s.restartCount > 0 && s.lastState?.terminated !== undefined;
      const got = await readLog(ctx, kube, pod, s.name, logLines, crashed);
      if (got !== undefined) Object.assign(v, got);
    }
    containers.push(v);
  }
  return {
    name: pod.metadata.name,
    phase: pod.status?.phase ?? 'Unknown',
    ready: isReady(pod),
    restarts: restarts(pod),
    ...(pod.status?.reason ? { reason: pod.status.reason } : {}),
    ...(typeof pod.spec?.nodeName === 'string' ? { node: pod.spec.nodeName } : {}),
    createdAt: pod.metadata.creationTimestamp ?? undefined,
    containers,
  };
}

function containerView(s: ContainerStatus): ContainerView {
  const v: ContainerView = { name: s.name, ready: s.ready, restarts: s.restartCount };
  if (s.state?.waiting) {
    v.state = 'waiting';
    if (s.state.waiting.reason) v.reason = s.state.waiting.reason;
  } else if (s.state?.terminated) {
    v.state = 'terminated';
    if (s.state.terminated.reason) v.reason = s.state.terminated.reason;
  } else if (s.state?.running) v.state = 'running';
  const t = s.lastState?.terminated;
  if (t)
    v.lastTermination = {
      exitCode: t.exitCode,
      ...(t.reason ? { reason: t.reason } : {}),
      ...(t.finishedAt ? { finishedAt: t.finishedAt } : {}),
    };
  return v;
}

/** The previous container's log when it crashed (what explains the crash), else the current one; errors are noted, not thrown. */
async function readLog(
  ctx: ActionContext<unknown>,
  kube: Cluster,
  pod: Pod,
  container: string,
  lines: number,
  previous: boolean,
): Promise<Pick<ContainerView, 'log' | 'logSource'> | undefined> {
  const ns = pod.metadata.namespace ?? '';
  const attempts: boolean[] = previous ? [true, false] : [false];
  for (const prev of attempts) {
    try {
      const log = await kube.readLog(ns, pod.metadata.name, {
        signal: ctx.signal,
        container,
        previous: prev,
        tailLines: lines,
        limitBytes: 32_768,
      });
      return { log, logSource: prev ? 'previous' : 'current' };
    } catch (err) {
      if (!(err instanceof RemediatorError)) throw err;
      ctx.log.debug({ err: err.message, pod: pod.metadata.name, container, previous: prev }, 'log not available');
    }
  }
  return undefined;
}

async function recentEvents(ctx: ActionContext<unknown>, kube: Cluster, namespace: string, involved: Set<string>, max: number) {
  if (max === 0) return [];
  let events: KubeEvent[];
  try {
    events = await kube.listEvents(namespace, { signal: ctx.signal });
  } catch (err) {
    if (err instanceof RemediatorError && err.code === 'REM_ERR_KUBE_FORBIDDEN') return [];
    throw err;
  }
  const when = (e: KubeEvent) => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '';
  return events
    .filter((e) => e.involvedObject.name !== undefined && involved.has(e.involvedObject.name))
    .sort((a, b) => (when(a) < when(b) ? 1 : when(a) > when(b) ? -1 : 0))
    .slice(0, max)
    .map((e) => ({
      at: when(e),
      type: e.type,
      reason: e.reason,
      object: `${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}`,
      message: e.message,
      count: e.count,
    }));
}

type Snapshot = { pods: { items: Array<{ containers: ContainerView[] }>; [k: string]: unknown }; events: unknown[]; [k: string]: unknown };

/** Shrinks the snapshot under `maxBytes` of JSON: logs keep their last lines, then events and pods are dropped from the end. */
export function bound<T extends Snapshot>(snapshot: T, maxBytes: number): T & { truncated?: string[] } {
  const size = (x: unknown) => Buffer.byteLength(JSON.stringify(x));
  if (size(snapshot) <= maxBytes) return snapshot;
  const s = structuredClone(snapshot) as T & { truncated?: string[] };
  const notes: string[] = [];
  const logs = s.pods.items.flatMap((p) => p.containers).filter((c) => typeof c.log === 'string');
  for (let budget = 8192; budget >= 0 && size(s) > maxBytes; budget = budget === 0 ? -1 : Math.floor(budget / 2)) {
    for (const c of logs) if ((c.log as string).length > budget) c.log = (budget > 0 ? '…' : '') + (c.log as string).slice(-budget);
    if (!notes.includes('logs')) notes.push('logs');
  }
  while (size(s) > maxBytes && s.events.length > 0) {
    s.events.pop();
    if (!notes.includes('events')) notes.push('events');
  }
  while (size(s) > maxBytes && s.pods.items.length > 1) {
    s.pods.items.pop();
    if (!notes.includes('pods')) notes.push('pods');
  }
  s.truncated = notes;
  return s;
}

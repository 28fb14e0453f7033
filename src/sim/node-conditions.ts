import { nowRfc3339 } from './store.ts';

/**
 * A Node's health as the kubelet and the node lifecycle controller write it: the four conditions, and the taints
 * derived from them and from `spec.unschedulable` (TaintNodesByCondition, taint-based evictions). Faults change the
 * conditions; the node controller keeps the taints in step, and the scheduler reads the taints.
 */
export type NodePressure = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

const HEALTHY: Record<string, [string, string, string]> = {
  MemoryPressure: ['False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  DiskPressure: ['False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  PIDPressure: ['False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  Ready: ['True', 'KubeletReady', 'kubelet is posting ready status'],
};

const PRESSURE: Record<NodePressure, [string, string]> = {
  MemoryPressure: ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
  DiskPressure: ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
  PIDPressure: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
};

const PRESSURE_TAINT: Record<NodePressure, string> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
};

/** Taint keys this module owns; other taints on a node are left alone. */
const OWNED_TAINTS = new Set([
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.kubernetes.io/unschedulable',
  ...Object.values(PRESSURE_TAINT),
]);

function setCondition(node: any, type: string, status: string, reason: string, message: string): void {
  const now = nowRfc3339();
  node.status ??= {};
  node.status.conditions ??= [];
  const conditions: any[] = node.status.conditions;
  const c = conditions.find((x) => x.type === type);
  if (!c) {
    conditions.push({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
    return;
  }
  if (c.status !== status) c.lastTransitionTime = now;
  Object.assign(c, { status, reason, message, lastHeartbeatTime: now });
}

export function conditionOf(node: any, type: string): any | undefined {
  return (node?.status?.conditions ?? []).find((c: any) => c.type === type);
}

export function isNodeReady(node: any): boolean {
  return conditionOf(node, 'Ready')?.status === 'True';
}

/** The kubelet stopped posting status: the node controller marks every condition Unknown. */
export function markNodeUnreachable(node: any): void {
  for (const type of Object.keys(HEALTHY)) setCondition(node, type, 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.');
}

/** The kubelet reports itself not ready (container runtime down). */
export function markNodeNotReady(node: any): void {
  setCondition(node, 'Ready', 'False', 'KubeletNotReady', 'container runtime is down');
}

export function markNodePressure(node: any, pressure: NodePressure): void {
  const [reason, message] = PRESSURE[pressure];
  setCondition(node, pressure, 'True', reason, message);
}

/** Every condition back to healthy. */
export function markNodeHealthy(node: any): void {
  for (const [type, [status, reason, message]] of Object.entries(HEALTHY)) setCondition(node, type, status, reason, message);
}

/** The taints the node lifecycle controller keeps for the node's conditions and cordon, plus any others it carries. */
export function taintsFor(node: any): any[] {
  const others = (node.spec?.taints ?? []).filter((t: any) => !OWNED_TAINTS.has(t.key));
  const owned: any[] = [];
  const existing = (key: string, effect: string) => (node.spec?.taints ?? []).find((t: any) => t.key === key && t.effect === effect);
  const add = (key: string, effect: 'NoSchedule' | 'NoExecute') => {
    owned.push(existing(key, effect) ?? (effect === 'NoExecute' ? { key, effect, timeAdded: nowRfc3339() } : { key, effect }));
  };
  const ready = conditionOf(node, 'Ready')?.status;
  if (ready === 'False') {
    add('node.kubernetes.io/not-ready', 'NoSchedule');
    add('node.kubernetes.io/not-ready', 'NoExecute');
  } else if (ready === 'Unknown') {
    add('node.kubernetes.io/unreachable', 'NoSchedule');
    add('node.kubernetes.io/unreachable', 'NoExecute');
  }
  for (const p of Object.keys(PRESSURE) as NodePressure[])
    if (conditionOf(node, p)?.status === 'True') add(PRESSURE_TAINT[p], 'NoSchedule');
  if (node.spec?.unschedulable) add('node.kubernetes.io/unschedulable', 'NoSchedule');
  return [...others, ...owned];
}

function tolerates(pod: any, taint: any): boolean {
  return (pod.spec?.tolerations ?? []).some(
    (t: any) =>
      (t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
      (t.operator === 'Exists'
        ? t.key === undefined || t.key === '' || t.key === taint.key
        : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
  );
}

/**
 * Why the scheduler cannot place a pod on the node, in its own words (`0/1 nodes are available: …`), or undefined
 * when it can.
 */
export function unschedulableReason(pod: any, node: any | undefined): string | undefined {
  const preemption = 'preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
  if (!node) return 'no nodes available to schedule pods';
  if (node.spec?.unschedulable && !tolerates(pod, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }))
    return `0/1 nodes are available: 1 node(s) were unschedulable. ${preemption}`;
  const blocking = (node.spec?.taints ?? []).find(
    (t: any) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod, t),
  );
  if (blocking) return `0/1 nodes are available: 1 node(s) had untolerated taint {${blocking.key}: ${blocking.value ?? ''}}. ${preemption}`;
  return undefined;
}

import type { Pod } from '../ports/cluster.ts';

/** Container states that mean "this pod is failing": it will not get better by waiting. */
const FAILING_WAITING = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerError',
  'CreateContainerConfigError',
  'RunContainerError',
]);

/** Failed/Unknown phase, a container crash-looping or unable to pull or start, or one that exited non-zero. */
export function isFailing(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Unknown') return true;
  for (const s of pod.status?.containerStatuses ?? []) {
    const waiting = s.state?.waiting?.reason;
    if (waiting !== undefined && FAILING_WAITING.has(waiting)) return true;
    if (s.state?.terminated !== undefined && s.state.terminated.exitCode !== 0) return true;
  }
  return false;
}

/** The pod's Ready condition. */
export function isReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Restarts of all its containers. */
export function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, s) => n + (s.restartCount ?? 0), 0);
}

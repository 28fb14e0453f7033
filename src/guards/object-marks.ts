import type { Cluster, ObjectKind } from '../kube/cluster.ts';
import type { TargetRef } from '../engine/step-definition.ts';
import { isRemediatorError } from '../engine/errors.ts';
import type { ObjectMarks } from './scope-policy.ts';

/** Kinds whose object the Cluster port can read by name; other targets (a pod selector, a manifest) have no labels to read. */
const READABLE: ReadonlySet<string> = new Set<ObjectKind>(['Deployment', 'StatefulSet', 'DaemonSet', 'ConfigMap', 'Service']);

export type MarksRead =
  | { kind: 'found'; marks: ObjectMarks }
  /** The object does not exist: nothing to protect; the action reports the missing object itself. */
  | { kind: 'absent' }
  | { kind: 'unsupported' }
  /** The API server could not answer: scope is unknown, so nothing is admitted yet. */
  | { kind: 'unreadable'; why: string };

/** Reads the target's labels and annotations through the Kubernetes port. */
export async function readMarks(kube: Cluster, target: TargetRef, signal: AbortSignal): Promise<MarksRead> {
  if (!READABLE.has(target.kind)) return { kind: 'unsupported' };
  try {
    const obj = await kube.get({ kind: target.kind as ObjectKind, namespace: target.namespace, name: target.name }, { signal });
    return { kind: 'found', marks: { labels: obj.metadata.labels, annotations: obj.metadata.annotations } };
  } catch (err) {
    if (isRemediatorError(err) && err.code === 'REM_ERR_KUBE_NOT_FOUND') return { kind: 'absent' };
    return { kind: 'unreadable', why: err instanceof Error ? err.message : String(err) };
  }
}

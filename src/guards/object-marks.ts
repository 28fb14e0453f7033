import type { Cluster } from '../ports/cluster.ts';
import { isObjectKind } from '../kube/kinds.ts';
import type { TargetRef } from '../engine/step-definition.ts';
import { isRemediatorError } from '../domain/errors.ts';
import type { ObjectMarks } from './scope-policy.ts';

export type MarksRead =
  | { kind: 'found'; marks: ObjectMarks }
  /** The object does not exist: nothing to protect; the action reports the missing object itself. */
  | { kind: 'absent' }
  /** The Cluster port cannot read this kind by name (a pod selector, a manifest): there are no labels to read. */
  | { kind: 'unsupported' }
  /** The API server could not answer: scope is unknown, so nothing is admitted yet. */
  | { kind: 'unreadable'; why: string };

/**
 * Reads the target's labels and annotations through the Kubernetes port (every kind KINDS gives client calls for).
 */
export async function readMarks(kube: Cluster, target: TargetRef, signal: AbortSignal): Promise<MarksRead> {
  if (!isObjectKind(target.kind)) return { kind: 'unsupported' };
  try {
    const obj = await kube.get({ kind: target.kind, namespace: target.namespace, name: target.name }, { signal });
    return { kind: 'found', marks: { labels: obj.metadata.labels, annotations: obj.metadata.annotations } };
  } catch (err) {
    if (isRemediatorError(err) && err.code === 'REM_ERR_KUBE_NOT_FOUND') return { kind: 'absent' };
    return { kind: 'unreadable', why: err instanceof Error ? err.message : String(err) };
  }
}

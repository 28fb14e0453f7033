import { RemediatorError } from '../domain/errors.ts';
import type { Cluster, KindMap, KubeObject, ObjectKind, ObjectRef, Patch, WriteOptions } from '../ports/cluster.ts';

/** One RFC 6902 operation. */
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
}

/** Escapes one path segment (`remediator.io/run` → `remediator.io~1run`). */
export function pointer(...segments: Array<string | number>): string {
  return segments.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/**
 * A JSON Patch that applies only to the object as it was read: it starts with a `test` of
 * `/metadata/resourceVersion`, so a concurrent write makes the server refuse it (422/409) instead of mixing two
 * writers' intents; the caller re-reads and retries. Whole values are written (`add` replaces an existing member),
 * which is safe for the same reason. The object's annotations get `annotations` merged in.
 */
export function guardedJsonPatch(read: KubeObject, ops: JsonPatchOp[], annotations: Record<string, string>): Patch {
  const body: JsonPatchOp[] = [
    { op: 'test', path: '/metadata/resourceVersion', value: read.metadata.resourceVersion ?? '' },
    ...ops,
    { op: 'add', path: '/metadata/annotations', value: { ...(read.metadata.annotations ?? {}), ...annotations } },
  ];
  return { type: 'json', body };
}

/**
 * Sends a guarded JSON Patch (see guardedJsonPatch) and reports a failed `test` as a conflict. The API server
 * answers a failed test with a generic 422 that does not say which operation failed, so on a 422 the object is
 * read again: a different resourceVersion means it changed under us (REM_ERR_KUBE_CONFLICT, the caller's conflict
 * retry re-reads); the same one means the patch itself was refused, and that error stands.
 */
export async function patchGuarded<K extends ObjectKind>(
  kube: Cluster,
  ref: ObjectRef<K>,
  read: KubeObject,
  ops: JsonPatchOp[],
  annotations: Record<string, string>,
  options: WriteOptions,
): Promise<KindMap[K]> {
  try {
    return await kube.patch(ref, guardedJsonPatch(read, ops, annotations), options);
  } catch (err) {
    if (!(err instanceof RemediatorError) || err.code !== 'REM_ERR_KUBE_REJECTED' || err.details?.httpStatus !== 422) throw err;
    const now = await kube.get(ref, { signal: options.signal });
    if (now.metadata.resourceVersion === read.metadata.resourceVersion) throw err;
    throw new RemediatorError('REM_ERR_KUBE_CONFLICT', `${ref.kind} ${ref.namespace}/${ref.name} changed since it was read`, {
      details: err.details,
      cause: err,
    });
  }
}

import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { parseAllDocuments } from 'yaml';
import { defineAction } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';
import type { KubeObject } from '../ports/cluster.ts';
import { stampAnnotations } from '../kube/stamp.ts';
import { eventMessage, kubeOf, precondition, writeOptions } from '../kube/step-kube.ts';
import { Namespace } from '../kube/step-params.ts';
import { permission } from '../kube/kinds.ts';

/**
 * Server-side apply of a manifest kept beside the playbooks (a NetworkPolicy that isolates a service, a ConfigMap
 * with safe defaults). The path is relative to `limits.manifestsDir` and must resolve inside it (symlinks
 * included); every object's kind must be in `limits.applyKinds`, checked for the whole file before anything is
 * written. Objects get the remediator stamp as an annotation owned by remediator's field manager. Apply is
 * idempotent on the server: applying the same manifest again changes nothing.
 */
export const kubeApplyAction = defineAction({
  name: 'kube.apply',
  summary: 'Server-side apply a manifest from the manifests folder, restricted to the allowed kinds.',
  needs: ['kube'],
  params: Type.Object(
    {
      manifest: Type.String({ minLength: 1, description: 'Path relative to the manifests folder.' }),
      namespace: Type.Optional(Namespace),
      force: Type.Optional(Type.Boolean({ default: false, description: 'Take over fields another manager owns (--force-conflicts).' })),
    },
    { additionalProperties: false },
  ),
  // The objects of the manifest, each admitted by the guard layer (scope, the remediator.io/disabled label, GitOps
  // ownership, its lock) before anything is applied.
  // The writes themselves depend on the manifest's kinds (`remediator rbac` reads them from the file); declared here
  // is the Event each applied object gets, in the step's namespace (or, without one, wherever the objects are).
  permissions: (p) => [permission('create', 'Event', p.namespace ?? '')],
  mutates: async (p, scope) =>
    (await loadManifest(scope.limits.manifestsDir, p.manifest, p.namespace, scope.limits.applyKinds)).map((o) => ({
      namespace: o.metadata.namespace ?? '',
      kind: o.kind ?? '',
      name: o.metadata.name,
    })),
  async run(ctx) {
    const kube = kubeOf(ctx);
    const objects = await loadManifest(
      ctx.services.limits.manifestsDir,
      ctx.params.manifest,
      ctx.params.namespace,
      ctx.services.limits.applyKinds,
    );
    const applied: Array<{ kind: string; namespace: string; name: string; resourceVersion?: string }> = [];
    for (const obj of objects) {
      const stamped: KubeObject = {
        ...obj,
        metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}), ...stampAnnotations(ctx) } },
      };
      const result = await kube.apply(stamped, { ...writeOptions(ctx), force: ctx.params.force ?? false }).catch((err: unknown) => {
        // A 409 from server-side apply is a field-ownership conflict, which retrying does not fix.
        if (err instanceof RemediatorError && err.code === 'REM_ERR_KUBE_CONFLICT') {
          throw new RemediatorError(
            'REM_ERR_KUBE_REJECTED',
            `${err.message} (another field manager owns these fields; set force: true to take them over)`,
            { details: err.details, cause: err },
          );
        }
        throw err;
      });
      const ref = { kind: obj.kind ?? '', namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
      applied.push(result.metadata.resourceVersion === undefined ? ref : { ...ref, resourceVersion: result.metadata.resourceVersion });
      if (!ctx.run.dryRun) {
        try {
          await kube.createEvent(
            {
              namespace: ref.namespace,
              involvedObject: {
                apiVersion: obj.apiVersion ?? 'v1',
                kind: ref.kind,
                name: ref.name,
                namespace: ref.namespace,
                ...(result.metadata.uid ? { uid: result.metadata.uid } : {}),
              },
              reason: 'RemediatorApply',
              message: eventMessage(ctx, `applied ${ref.kind.toLowerCase()} ${ref.name} from ${ctx.params.manifest}`),
            },
            { signal: ctx.signal, fieldManager: ctx.services.limits.fieldManager },
          );
        } catch (err) {
          ctx.log.warn({ err, object: ref }, 'could not record the Kubernetes Event');
        }
      }
    }
    const list = applied.map((a) => `${a.kind.toLowerCase()}/${a.name}`).join(', ');
    if (ctx.run.dryRun) return { status: 'ok', output: { dryRun: true, plan: { apply: applied } }, summary: `would apply ${list}` };
    return { status: 'ok', output: { applied }, summary: `applied ${list}` };
  },
});

/** Reads and checks a manifest: inside the folder, parseable, only allowed kinds, one namespace per object. */
export async function loadManifest(
  dir: string,
  file: string,
  namespace: string | undefined,
  allowedKinds: readonly string[],
): Promise<KubeObject[]> {
  const root = await realpath(dir);
  let full: string;
  try {
    full = await realpath(path.resolve(root, file));
  } catch (err) {
    throw precondition(`manifest ${file} does not exist in the manifests folder`, { manifest: file, error: (err as Error).message });
  }
  const rel = path.relative(root, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
    throw precondition(`manifest ${file} is outside the manifests folder`, { manifest: file });
  const docs = parseAllDocuments(await readFile(full, 'utf8'));
  const objects: KubeObject[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0)
      throw new RemediatorError('REM_ERR_KUBE_REJECTED', `manifest ${file}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    const obj = doc.toJS() as KubeObject | null;
    if (obj === null) continue;
    if (typeof obj.kind !== 'string' || typeof obj.apiVersion !== 'string' || typeof obj.metadata?.name !== 'string') {
      throw new RemediatorError('REM_ERR_KUBE_REJECTED', `manifest ${file}: every object needs apiVersion, kind and metadata.name`);
    }
    if (!allowedKinds.includes(obj.kind)) {
      throw precondition(`manifest ${file}: kind ${obj.kind} is not in limits.applyKinds (${allowedKinds.join(', ') || 'none'})`, {
        kind: obj.kind,
        applyKinds: allowedKinds,
      });
    }
    const ns = obj.metadata.namespace ?? namespace;
    if (ns === undefined) throw precondition(`manifest ${file}: ${obj.kind} ${obj.metadata.name} has no namespace and the step names none`);
    if (namespace !== undefined && obj.metadata.namespace !== undefined && obj.metadata.namespace !== namespace) {
      throw precondition(
        `manifest ${file}: ${obj.kind} ${obj.metadata.name} is in namespace ${obj.metadata.namespace}, the step says ${namespace}`,
      );
    }
    objects.push({ ...obj, metadata: { ...obj.metadata, namespace: ns } });
  }
  if (objects.length === 0) throw precondition(`manifest ${file} holds no objects`);
  return objects;
}

import jsonpatch from 'fast-json-patch';
import { parse as parseYaml } from 'yaml';
import { badRequest, StatusError, unsupportedMediaType } from './status.ts';
import { jsonMergePatch, strategicMerge } from './strategic-merge.ts';

/**
 * PATCH bodies, decoded and applied like the real API server (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go):
 * the Content-Type picks the patch type (anything else is 415), a JSON Patch must be an array of operations (an
 * object gives the 400 that client-node users meet when they forget `setHeaderOptions`), and an unapplicable JSON
 * Patch (failed `test`, missing path) is the generic 422 the real server answers.
 */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const MEDIA_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function patchTypeOf(contentType: string | undefined): PatchType {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const t = MEDIA_TYPES[media];
  if (!t) throw unsupportedMediaType(contentType ?? '');
  return t;
}

function goTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** Decodes the body of a PATCH. Apply patches are YAML (JSON is YAML too); the rest must be JSON. */
export function decodePatch(type: PatchType, body: string): any {
  if (type === 'apply') {
    try {
      const doc = parseYaml(body);
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('apply patch must be an object');
      return doc;
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  if (type === 'json' && !Array.isArray(doc)) {
    throw badRequest(`error decoding patch: json: cannot unmarshal ${goTypeName(doc)} into Go value of type []handlers.jsonPatchOp`);
  }
  if (type !== 'json' && (typeof doc !== 'object' || doc === null || Array.isArray(doc))) {
    throw badRequest(`error decoding patch: json: cannot unmarshal ${goTypeName(doc)} into Go value of type map[string]interface {}`);
  }
  return doc;
}

/** The real server's answer to a JSON Patch that does not apply; it carries no detail (measured on real clusters). */
function patchNotApplied(): StatusError {
  const err = new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
  return err;
}

/** Applies a decoded patch to a copy of `current` and returns the result. */
export function applyPatch(type: PatchType, current: any, patch: any): any {
  switch (type) {
    case 'json': {
      for (const op of patch as any[]) {
        if (typeof op !== 'object' || op === null || typeof op.op !== 'string' || typeof op.path !== 'string') {
          throw badRequest(`the server rejected our request due to an error in our request`);
        }
      }
      try {
        return jsonpatch.applyPatch(structuredClone(current), patch, true, false).newDocument;
      } catch (err) {
        if (err instanceof jsonpatch.JsonPatchError) throw patchNotApplied();
        throw err;
      }
    }
    case 'merge':
      return jsonMergePatch(current, patch);
    case 'strategic':
      return strategicMerge(current, patch);
    case 'apply':
      // Server-side apply, approximated: the applied configuration is merged into the live object (no field
      // ownership, so fields a manager stops applying are kept).
      return strategicMerge(current, patch);
  }
}

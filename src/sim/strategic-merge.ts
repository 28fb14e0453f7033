/**
 * Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch) for the fields the project and kubectl touch:
 * maps merge, `null` deletes a key, lists of containers/env/volumes/ports/… merge by their merge key, other lists are
 * replaced. Directives handled: `$patch: replace | delete | merge` (on maps and list elements), `$retainKeys`,
 * `$setElementOrder/<list>` (orders the merged list), `$deleteFromPrimitiveList/<list>`.
 *
 * The merge keys follow the Go struct tags (`patchMergeKey`) of core/v1 and apps/v1.
 */

type Json = any;

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The merge key of a list field, or `undefined` for lists the real server replaces atomically. */
export function mergeKeyFor(path: string[], field: string): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'ports':
      // container ports merge by containerPort, Service ports by port.
      return path.includes('containers') || path.includes('initContainers') ? 'containerPort' : 'port';
    case 'conditions':
      return 'type';
    case 'ownerReferences':
      return 'uid';
    case 'hostAliases':
      return 'ip';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    default:
      return undefined;
  }
}

/** Lists of scalars that merge as sets (`patchStrategy:"merge"` on a []string). */
export const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

export function strategicMerge(original: Json, patch: Json, path: string[] = []): Json {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, Json> = isObject(original) ? structuredClone(original) : {};

  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(out)) if (!patch.$retainKeys.includes(k)) delete out[k];
  }

  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = out[field].filter((x: Json) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const merged = mergeList(out[k], v, [...path, k], k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (isObject(v)) {
      const merged = strategicMerge(out[k], v, [...path, k]);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
  }

  // `$setElementOrder/<field>` gives the final order of a merged list (elements not named keep their place after).
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/') || !Array.isArray(order)) continue;
    const field = k.slice('$setElementOrder/'.length);
    if (!Array.isArray(out[field])) continue;
    const mk = mergeKeyFor([...path, field], field);
    const keyOf = (x: Json): Json => (mk && isObject(x) ? x[mk] : x);
    const wanted = order.map(keyOf);
    const list = out[field] as Json[];
    const ordered = wanted.map((w) => list.find((x) => keyOf(x) === w)).filter((x) => x !== undefined);
    const rest = list.filter((x) => !wanted.includes(keyOf(x)));
    out[field] = [...ordered, ...rest];
  }
  return out;
}

function mergeList(original: Json, patch: Json[], path: string[], field: string): Json[] | undefined {
  if (patch.some((e) => isObject(e) && e.$patch === 'replace')) {
    return patch.filter((e) => !(isObject(e) && e.$patch === 'replace')).map(stripDirectives);
  }
  const mk = mergeKeyFor(path, field);
  const base: Json[] = Array.isArray(original) ? structuredClone(original) : [];
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    for (const v of patch) if (!base.includes(v)) base.push(v);
    return base;
  }
  if (!mk || !patch.every(isObject)) return patch.map(stripDirectives);
  for (const elem of patch) {
    const idx = base.findIndex((b) => isObject(b) && b[mk] === elem[mk]);
    if (elem.$patch === 'delete') {
      if (idx >= 0) base.splice(idx, 1);
      continue;
    }
    if (idx >= 0) base[idx] = strategicMerge(base[idx], elem, path);
    else base.push(stripDirectives(elem));
  }
  return base;
}

/** Removes `$patch` and friends from a value that is stored as given. */
function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

/** RFC 7386 JSON merge patch. */
export function jsonMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k], v);
  }
  return out;
}

import { isDeepStrictEqual } from 'node:util';
import { StatusError } from './status.ts';
import { mergeKeyFor, MERGED_PRIMITIVE_LISTS } from './strategic-merge.ts';

/**
 * Field ownership as the API server keeps it in `metadata.managedFields` (FieldsV1): every write records which
 * manager set which fields and when. An Update gives its manager the fields it changed and takes them from the
 * others; an Apply (server-side apply) owns exactly the fields of the applied configuration, conflicts with other
 * managers over fields whose values it would change (409 with the real message, unless `force=true`), and removes
 * fields it stops applying that nobody else owns.
 *
 * Without schemas, structure comes from the values: objects whose values are all strings under a map-like name
 * (labels, annotations, data, selectors, resource lists) are granular maps (`.` marks the map itself), lists merge by
 * the strategic merge keys (`k:{"name":"x"}`), `finalizers` is a set (`v:"x"`), other lists are atomic.
 */
type Fields = { [key: string]: Fields };
type Json = any;

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Fields;
  subresource?: string;
}

const MAP_FIELDS = new Set([
  'labels',
  'annotations',
  'data',
  'binaryData',
  'stringData',
  'selector',
  'matchLabels',
  'nodeSelector',
  'capacity',
  'allocatable',
  'limits',
  'requests',
]);
/** Metadata the server owns: never part of a field set. */
const SERVER_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generateName',
]);

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isMap(field: string, v: Record<string, Json>): boolean {
  return MAP_FIELDS.has(field) && Object.values(v).every((x) => typeof x === 'string');
}

function itemKey(mergeKey: string, item: Json): string {
  return `k:${JSON.stringify({ [mergeKey]: item[mergeKey] })}`;
}

function setOf(value: Json, path: string[]): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries<Json>(value)) {
    if (v === null || v === undefined) continue;
    out[`f:${k}`] = childSet(v, path, k);
  }
  return out;
}

function childSet(v: Json, path: string[], field: string): Fields {
  if (isObject(v)) {
    const sub = setOf(v, [...path, field]);
    return isMap(field, v) ? { '.': {}, ...sub } : sub;
  }
  if (Array.isArray(v)) {
    const mergeKey = mergeKeyFor(path, field);
    if (mergeKey && v.every((i) => isObject(i) && i[mergeKey] !== undefined)) {
      return Object.fromEntries(v.map((i) => [itemKey(mergeKey, i), { '.': {}, ...setOf(i, [...path, field]) }]));
    }
    if (MERGED_PRIMITIVE_LISTS.has(field)) return Object.fromEntries(v.map((i) => [`v:${JSON.stringify(i)}`, {}]));
  }
  return {};
}

/** The field set of an object's user-settable content (no server metadata; no status unless it is the status). */
export function fieldSetOf(obj: Json, opts: { withStatus: boolean }): Fields {
  const content: Record<string, Json> = {};
  for (const [k, v] of Object.entries<Json>(obj ?? {})) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'status' && !opts.withStatus) continue;
    if (k === 'metadata') {
      const meta = Object.fromEntries(Object.entries<Json>(v ?? {}).filter(([mk]) => !SERVER_METADATA.has(mk)));
      if (Object.keys(meta).length) content.metadata = meta;
      continue;
    }
    content[k] = v;
  }
  return setOf(content, []);
}

function leaves(fs: Fields, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, sub] of Object.entries(fs)) {
    const p = [...prefix, k];
    if (Object.keys(sub).length === 0) out.push(p);
    else out.push(...leaves(sub, p));
  }
  return out;
}

function has(fs: Fields, path: string[]): boolean {
  let cur: Fields | undefined = fs;
  for (const k of path) {
    cur = cur?.[k];
    if (!cur) return false;
  }
  return true;
}

function add(fs: Fields, path: string[]): void {
  let cur = fs;
  for (const k of path) cur = cur[k] ??= {};
}

function remove(fs: Fields, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !fs[head]) return;
  if (rest.length === 0) delete fs[head];
  else {
    remove(fs[head], rest);
    if (Object.keys(fs[head]).length === 0) delete fs[head];
  }
}

/** The value a field path points at (`.` is the node itself), or undefined. */
function valueAt(obj: Json, path: string[]): Json {
  let cur = obj;
  for (const k of path) {
    if (k === '.') return cur;
    if (k.startsWith('f:')) cur = isObject(cur) ? cur[k.slice(2)] : undefined;
    else if (k.startsWith('k:')) {
      const key = JSON.parse(k.slice(2)) as Record<string, Json>;
      cur = Array.isArray(cur)
        ? cur.find((i) => isObject(i) && Object.entries(key).every(([kk, vv]) => isDeepStrictEqual(i[kk], vv)))
        : undefined;
    } else if (k.startsWith('v:')) {
      const v = JSON.parse(k.slice(2));
      cur = Array.isArray(cur) && cur.some((i) => isDeepStrictEqual(i, v)) ? v : undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Deletes what a field path points at from an object (a key, a keyed list item, a set member). */
function deleteAt(obj: Json, path: string[]): void {
  const parentPath = path.at(-1) === '.' ? path.slice(0, -2) : path.slice(0, -1);
  const last = path.at(-1) === '.' ? path.at(-2)! : path.at(-1)!;
  const parent = parentPath.length ? valueAt(obj, parentPath) : obj;
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  else if ((last.startsWith('k:') || last.startsWith('v:')) && Array.isArray(parent)) {
    const target = valueAt(parent, [last]);
    const i = parent.indexOf(target);
    if (i >= 0) parent.splice(i, 1);
  }
}

/** `.spec.template.spec.containers[name="web"].image`: a field path as the server prints it in conflicts. */
function pathString(path: string[]): string {
  return path
    .filter((k) => k !== '.')
    .map((k) => {
      if (k.startsWith('f:')) return `.${k.slice(2)}`;
      if (k.startsWith('k:')) {
        const key = JSON.parse(k.slice(2)) as Record<string, Json>;
        return `[${Object.entries(key)
          .map(([kk, vv]) => `${kk}=${JSON.stringify(vv)}`)
          .join(',')}]`;
      }
      return `[=${k.slice(2)}]`;
    })
    .join('');
}

function printManager(e: ManagedFieldsEntry): string {
  const name = JSON.stringify(e.manager) + (e.subresource ? ` with subresource ${JSON.stringify(e.subresource)}` : '');
  return e.operation === 'Update' ? `${name} using ${e.apiVersion} at ${e.time}` : name;
}

function conflictError(conflicts: { entry: ManagedFieldsEntry; path: string[] }[]): StatusError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.entry)}`,
    field: pathString(c.path),
  }));
  let message: string;
  if (conflicts.length === 1)
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.entry)}: ${pathString(conflicts[0]!.path)}`;
  else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(printManager(c.entry), [...(byManager.get(printManager(c.entry)) ?? []), pathString(c.path)]);
    const lines = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...byManager.get(m)!.map((p) => `- ${p}`)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}

const nowRfc3339 = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const sameManager = (e: ManagedFieldsEntry, manager: string, operation: string, subresource: string | undefined) =>
  e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');

/** The entries after an Update by `manager` moved the object from `old` (undefined on create) to `next`. */
export function recordUpdate(
  entries: ManagedFieldsEntry[],
  old: Json | undefined,
  next: Json,
  manager: string,
  apiVersion: string,
  subresource: string | undefined,
): ManagedFieldsEntry[] {
  const withStatus = subresource === 'status';
  const before = old ? fieldSetOf(old, { withStatus }) : {};
  const after = fieldSetOf(next, { withStatus });
  // `.` is the map or list item itself: it changes when it appears, not when its contents do.
  const changed = leaves(after).filter(
    (p) => !has(before, p) || (p.at(-1) !== '.' && !isDeepStrictEqual(valueAt(old, p), valueAt(next, p))),
  );
  const removed = leaves(before).filter((p) => !has(after, p));
  if (old && changed.length === 0 && removed.length === 0) return entries;
  const out = entries.map((e) => structuredClone(e));
  for (const e of out) for (const p of [...changed, ...removed]) remove(e.fieldsV1, p);
  let mine = out.find((e) => sameManager(e, manager, 'Update', subresource));
  if (!mine) {
    mine = {
      manager,
      operation: 'Update',
      apiVersion,
      time: '',
      fieldsType: 'FieldsV1',
      fieldsV1: {},
      ...(subresource ? { subresource } : {}),
    };
    out.push(mine);
  }
  for (const p of changed) add(mine.fieldsV1, p);
  mine.time = nowRfc3339();
  return out.filter((e) => Object.keys(e.fieldsV1).length > 0);
}

/**
 * Server-side apply of `applied` by `manager` onto `merged` (the live object with the configuration merged in):
 * checks conflicts against `live`, drops fields the manager no longer applies, and returns the new object's entries.
 */
export function recordApply(
  entries: ManagedFieldsEntry[],
  live: Json,
  applied: Json,
  merged: Json,
  manager: string,
  apiVersion: string,
  force: boolean,
  subresource: string | undefined,
): ManagedFieldsEntry[] {
  const withStatus = subresource === 'status';
  const set = fieldSetOf(applied, { withStatus });
  const out = entries.map((e) => structuredClone(e));
  const others = out.filter((e) => !sameManager(e, manager, 'Apply', subresource));
  const conflicts: { entry: ManagedFieldsEntry; path: string[] }[] = [];
  for (const p of leaves(set)) {
    if (live === undefined || isDeepStrictEqual(valueAt(applied, p), valueAt(live, p)) || p.at(-1) === '.') continue;
    for (const e of others) if (has(e.fieldsV1, p)) conflicts.push({ entry: e, path: p });
  }
  if (conflicts.length && !force) throw conflictError(conflicts);
  for (const c of conflicts) remove(c.entry.fieldsV1, c.path);
  const previous = out.find((e) => sameManager(e, manager, 'Apply', subresource));
  if (previous) {
    for (const p of leaves(previous.fieldsV1)) {
      if (!has(set, p) && !others.some((e) => has(e.fieldsV1, p))) deleteAt(merged, p);
    }
  }
  // Like the API server (since 1.21), an apply that changes nothing keeps its entry's time, so a repeated identical
  // apply stays a no-op: no new resourceVersion, no watch event (a fresh time would make it a write whenever the
  // second ticked over between the two applies).
  const noOp =
    previous !== undefined &&
    previous.apiVersion === apiVersion &&
    isDeepStrictEqual(previous.fieldsV1, set) &&
    isDeepStrictEqual(withoutBookkeeping(live), withoutBookkeeping(merged));
  const mine: ManagedFieldsEntry = {
    manager,
    operation: 'Apply',
    apiVersion,
    time: noOp ? previous.time : nowRfc3339(),
    fieldsType: 'FieldsV1',
    fieldsV1: set,
    ...(subresource ? { subresource } : {}),
  };
  return [...others, mine].filter((e) => Object.keys(e.fieldsV1).length > 0);
}

/** The object without what the server itself keeps (field ownership, resourceVersion), to tell a no-op write. */
function withoutBookkeeping(obj: Json): Json {
  if (obj === undefined || obj === null || typeof obj !== 'object') return obj;
  const {
    managedFields: _mf,
    resourceVersion: _rv,
    ...metadata
  } = ((obj as { metadata?: Record<string, unknown> }).metadata ?? {}) as Record<string, unknown>;
  return { ...(obj as Record<string, unknown>), metadata };
}

/** The manager name the server records for a write: `fieldManager`, else the User-Agent up to its first `/`. */
export function managerFor(fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  return (userAgent ?? 'unknown').split('/')[0]!.slice(0, 128) || 'unknown';
}

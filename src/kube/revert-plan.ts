import { createHash } from 'node:crypto';
import type { RecordedChange, TargetRef } from '../engine/step-definition.ts';
import { describeTarget, targetKey } from '../domain/target-ref.ts';
import type { Cluster, KubeObject, Workload } from '../ports/cluster.ts';
import { RUN_ANNOTATION } from './stamp.ts';
import { semanticEqual } from './semantic-equal.ts';
import { parseQuantity } from './quantity.ts';
import { isObjectKind } from './kinds.ts';

/**
 * Reverting a finished run: what it changed (its recorded changes), what each of those fields holds now, and
 * whether someone else changed the object since. Pure apart from `observeTargets`, which reads each object once.
 *
 * A change is broken into fields (`env/<container>/<NAME>`, `resources/<container>/limits/cpu`, `data/<KEY>`,
 * `selector`, `replicas`). For every field, what the run left is the `after` of the newest change that touched it,
 * and what to restore is the `before` of the oldest. A field that holds what the run left is reverted; one that
 * already holds the old value is left alone (reverting twice, or after a crash mid-revert, writes nothing); any other
 * value means someone changed it since, and the whole revert is refused naming the object.
 *
 * Besides the values: an object stamped since by another remediator run (`remediator.io/run`), or whose
 * managedFields show a writer other than remediator of those fields after the run changed them, was changed since too.
 */

/** The actions whose recorded changes a revert puts back (those kube.restore knows). */
export const REVERTABLE_ACTIONS: ReadonlySet<string> = new Set([
  'kube.setEnv',
  'kube.setResources',
  'kube.patchConfigMap',
  'kube.switchServiceSelector',
  'kube.scale',
]);

/** A recorded change as a revert carries it: with the step that made it and when that step ended. */
export interface RevertChange extends RecordedChange {
  step?: string;
  /** When the step that made it ended (ISO); writers of the object after this moment changed it since. */
  at?: string;
}

export interface FieldPlan {
  field: string;
  /** What the field holds now (null: absent). */
  now: unknown;
  /** What the revert writes back (null: removes it). */
  to: unknown;
}

export interface TargetPlan {
  target: TargetRef;
  /** Fields to put back. */
  revert: FieldPlan[];
  /** Fields that already hold the value from before the run. */
  alreadyReverted: string[];
}

export interface RevertConflict {
  target: TargetRef;
  /** One line per reason: `env/api/LOG_LEVEL is "warn", the run left "debug"`. */
  why: string[];
}

export interface RevertPlan {
  /** The run being reverted. */
  of: string;
  targets: TargetPlan[];
  conflicts: RevertConflict[];
  /** Whether any field still needs a write. */
  pending: boolean;
}

/** What `observeTargets` saw of one object. */
export type Observed = { kind: 'found'; object: KubeObject } | { kind: 'absent' };

/** The value at `path` in recorded JSON, or undefined where a step of it is missing or not an object. */
function pick(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** The fields of one recorded change, with their values before and after it. */
export function changeFields(change: RecordedChange): Array<{ field: string; before: unknown; after: unknown }> {
  const out: Array<{ field: string; before: unknown; after: unknown }> = [];
  const before: unknown = change.before ?? {};
  const after = (change.after ?? {}) as Record<string, unknown>;
  switch (change.action) {
    case 'kube.setEnv':
      for (const [container, vars] of Object.entries(after as Record<string, Record<string, unknown>>)) {
        for (const [name, value] of Object.entries(vars ?? {}))
          out.push({ field: `env/${container}/${name}`, before: pick(before, container, name) ?? null, after: value ?? null });
      }
      break;
    case 'kube.setResources':
      for (const [container, sections] of Object.entries(after as Record<string, Record<string, Record<string, unknown>>>)) {
        for (const section of ['limits', 'requests']) {
          for (const [name, value] of Object.entries(sections?.[section] ?? {}))
            out.push({
              field: `resources/${container}/${section}/${name}`,
              before: pick(before, container, section, name) ?? null,
              after: value ?? null,
            });
        }
      }
      break;
    case 'kube.patchConfigMap':
      for (const [key, value] of Object.entries((after.data ?? {}) as Record<string, unknown>))
        out.push({ field: `data/${key}`, before: pick(before, 'data', key) ?? null, after: value ?? null });
      break;
    case 'kube.switchServiceSelector':
      out.push({ field: 'selector', before: pick(before, 'selector') ?? null, after: after.selector ?? null });
      break;
    case 'kube.scale':
      out.push({ field: 'replicas', before: pick(before, 'replicas') ?? null, after: after.replicas ?? null });
      break;
  }
  return out;
}

/** What a field holds in the object now (null: absent). */
export function currentValue(object: KubeObject, field: string): unknown {
  const parts = field.split('/');
  const spec = (object as { spec?: Record<string, unknown> }).spec ?? {};
  switch (parts[0]) {
    case 'env': {
      const c = containerOf(object as Workload, parts[1]!);
      const entry = c?.env?.find((e) => e.name === parts[2]);
      return entry === undefined
        ? null
        : {
            name: entry.name,
            ...(entry.value !== undefined ? { value: entry.value } : {}),
            ...(entry.valueFrom !== undefined ? { valueFrom: entry.valueFrom } : {}),
          };
    }
    case 'resources': {
      const c = containerOf(object as Workload, parts[1]!);
      return c?.resources?.[parts[2] as 'limits' | 'requests']?.[parts[3]!] ?? null;
    }
    case 'data':
      return (object as { data?: Record<string, string> }).data?.[parts.slice(1).join('/')] ?? null;
    case 'selector':
      return spec.selector ?? null;
    case 'replicas':
      return spec.replicas ?? 1;
    default:
      return undefined;
  }
}

function containerOf(w: Workload, name: string) {
  return w.spec?.template?.spec?.containers?.find((c) => c.name === name);
}

/** Equality of field values as the API server stores them: quantities by amount (`0.5` = `500m`), the rest semantically. */
export function sameValue(field: string, a: unknown, b: unknown): boolean {
  if (field.startsWith('resources/') && typeof a === 'string' && typeof b === 'string') {
    const qa = parseQuantity(a);
    const qb = parseQuantity(b);
    if (qa !== undefined && qb !== undefined) return qa === qb;
  }
  if (a === null || b === null) return a === b || semanticEqual(a, b);
  return semanticEqual(a, b);
}

/**
 * The plan: per object, the fields to put back, oldest `before` first; the conflicts that refuse it. `revertRunId`
 * is the revert's own run (its stamps are not "someone else"); `fieldManager` is remediator's.
 */
export function planRevert(
  of: string,
  changes: readonly RevertChange[],
  observed: ReadonlyMap<string, Observed>,
  options: { fieldManager: string; revertRunId?: string },
): RevertPlan {
  type Entry = { target: TargetRef; fields: Map<string, { before: unknown; after: unknown }>; stamped: boolean; at?: string };
  const byTarget = new Map<string, Entry>();
  for (const change of changes) {
    if (!REVERTABLE_ACTIONS.has(change.action)) continue;
    const key = targetKey(change.target);
    const entry: Entry = byTarget.get(key) ?? { target: change.target, fields: new Map(), stamped: false };
    // Scale goes through the scale subresource, which carries no stamp.
    if (change.action !== 'kube.scale') entry.stamped = true;
    if (change.at !== undefined && (entry.at === undefined || change.at > entry.at)) entry.at = change.at;
    for (const f of changeFields(change)) {
      const seen = entry.fields.get(f.field);
      entry.fields.set(f.field, { before: seen ? seen.before : f.before, after: f.after });
    }
    byTarget.set(key, entry);
  }
  const targets: TargetPlan[] = [];
  const conflicts: RevertConflict[] = [];
  for (const [key, entry] of byTarget) {
    const seen = observed.get(key);
    if (seen === undefined || seen.kind === 'absent') {
      conflicts.push({ target: entry.target, why: [`${describeTarget(entry.target)} no longer exists`] });
      continue;
    }
    const why: string[] = [];
    const plan: TargetPlan = { target: entry.target, revert: [], alreadyReverted: [] };
    for (const [field, { before, after }] of entry.fields) {
      const now = currentValue(seen.object, field);
      if (sameValue(field, now, after)) plan.revert.push({ field, now, to: before });
      else if (sameValue(field, now, before)) plan.alreadyReverted.push(field);
      else why.push(`${field} is ${show(now)}; the run left ${show(after)}`);
    }
    // Writers since matter only where the revert would write: an object already back as it was is left alone.
    if (plan.revert.length > 0 || why.length > 0) {
      const stamp = seen.object.metadata.annotations?.[RUN_ANNOTATION];
      if (
        entry.stamped &&
        stamp !== undefined &&
        !stamp.startsWith(`${of}.`) &&
        !(options.revertRunId !== undefined && stamp.startsWith(`${options.revertRunId}.`))
      ) {
        why.push(`remediator run ${stamp.split('.')[0]} changed it since`);
      }
      why.push(...laterWriters(seen.object, entry.at, options.fieldManager, [...entry.fields.keys()]));
    }
    if (why.length > 0) conflicts.push({ target: entry.target, why });
    else targets.push(plan);
  }
  return { of, targets, conflicts, pending: targets.some((t) => t.revert.length > 0) };
}

/**
 * Writers other than remediator that changed the fields a revert would write after `at`, from the object's
 * managedFields (an API server keeps one entry per manager, operation and subresource, with the time of its last
 * change and the fields it owns). Only entries that own one of `fields` count: controllers write other parts of the
 * objects (the deployment controller sets the revision annotation after every rollout) and status, which a revert
 * does not touch. A later writer of the same field is a conflict even when it set the value the run left (the value
 * comparison cannot see that). Times have second precision, so a write in the same second as the run's is not later.
 */
export function laterWriters(object: KubeObject, at: string | undefined, fieldManager: string, fields?: readonly string[]): string[] {
  if (at === undefined) return [];
  const since = Math.floor(Date.parse(at) / 1000) * 1000;
  const entries = (object.metadata.managedFields ?? []) as Array<{
    manager?: string;
    operation?: string;
    subresource?: string;
    time?: string;
    fieldsV1?: unknown;
  }>;
  const out: string[] = [];
  for (const e of entries) {
    if (e.manager === fieldManager || e.subresource === 'status' || e.time === undefined) continue;
    if (!(Date.parse(e.time) > since)) continue;
    const owned =
      fields === undefined || e.fieldsV1 === undefined ? undefined : fields.filter((f) => ownsField(e.fieldsV1, f, e.subresource));
    if (owned !== undefined && owned.length === 0) continue;
    out.push(
      `${e.manager ?? 'an unnamed manager'} changed ${owned ? owned.join(', ') : 'it'} at ${e.time} (${e.operation ?? 'Update'}${e.subresource ? ` of ${e.subresource}` : ''})`,
    );
  }
  return out;
}

/** Whether a managedFields entry (fieldsV1, the API server's field set) owns a revert field or anything inside it. */
export function ownsField(fieldsV1: unknown, field: string, subresource?: string): boolean {
  const parts = field.split('/');
  const key = (name: string) => `k:${JSON.stringify({ name })}`;
  let path: string[];
  switch (parts[0]) {
    case 'env':
      path = ['f:spec', 'f:template', 'f:spec', 'f:containers', key(parts[1]!), 'f:env', key(parts[2]!)];
      break;
    case 'resources':
      path = ['f:spec', 'f:template', 'f:spec', 'f:containers', key(parts[1]!), 'f:resources', `f:${parts[2]}`, `f:${parts[3]}`];
      break;
    case 'data':
      path = ['f:data', `f:${parts.slice(1).join('/')}`];
      break;
    case 'selector':
      path = ['f:spec', 'f:selector'];
      break;
    case 'replicas':
      // The scale subresource's entries own spec.replicas of the Scale, which is the workload's.
      path = ['f:spec', 'f:replicas'];
      break;
    default:
      return true;
  }
  if (subresource !== undefined && subresource !== 'scale') return false;
  let cur: unknown = fieldsV1;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) return false;
    cur = (cur as Record<string, unknown>)[p];
  }
  return true;
}

/** Reads each object the changes name, once. A missing object is `absent`; other errors are thrown. */
export async function observeTargets(kube: Cluster, changes: readonly RevertChange[], signal: AbortSignal): Promise<Map<string, Observed>> {
  const out = new Map<string, Observed>();
  for (const change of changes) {
    const key = targetKey(change.target);
    if (out.has(key) || !REVERTABLE_ACTIONS.has(change.action)) continue;
    const { kind, namespace, name } = change.target;
    if (!isObjectKind(kind)) continue;
    try {
      out.set(key, { kind: 'found', object: await kube.get({ kind, namespace, name }, { signal }) });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'REM_ERR_KUBE_NOT_FOUND') out.set(key, { kind: 'absent' });
      else throw err;
    }
  }
  return out;
}

/** One line per refused object, for the error message and the decision. */
export function describeConflicts(conflicts: readonly RevertConflict[]): string {
  return conflicts.map((c) => `${describeTarget(c.target)}: ${c.why.join('; ')}`).join(' | ');
}

/** sha256 of what the revert will write: a revert asked for with `planHash` runs only if it is still this plan. */
export function revertPlanHash(plan: RevertPlan): string {
  const body = plan.targets.map((t) => ({ target: targetKey(t.target), revert: t.revert.map((f) => [f.field, f.to]) }));
  return createHash('sha256')
    .update(JSON.stringify({ of: plan.of, body }))
    .digest('hex');
}

function show(v: unknown): string {
  return v === null ? 'absent' : JSON.stringify(v);
}

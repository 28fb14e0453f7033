import jsonpatch from 'fast-json-patch';
import type { FieldChange, ObjectDiff, PlanDiff } from '../engine/run-state.ts';
import type { Clock } from '../ports/clock.ts';
import type { StepServices } from '../ports/step-services.ts';
import { DryRunRecorder, type RecordedWrite } from '../kube/dry-run-recorder.ts';

export interface PlanDiffOptions {
  clock: Clock;
  /** Fields listed per object; the rest are counted in `more`. Default 40. */
  maxFields?: number;
  /** Characters kept of one value shown (longer ones are cut with `…`). Default 200. */
  maxValueChars?: number;
}

/**
 * What the API server fills in or bumps on every write, which says nothing about what the plan changes. A dry-run
 * answer differs from the live object there (managedFields, a new resourceVersion or generation in some servers).
 */
const NOISE = [/^metadata\.(managedFields|resourceVersion|generation|creationTimestamp|uid|selfLink)(\.|\[|$)/, /^status(\.|\[|$)/];
/** The annotation kubectl apply leaves holds the whole object as JSON: a Secret's values too. */
const SECRET_PATHS = [/^(data|stringData)(\.|\[|$)/, /^metadata\.annotations\["kubectl\.kubernetes\.io\/last-applied-configuration"\]$/];

/**
 * The previewer of ExecutorDeps.previewMutation: runs the step's dry run against a cluster that writes nothing
 * (DryRunRecorder: every write goes with `dryRun=All`), and diffs each object it would write, as the API server
 * answered, against the live object it read. Only Kubernetes is handed to the dry run; the other services are not.
 */
export function planDiffPreviewer(options: PlanDiffOptions) {
  return async (dryRun: (services: StepServices) => Promise<unknown>, services: StepServices): Promise<PlanDiff> => {
    const at = new Date(options.clock.now()).toISOString();
    if (!services.kube) return { at, objects: [], error: 'no Kubernetes client in this process to read the objects' };
    const recorder = new DryRunRecorder(services.kube);
    await dryRun({ kube: recorder, limits: services.limits });
    return { at, objects: recorder.writes.map((w) => objectDiff(w, options)) };
  };
}

/** The leaf fields that differ between what a write started from and what it would leave. */
export function objectDiff(w: RecordedWrite, options: Pick<PlanDiffOptions, 'maxFields' | 'maxValueChars'> = {}): ObjectDiff {
  const object = `${w.namespace ? `${w.namespace}/` : ''}${w.kind}/${w.name}${w.subresource ? ` (${w.subresource})` : ''}`;
  const secret = w.kind === 'Secret';
  const change: ObjectDiff['change'] = w.after === undefined ? 'deleted' : w.before === undefined ? 'created' : 'modified';
  if (change === 'deleted') return { object, change, fields: [] };
  const before = (w.before ?? {}) as object;
  const after = (w.after ?? {}) as object;
  const fields: FieldChange[] = [];
  for (const op of jsonpatch.compare(before, after)) {
    const pointer = op.path;
    const was = op.op === 'add' ? undefined : jsonpatch.getValueByPointer(before, pointer);
    const now = op.op === 'remove' ? undefined : (op as { value: unknown }).value;
    leaves(pathOf(pointer), was, now, fields);
  }
  const kept = fields.filter((f) => !NOISE.some((n) => n.test(f.path))).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const shown = kept
    .slice(0, options.maxFields ?? 40)
    .map((f) => (secret && SECRET_PATHS.some((p) => p.test(f.path)) ? hide(f) : cut(f, options.maxValueChars ?? 200)));
  return {
    object,
    change: change === 'modified' && kept.length === 0 ? 'unchanged' : change,
    fields: shown,
    ...(kept.length > shown.length ? { more: kept.length - shown.length } : {}),
  };
}

/** Splits a change of whole objects into changes of their leaves, so each line names one field. */
function leaves(path: string, before: unknown, after: unknown, out: FieldChange[]): void {
  if (isPlain(before) || isPlain(after)) {
    const b = isPlain(before) ? before : {};
    const a = isPlain(after) ? after : {};
    // A scalar replaced by an object (or the reverse) is one line: the two sides do not share fields.
    if ((before !== undefined && !isPlain(before)) || (after !== undefined && !isPlain(after))) {
      out.push(side(path, before, after));
      return;
    }
    for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (JSON.stringify(b[k]) === JSON.stringify(a[k])) continue;
      leaves(`${path}${segment(k)}`, b[k], a[k], out);
    }
    return;
  }
  out.push(side(path, before, after));
}

function side(path: string, before: unknown, after: unknown): FieldChange {
  return { path, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) };
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt` → `spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]`. */
function pathOf(pointer: string): string {
  const parts = pointer.split('/').slice(1).map(jsonpatch.unescapePathComponent);
  return parts.map((p, i) => (i === 0 && /^[A-Za-z_$][\w$]*$/.test(p) ? p : segment(p))).join('');
}

function segment(k: string): string {
  if (/^\d+$/.test(k)) return `[${k}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(k)) return `.${k}`;
  return `[${JSON.stringify(k)}]`;
}

function hide(f: FieldChange): FieldChange {
  return { path: f.path, hidden: true, ...('before' in f ? { before: '(hidden)' } : {}), ...('after' in f ? { after: '(hidden)' } : {}) };
}

function cut(f: FieldChange, max: number): FieldChange {
  const trim = (v: unknown) => {
    if (typeof v === 'string') return v.length > max ? `${v.slice(0, max)}…` : v;
    if (typeof v === 'object' && v !== null) {
      const s = JSON.stringify(v);
      return s.length > max ? `${s.slice(0, max)}…` : v;
    }
    return v;
  };
  return { path: f.path, ...('before' in f ? { before: trim(f.before) } : {}), ...('after' in f ? { after: trim(f.after) } : {}) };
}

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import type { YamlSource, SourceProblem } from './yaml-source.ts';
import { labelSelectorProblem } from '../domain/label-selector-syntax.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** DNS-1123 names, as the Kubernetes API server validates them. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * One Ajv setup for config, playbooks and step parameters: all errors, defaults applied, the formats the
 * Kubernetes names need. `coerce` validators turn label strings such as "3" into the integer a schema asks for
 * (rendered templates are strings).
 */
export function createAjv(options: { coerce?: boolean; verbose?: boolean } = {}): Ajv {
  // verbose (playbooks and step parameters only, never request bodies, whose values must not travel in errors): errors
  // carry the value and the schema they are about, so a message can name the problem (a selector's bad requirement,
  // the alternatives of a oneOf) rather than the keyword.
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    strict: false,
    coerceTypes: options.coerce ?? false,
    allowUnionTypes: true,
    verbose: options.verbose ?? false,
  });
  addFormats(ajv);
  ajv.addFormat('dns1123-label', { type: 'string', validate: (s: string) => s.length <= 63 && DNS1123_LABEL.test(s) });
  ajv.addFormat('dns1123-subdomain', { type: 'string', validate: (s: string) => s.length <= 253 && DNS1123_SUBDOMAIN.test(s) });
  ajv.addFormat('label-selector', { type: 'string', validate: (s: string) => labelSelectorProblem(s) === undefined });
  return ajv;
}

/** One readable line per Ajv error: `spec.steps[2].with.replicas: must be integer`. */
export function describeErrors(errors: ErrorObject[] | null | undefined, root = ''): string[] {
  return simplify(errors ?? []).map((e) => `${jsonPath(root, e.instancePath)}: ${message(e)}`);
}

/** Ajv errors below `basePointer`, each with the pointer (and, for unknown keys, the key) it is about. */
export function pointedErrors(
  errors: ErrorObject[] | null | undefined,
  basePointer = '',
): Array<{ pointer: string; key?: string; message: string }> {
  return simplify(errors ?? []).map((e) => {
    const pointer = basePointer + e.instancePath;
    const key = e.keyword === 'additionalProperties' ? String(e.params.additionalProperty) : undefined;
    return { pointer, key, message: `${jsonPath('', pointer)}: ${message(e)}` };
  });
}

/** Ajv errors as problems with file:line:column from the YAML source. */
export function sourceProblems(source: YamlSource, errors: ErrorObject[] | null | undefined, basePointer = ''): SourceProblem[] {
  return pointedErrors(errors, basePointer).map((p) => ({
    ...(p.key ? source.locateKey(p.pointer, p.key) : source.locate(p.pointer)),
    message: p.message,
  }));
}

export function compile(ajv: Ajv, schema: TSchema): ValidateFunction {
  return ajv.compile(schema);
}

/**
 * anyOf/oneOf produce one error per branch, which drowns the real one. Keep, per location, the errors of the branch
 * that got furthest (deepest instancePath), and drop the generic "must match a schema in anyOf".
 */
function simplify(all: ErrorObject[]): ErrorObject[] {
  const errors = dropExclusiveRequired(closestBranch(all));
  const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if');
  const list = specific.length > 0 ? specific : errors;
  const seen = new Set<string>();
  const out: ErrorObject[] = [];
  for (const e of list) {
    const key = `${e.instancePath}|${message(e)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  // When a union failed, the type errors of the other branches are noise if a more specific error exists at the
  // same place or below it (e.g. "must be <= 599" beats the template branch's "must be string").
  return out.filter(
    (e) =>
      !(
        e.keyword === 'type' &&
        out.some(
          (o) => o !== e && o.keyword !== 'type' && (o.instancePath === e.instancePath || o.instancePath.startsWith(`${e.instancePath}/`)),
        )
      ),
  );
}

/**
 * For each union (anyOf) that failed, keep only the errors of the branch that came closest (fewest errors): an
 * action step with a typo should hear about the typo, not that it lacks a `gate`.
 */
function closestBranch(errors: ErrorObject[]): ErrorObject[] {
  const branchOf = (e: ErrorObject, union: string): number | undefined => {
    if (!e.schemaPath.startsWith(`${union}/`)) return undefined;
    const m = /^\/(\d+)/.exec(e.schemaPath.slice(union.length));
    return m ? Number(m[1]) : undefined;
  };
  const unions = new Set<string>();
  for (const e of errors)
    for (const m of e.schemaPath.matchAll(/\/anyOf(?=\/\d+)/g)) unions.add(e.schemaPath.slice(0, m.index! + m[0].length));
  let kept = errors;
  for (const union of [...unions].sort((a, b) => a.length - b.length)) {
    const stats = new Map<number, { count: number; depth: number }>();
    for (const e of kept) {
      const b = branchOf(e, union);
      if (b === undefined || e.keyword === 'anyOf') continue;
      const st = stats.get(b) ?? { count: 0, depth: 0 };
      st.count += 1;
      st.depth = Math.max(st.depth, e.instancePath.split('/').length);
      stats.set(b, st);
    }
    if (stats.size < 2) continue;
    // The branch that got deepest into the value wins; on a tie, the one with fewest errors.
    const best = [...stats.entries()].sort((a, b) => b[1].depth - a[1].depth || a[1].count - b[1].count)[0]![0];
    kept = kept.filter((e) => {
      const b = branchOf(e, union);
      return b === undefined || b === best;
    });
  }
  return kept;
}

/**
 * The property names of a `oneOf` whose alternatives only require one property each (`exactly one of names,
 * selector`), or undefined for any other oneOf.
 */
function exclusiveProperties(e: ErrorObject): string[] | undefined {
  if (e.keyword !== 'oneOf' || !Array.isArray(e.schema)) return undefined;
  const names = (e.schema as Array<{ required?: unknown }>).map((alt) =>
    Array.isArray(alt?.required) && alt.required.length === 1 && Object.keys(alt).length === 1 ? String(alt.required[0]) : undefined,
  );
  return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

/** A oneOf of "exactly one of these properties" says so in one line; its alternatives' `required` errors go. */
function dropExclusiveRequired(errors: ErrorObject[]): ErrorObject[] {
  const exclusive = errors.filter((e) => exclusiveProperties(e) !== undefined).map((e) => `${e.schemaPath}/`);
  if (exclusive.length === 0) return errors;
  return errors.filter((e) => !(e.keyword === 'required' && exclusive.some((p) => e.schemaPath.startsWith(p))));
}

function message(e: ErrorObject): string {
  const exclusive = exclusiveProperties(e);
  if (exclusive) return `must set exactly one of ${exclusive.map((n) => `"${n}"`).join(', ')}`;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown property "${String(e.params.additionalProperty)}"`;
    case 'required':
      return `missing required property "${String(e.params.missingProperty)}"`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'format':
      if (e.params.format === 'label-selector' && typeof e.data === 'string')
        return `must be a label selector: ${labelSelectorProblem(e.data) ?? 'invalid'}`;
      return e.params.format === 'dns1123-subdomain' || e.params.format === 'dns1123-label'
        ? `must be a valid DNS-1123 name (lowercase letters, digits, '-' and '.'; start and end alphanumeric)`
        : `must be a valid ${String(e.params.format)}`;
    default:
      return e.message ?? e.keyword;
  }
}

function jsonPath(root: string, pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = root;
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}

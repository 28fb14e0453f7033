import Mustache from 'mustache';
import { RemediatorError } from '../domain/errors.ts';

/**
 * Templates in playbook values: `{{ alert.labels.namespace }}`, `{{ params.replicas }}`, `{{ steps.undo.revision }}`.
 * Only plain variable tags are allowed (no sections, partials or lambdas), so rendering evaluates no code. A value
 * that is a single tag keeps the referenced value's type (a number stays a number); anything else renders to a
 * string. A reference to a value that does not exist is an error, never an empty string.
 */
export const TEMPLATE_ROOTS = ['alert', 'labels', 'annotations', 'params', 'steps', 'run', 'target'] as const;

const SINGLE_TAG = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/;

export function isTemplated(value: unknown): value is string {
  return typeof value === 'string' && value.includes('{{');
}

/** The dotted paths a template string refers to. Throws REM_ERR_TEMPLATE on syntax the renderer refuses. */
export function templateRefs(template: string): string[] {
  let tokens: ReturnType<typeof Mustache.parse>;
  try {
    tokens = Mustache.parse(template);
  } catch (err) {
    throw new RemediatorError('REM_ERR_TEMPLATE', `template ${JSON.stringify(template)}: ${(err as Error).message}`);
  }
  const refs: string[] = [];
  for (const t of tokens) {
    if (t[0] === 'text') continue;
    if (t[0] !== 'name') {
      throw new RemediatorError(
        'REM_ERR_TEMPLATE',
        `template ${JSON.stringify(template)}: only {{ path.to.value }} tags are allowed (no sections, partials or unescaped tags)`,
      );
    }
    refs.push(String(t[1]));
  }
  return refs;
}

/** Every template reference inside a value (objects and arrays are walked). */
export function collectRefs(
  value: unknown,
  out: Array<{ path: string; pointer: string }> = [],
  pointer = '',
): Array<{ path: string; pointer: string }> {
  if (isTemplated(value)) for (const path of templateRefs(value)) out.push({ path, pointer });
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) collectRefs(v, out, `${pointer}/${i}`);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) collectRefs(v, out, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  return out;
}

export function lookup(view: Record<string, unknown>, path: string): { found: boolean; value: unknown } {
  let cur: unknown = view;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: cur !== undefined, value: cur };
}

/** Renders every template inside `value` against `view`. */
export function render(value: unknown, view: Record<string, unknown>): unknown {
  if (isTemplated(value)) {
    const single = SINGLE_TAG.exec(value);
    if (single) return resolve(view, single[1]!, value);
    for (const path of templateRefs(value)) resolve(view, path, value);
    const out = Mustache.render(value, view, {}, { escape: (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v)) });
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => render(v, view));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, view)]));
  return value;
}

function resolve(view: Record<string, unknown>, path: string, template: string): unknown {
  const { found, value } = lookup(view, path);
  if (!found || value === null) {
    throw new RemediatorError('REM_ERR_TEMPLATE', `${JSON.stringify(template)}: "${path}" has no value for this alert`, {
      details: { path },
    });
  }
  return value;
}

import type { StepDefinition, ActionDefinition, GateDefinition } from './step-definition.ts';

/** The actions and gates playbooks may name. Built once from the registries in src/actions and src/gates. */
export class StepRegistry {
  readonly #byName = new Map<string, StepDefinition>();

  constructor(actions: ActionDefinition[], gates: GateDefinition[]) {
    for (const def of [...actions, ...gates]) {
      if (this.#byName.has(def.name)) throw new Error(`step "${def.name}" is registered twice`);
      this.#byName.set(def.name, def);
    }
  }

  get(name: string): StepDefinition | undefined {
    return this.#byName.get(name);
  }

  list(): StepDefinition[] {
    return [...this.#byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/**
 * The load-time view of a params schema: wherever a scalar is expected, a template string is accepted too (it is
 * checked again, strictly, after rendering). Objects and arrays keep their structure so unknown keys and missing
 * required ones are still reported at load.
 */
export function allowTemplates(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object') return schema;
  const s = schema as Record<string, unknown>;
  const out: Record<string, unknown> = { ...s };
  if (s.properties && typeof s.properties === 'object') {
    out.properties = Object.fromEntries(Object.entries(s.properties as Record<string, unknown>).map(([k, v]) => [k, allowTemplates(v)]));
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    out.additionalProperties = allowTemplates(s.additionalProperties);
  if (s.patternProperties && typeof s.patternProperties === 'object') {
    out.patternProperties = Object.fromEntries(
      Object.entries(s.patternProperties as Record<string, unknown>).map(([k, v]) => [k, allowTemplates(v)]),
    );
  }
  if (s.items && typeof s.items === 'object') out.items = allowTemplates(s.items);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(s[key])) out[key] = (s[key] as unknown[]).map(allowTemplates);
  const type = s.type;
  // A schema without a type only constrains the value around it (`{ required: [...] }` in a oneOf): nothing to widen.
  if (type === undefined && !s.anyOf && !s.oneOf && !s.allOf) return out;
  const isContainer = type === 'object' || type === 'array' || s.anyOf || s.oneOf || s.allOf;
  if (!isContainer) {
    return { anyOf: [out, { type: 'string', pattern: '\\{\\{' }] };
  }
  if (type === 'array') return { anyOf: [out, { type: 'string', pattern: '^\\s*\\{\\{[^}]*\\}\\}\\s*$' }] };
  return out;
}

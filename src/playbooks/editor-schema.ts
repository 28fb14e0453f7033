import { PlaybookSchema, API_VERSION } from '../domain/playbook-schema.ts';
import type { StepRegistry } from '../engine/step-registry.ts';

/** The parts of the playbook JSON Schema that are patched here (a deep copy; the rest is carried along as it is). */
type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  allOf?: unknown[];
  enum?: string[];
  description?: string;
};

/**
 * The JSON Schema editors use (`# yaml-language-server: $schema=./playbook.schema.json`): the playbook format,
 * with `action`/`gate` restricted to registered names and each step's `with` checked against that step's params
 * (if/then per name), so completion and errors appear while typing.
 */
export function buildEditorSchema(registry: StepRegistry): Record<string, unknown> {
  const base = JSON.parse(JSON.stringify(PlaybookSchema)) as SchemaNode;
  const defs = registry.list();
  const actions = defs.filter((d) => d.kind === 'action');
  const gates = defs.filter((d) => d.kind === 'gate');
  const stepRules = (key: 'action' | 'gate', list: typeof defs) =>
    list.map((d) => ({
      if: { properties: { [key]: { const: d.name } }, required: [key] },
      then: { properties: { with: { ...JSON.parse(JSON.stringify(d.params)), description: d.summary } } },
    }));
  const patchStep = (step: SchemaNode) => {
    const [action, gate] = step.anyOf!;
    action!.properties!.action = { enum: actions.map((a) => a.name), description: 'A registered action.' };
    action!.allOf = stepRules('action', actions);
    gate!.properties!.gate = { enum: gates.map((g) => g.name), description: 'A registered verification gate.' };
    gate!.allOf = stepRules('gate', gates);
  };
  patchStep(base.properties!.spec!.properties!.steps!.items!);
  patchStep(base.properties!.spec!.properties!.rungs!.items!.properties!.steps!.items!);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://remediator.io/schemas/${API_VERSION.replace('/', '-')}.playbook.json`,
    title: 'remediator playbook',
    ...base,
  };
}

import type { GateDefinition } from '../engine/step-definition.ts';

/** Every verification gate a playbook may use. A new gate is one file and one line here. */
export const gates: GateDefinition<any>[] = [
];

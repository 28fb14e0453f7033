import { writeFile } from 'node:fs/promises';
import { buildEditorSchema } from '../playbooks/editor-schema.ts';
import { createRegistry } from '../main.ts';

/** `remediator schema`: writes the editor JSON Schema (a test checks the shipped copy is current). */
export interface SchemaOptions {
  out: string;
}

export async function schemaCommand(opts: SchemaOptions): Promise<void> {
  await writeFile(opts.out, `${JSON.stringify(buildEditorSchema(createRegistry()), null, 2)}\n`);
  console.log(`wrote ${opts.out}`);
}

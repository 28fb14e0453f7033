import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

t.test(
  'every docs/contracts.md § a comment cites is a section of that file, and nothing cites a file outside the repository',
  async (t) => {
    const doc = await readFile(join(root, 'docs/contracts.md'), 'utf8');
    const sections = new Set([...doc.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]!));
    const files = [...(await sourceFiles(join(root, 'src'))), ...(await sourceFiles(join(root, 'test')))];
    let citations = 0;
    const wrongFile: string[] = [];
    const unknownSection: string[] = [];
    const outside: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      const where = relative(root, file);
      for (const m of text.matchAll(/(\S*)contracts\.md §(\d+(?:\.\d+)?)/g)) {
        citations++;
        if (!m[1]!.endsWith('docs/')) wrongFile.push(`${where}: ${m[0]}`);
        if (!sections.has(m[2]!)) unknownSection.push(`${where}: §${m[2]}`);
      }
      if (/\.\.\/shared\/|operability\.md|real-parts\.md/.test(text)) outside.push(where);
    }
    t.same(wrongFile, [], 'every contracts citation names docs/contracts.md');
    t.same(unknownSection, [], 'every cited section exists in docs/contracts.md');
    t.same(outside, [], 'no file cites material outside the repository');
    t.ok(citations > 0, 'the code cites the contracts page');
  },
);

import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

t.test('every file and folder docs/architecture.md names exists', async (t) => {
  const doc = await readFile(join(root, 'docs/architecture.md'), 'utf8');
  // `src/x/y.ts`, `src/x/`; patterns (`*`, `<name>`) name files to come.
  const paths = [...new Set([...doc.matchAll(/`((?:src|test|playbooks)\/[^`\s]*)`/g)].map((m) => m[1]!))].filter((p) => !/[*<]/.test(p));
  const missing: string[] = [];
  for (const p of paths)
    if (
      !(await stat(join(root, p)).then(
        () => true,
        () => false,
      ))
    )
      missing.push(p);
  t.same(missing, [], 'no path in the page is stale');
  t.ok(paths.length > 30, `the page names the files an alert passes through (${paths.length})`);
});

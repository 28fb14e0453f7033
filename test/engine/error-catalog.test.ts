import t from 'tap';
import { readFile } from 'node:fs/promises';
import { ERROR_CATALOG } from '../../src/domain/errors.ts';

t.test('docs/errors.md lists exactly the catalog, with the same status and retryability', async (t) => {
  const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map(
    [...doc.matchAll(/^\| `(REM_ERR_[A-Z_]+)` \| (\d{3}) \| (yes|no) \|/gm)].map((m) => [
      m[1]!,
      { status: Number(m[2]), retryable: m[3] === 'yes' },
    ]),
  );
  for (const [code, e] of Object.entries(ERROR_CATALOG)) {
    t.same(rows.get(code), { status: e.status, retryable: e.retryable }, `${code} documented as in the code`);
  }
  t.same(
    [...rows.keys()].filter((c) => !(c in ERROR_CATALOG)),
    [],
    'no documented code is missing from the catalog',
  );
});

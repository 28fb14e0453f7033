import t from 'tap';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { findTestFiles } from '../../src/playbook-test/load-test-file.ts';
import { basename } from 'node:path';

// Every shipped playbook test file has its test process in test/playbooks/shipped/, and every one there runs a
// shipped file: a new playbooks/tests/*.test.yaml without one would never run in `npm test`.
const shipped = (await findTestFiles(fileURLToPath(new URL('../../playbooks/tests', import.meta.url)))).map((f) =>
  basename(f).replace(/\.test\.yaml$/, ''),
);
const runners = (await readdir(fileURLToPath(new URL('./shipped', import.meta.url))))
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => f.replace(/\.test\.ts$/, ''));

t.ok(shipped.length > 0, 'playbooks/tests ships test files');
t.same([...runners].sort(), [...shipped].sort(), 'one test/playbooks/shipped/<name>.test.ts per playbooks/tests/<name>.test.yaml');

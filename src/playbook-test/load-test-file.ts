import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { YamlSource, type SourcePosition, type SourceProblem } from '../schema/yaml-source.ts';
import { createAjv, sourceProblems } from '../schema/validator.ts';
import { TestFileSchema, type TestCaseDoc, type TestFileDoc } from './test-file-schema.ts';

/** One case of a test file, with where it is written and its recorded payloads already read. */
export interface LoadedCase {
  name: string;
  /** Where `- name:` is, for the report. */
  position: SourcePosition;
  doc: TestCaseDoc;
  /** `alerts[i].file` bodies by alert index. */
  payloads: Map<number, unknown>;
}

export interface LoadedTestFile {
  /** As shown in reports (relative to the working directory). */
  file: string;
  /** Absolute paths of the playbooks under test. */
  playbookFiles: string[];
  /** The folder the playbooks are in (kube.apply manifests are read from there). */
  playbookDir: string;
  cases: LoadedCase[];
  problems: SourceProblem[];
}

const validate = createAjv().compile(TestFileSchema);
/** Files beside the playbooks that are not playbooks (same rule as the playbook catalog). */
const NOT_A_PLAYBOOK = /(\.test\.ya?ml|\.schema\.json)$/;

/**
 * Reads and checks one test file. Every problem carries file:line:column; nothing is thrown. A file with problems
 * has no cases to run.
 */
export async function loadTestFile(path: string): Promise<LoadedTestFile> {
  const abs = resolve(path);
  const shown = relative(process.cwd(), abs) || abs;
  const base: LoadedTestFile = {
    file: shown,
    playbookFiles: [],
    playbookDir: dirname(dirname(abs)),
    cases: [],
    problems: [],
  };
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    return { ...base, problems: [{ file: shown, line: 1, column: 1, message: `cannot read test file: ${(err as Error).message}` }] };
  }
  const source = new YamlSource(shown, text);
  if (source.problems.length > 0) return { ...base, problems: source.problems };
  const doc = source.value as TestFileDoc;
  if (doc !== null && typeof doc === 'object' && 'timeScale' in doc)
    return {
      ...base,
      problems: [
        {
          ...source.locateKey('', 'timeScale'),
          message:
            'timeScale is no longer used: playbooks are tested with their real durations on a virtual clock, so remove it (docs/playbook-tests.md, "Time")',
        },
      ],
    };
  if (!validate(doc)) return { ...base, problems: sourceProblems(source, validate.errors) };

  const problems: SourceProblem[] = [];
  const at = (pointer: string, message: string) => problems.push({ ...source.locate(pointer), message });
  const here = dirname(abs);

  let playbookFiles: string[];
  if (doc.playbooks) {
    playbookFiles = doc.playbooks.map((p) => resolve(here, p));
  } else {
    playbookFiles = await playbooksIn(base.playbookDir).catch((err: Error) => {
      at('', `cannot list playbooks in ${base.playbookDir}: ${err.message}`);
      return [];
    });
    if (playbookFiles.length === 0 && problems.length === 0)
      at('', `no playbooks in ${relative(process.cwd(), base.playbookDir) || '.'}; name them with "playbooks:"`);
  }
  for (const [i, f] of playbookFiles.entries()) {
    const exists = await readFile(f, 'utf8').then(
      () => true,
      () => false,
    );
    if (!exists) at(`/playbooks/${i}`, `playbook file ${relative(process.cwd(), f)} does not exist`);
  }

  const names = new Map<string, number>();
  const cases: LoadedCase[] = [];
  for (const [ci, c] of doc.tests.entries()) {
    const ptr = `/tests/${ci}`;
    if (names.has(c.name)) at(`${ptr}/name`, `test name "${c.name}" is used twice (first in test ${names.get(c.name)! + 1})`);
    names.set(c.name, ci);
    const payloads = new Map<number, unknown>();
    for (const [ai, a] of c.alerts.entries()) {
      const aptr = `${ptr}/alerts/${ai}`;
      if (a.file !== undefined) {
        const others = Object.keys(a).filter((k) => k !== 'file' && k !== 'wait');
        if (others.length > 0)
          at(
            `${aptr}/${others[0]}`,
            `an alert with "file" takes its content from the file; remove ${others.map((k) => `"${k}"`).join(', ')}`,
          );
        const payload = await readJson(resolve(here, a.file)).catch((err: Error) => at(`${aptr}/file`, err.message));
        if (payload !== undefined) payloads.set(ai, payload);
      } else if (a.labels === undefined) {
        at(aptr, 'an alert needs "labels" (or "file": a recorded webhook body)');
      }
      for (const key of ['startsAt', 'endsAt'] as const) {
        const v = a[key];
        if (v !== undefined && Number.isNaN(Date.parse(v)))
          at(`${aptr}/${key}`, `${key} must be an RFC 3339 time, e.g. 2026-11-25T11:58:06Z`);
      }
    }
    cases.push({ name: c.name, position: source.locate(`${ptr}/name`), doc: c, payloads });
  }
  return { ...base, playbookFiles, cases: problems.length > 0 ? [] : cases, problems };
}

/** Every `*.test.yaml` under a folder (sorted), or the file itself. */
export async function findTestFiles(path: string): Promise<string[]> {
  const entries = await readdir(path, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOTDIR') return null;
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (entries === null) return [path];
  return entries
    .map(String)
    .filter((f) => /\.test\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

/** The playbook files of a folder, as the catalog would pick them (not tests/, not *.test.yaml). */
async function playbooksIn(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { recursive: true })).map(String);
  const out: string[] = [];
  for (const f of entries.filter((e) => /\.ya?ml$/.test(e) && !NOT_A_PLAYBOOK.test(e) && !e.split(/[\\/]/).includes('tests')).sort()) {
    const text = await readFile(join(dir, f), 'utf8');
    if (/^\s*kind:\s*Playbook\b/m.test(text)) out.push(join(dir, f));
  }
  return out;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${relative(process.cwd(), file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${relative(process.cwd(), file)} is not JSON: ${(err as Error).message}`);
  }
}

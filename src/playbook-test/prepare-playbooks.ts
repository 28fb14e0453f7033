import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createRegistry } from '../main.ts';
import { loadPlaybookFiles } from '../playbooks/playbook-catalog.ts';
import type { SourceProblem } from '../schema/yaml-source.ts';
import { EVERY_SERVICE } from '../ports/step-services.ts';
import type { LoadedTestFile } from './load-test-file.ts';

export interface PreparedPlaybooks {
  /** A temporary folder with the playbooks under test (only those, whatever else their folder holds). */
  dir: string;
  /** Escalation target names the playbooks name (onExhausted.targets, escalate steps). */
  targetNames: string[];
  problems: SourceProblem[];
  cleanup(): Promise<void>;
}

/**
 * Checks the playbooks under test as written (so problems point at their own lines; every service counts as
 * configured, since the test run configures them all), then copies them as they are into a temporary folder the
 * engine loads.
 */
export async function preparePlaybooks(loaded: LoadedTestFile): Promise<PreparedPlaybooks> {
  const registry = createRegistry();
  const set = await loadPlaybookFiles(loaded.playbookFiles, { registry, available: EVERY_SERVICE });
  const none = async () => undefined;
  if (set.problems.length > 0) return { dir: '', targetNames: [], problems: set.problems, cleanup: none };
  if (set.playbooks.length === 0) {
    return {
      dir: '',
      targetNames: [],
      problems: [
        {
          file: loaded.file,
          line: 1,
          column: 1,
          message: 'none of the files under test is a playbook (apiVersion remediator.io/v1, kind Playbook)',
        },
      ],
      cleanup: none,
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'remediator-test-playbooks-'));
  const used = new Set<string>();
  for (const p of set.playbooks) {
    let name = basename(p.file);
    while (used.has(name)) name = `_${name}`;
    used.add(name);
    await writeFile(join(dir, name), await readFile(resolve(p.file), 'utf8'));
  }
  const targetNames = new Set<string>();
  for (const p of set.playbooks) {
    for (const t of p.onExhausted.targets ?? []) targetNames.add(t);
    for (const s of p.rungs.flatMap((r) => r.steps)) {
      const targets = (s.with as { targets?: unknown }).targets;
      if (s.uses === 'escalate' && Array.isArray(targets))
        for (const t of targets) if (typeof t === 'string' && !t.includes('{{')) targetNames.add(t);
    }
  }
  return { dir, targetNames: [...targetNames], problems: [], cleanup: () => rm(dir, { recursive: true, force: true }) };
}

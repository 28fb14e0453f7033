import { readdir, readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { loadPlaybook, type LoadContext } from './load-playbook.ts';
import { matchesAll } from '../domain/matcher.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { AlertView } from '../engine/step-definition.ts';
import { formatProblem, type SourceProblem } from '../schema/yaml-source.ts';

/** Files in the playbooks folder that are not playbooks: playbook tests (and anything under tests/) and the editor schema. */
const IGNORED = /(\.test\.ya?ml|\.schema\.json)$|(^|[\\/])tests[\\/]/;

export interface LoadedSet {
  playbooks: Playbook[];
  problems: SourceProblem[];
}

/** Loads every playbook of a folder. Any problem anywhere means the set is not usable; all problems are listed. */
export async function loadPlaybookDir(dir: string, ctx: LoadContext): Promise<LoadedSet> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { recursive: true })).map(String);
  } catch (err) {
    return { playbooks: [], problems: [{ file: dir, line: 1, column: 1, message: `cannot read playbooks folder: ${(err as Error).message}` }] };
  }
  const files = entries.filter((f) => /\.ya?ml$/.test(f) && !IGNORED.test(f)).sort();
  return loadPlaybookFiles(files.map((f) => join(dir, f)), ctx);
}

export async function loadPlaybookFiles(files: string[], ctx: LoadContext): Promise<LoadedSet> {
  const playbooks: Playbook[] = [];
  const problems: SourceProblem[] = [];
  for (const file of files) {
    const shown = relative(process.cwd(), file) || file;
    const text = await readFile(file, 'utf8');
    if (!/^\s*apiVersion:/m.test(text)) continue; // a manifest or data file beside the playbooks, not a playbook
    if (/^\s*kind:\s*(?!Playbook\b)\w+/m.test(text) && !/^\s*kind:\s*Playbook\b/m.test(text)) continue;
    const result = loadPlaybook(shown, text, ctx);
    problems.push(...result.problems);
    if (result.playbook) {
      const dup = playbooks.find((p) => p.name === result.playbook!.name);
      if (dup) problems.push({ file: shown, line: 1, column: 1, message: `playbook name "${dup.name}" is already used by ${dup.file}` });
      else playbooks.push(result.playbook);
    }
  }
  return { playbooks, problems };
}

/**
 * The playbooks in force. A reload that finds any problem keeps the last good set running and reports the
 * problems; `generation` counts successful loads.
 */
export class PlaybookCatalog {
  #playbooks: Playbook[] = [];
  #generation = 0;
  #lastProblems: SourceProblem[] = [];
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #dir: string;
  readonly #ctx: LoadContext;
  readonly #log: Logger;

  constructor(dir: string, ctx: LoadContext, log: Logger) {
    this.#dir = dir;
    this.#ctx = ctx;
    this.#log = log;
  }

  get generation(): number {
    return this.#generation;
  }

  get loaded(): boolean {
    return this.#generation > 0;
  }

  get lastProblems(): readonly SourceProblem[] {
    return this.#lastProblems;
  }

  list(): readonly Playbook[] {
    return this.#playbooks;
  }

  get(name: string): Playbook | undefined {
    return this.#playbooks.find((p) => p.name === name);
  }

  async reload(): Promise<SourceProblem[]> {
    const set = await loadPlaybookDir(this.#dir, this.#ctx);
    this.#lastProblems = set.problems;
    if (set.problems.length > 0) {
      this.#log.error({ problems: set.problems.map(formatProblem), kept: this.#playbooks.map((p) => p.name) }, `playbook reload refused (${set.problems.length} problem(s)); the last good set stays in force`);
      return set.problems;
    }
    this.#playbooks = set.playbooks.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
    this.#generation++;
    this.#log.info({ playbooks: this.#playbooks.map((p) => p.name), generation: this.#generation }, `loaded ${this.#playbooks.length} playbook(s)`);
    return [];
  }

  /** Playbooks for an alert, highest priority first; a matching playbook with `stop` ends the list. */
  match(alert: Pick<AlertView, 'labels' | 'status'>): Playbook[] {
    const out: Playbook[] = [];
    for (const p of this.#playbooks) {
      const hit = p.triggers.some((t) => (t.status === 'any' || t.status === alert.status) && matchesAll(t.matchers, alert.labels));
      if (!hit) continue;
      out.push(p);
      if (p.stop) break;
    }
    return out;
  }

  /** Reload on file changes (debounced); SIGHUP is wired by the caller. */
  watch(): void {
    if (this.#watcher) return;
    try {
      this.#watcher = watch(this.#dir, { recursive: true }, () => {
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => void this.reload(), 200);
      });
      this.#watcher.on('error', (err) => this.#log.warn({ err }, 'playbook folder watch failed; SIGHUP still reloads'));
    } catch (err) {
      this.#log.warn({ err }, 'cannot watch the playbooks folder; SIGHUP still reloads');
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

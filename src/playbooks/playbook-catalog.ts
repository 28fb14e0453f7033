import { readdir, readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { loadPlaybook, type LoadContext } from './load-playbook.ts';
import { matchesAll } from '../domain/matcher.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { AlertView } from '../engine/step-definition.ts';
import { formatProblem, type SourceProblem } from '../schema/yaml-source.ts';
import { builtinRevertPlaybook } from './revert-playbook.ts';

/**
 * Files in the playbooks folder that are not playbooks: playbook tests (and anything under tests/), the editor schema,
 * and the `..data` / `..2026_…` entries of a mounted ConfigMap (Kubernetes' atomic writer keeps each version in a
 * hidden timestamped folder behind the `..data` symlink; the visible files are symlinks through it, so reading the
 * hidden copies too would load every playbook twice).
 */
const IGNORED = /(\.test\.ya?ml|\.schema\.json)$|(^|[\\/])tests[\\/]|(^|[\\/])\.\./;

/** A valid playbook that this configuration cannot run, and why (one line per missing service). */
export interface UnservablePlaybook {
  name: string;
  file: string;
  /** Distinct messages, e.g. `"prometheus.query" needs prometheus, which is not configured`. */
  reasons: string[];
  /** Each step that needs a missing service, at its file position. */
  problems: SourceProblem[];
}

export interface LoadedSet {
  playbooks: Playbook[];
  problems: SourceProblem[];
  /** Valid playbooks left out because a service they need is not configured (see LoadResult.unservable). */
  unservable: UnservablePlaybook[];
}

/** Loads every playbook of a folder. Any problem anywhere means the set is not usable; all problems are listed. */
export async function loadPlaybookDir(dir: string, ctx: LoadContext): Promise<LoadedSet> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { recursive: true })).map(String);
  } catch (err) {
    return {
      playbooks: [],
      problems: [{ file: dir, line: 1, column: 1, message: `cannot read playbooks folder: ${(err as Error).message}` }],
      unservable: [],
    };
  }
  const files = entries.filter((f) => /\.ya?ml$/.test(f) && !IGNORED.test(f)).sort();
  return loadPlaybookFiles(
    files.map((f) => join(dir, f)),
    ctx,
  );
}

export async function loadPlaybookFiles(files: string[], ctx: LoadContext): Promise<LoadedSet> {
  const playbooks: Playbook[] = [];
  const problems: SourceProblem[] = [];
  const unservable: UnservablePlaybook[] = [];
  for (const file of files) {
    const shown = relative(process.cwd(), file) || file;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      // Gone between listing and reading: a key removed from a mounted ConfigMap leaves a dangling symlink until
      // kubelet deletes it, just after the ..data swap. The change that removes it triggers another reload.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      problems.push({ file: shown, line: 1, column: 1, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    if (!/^\s*apiVersion:/m.test(text)) continue; // a manifest or data file beside the playbooks, not a playbook
    if (/^\s*kind:\s*(?!Playbook\b)\w+/m.test(text) && !/^\s*kind:\s*Playbook\b/m.test(text)) continue;
    const result = loadPlaybook(shown, text, ctx);
    problems.push(...result.problems);
    if (result.playbook) {
      const dup = playbooks.find((p) => p.name === result.playbook!.name);
      if (dup) problems.push({ file: shown, line: 1, column: 1, message: `playbook name "${dup.name}" is already used by ${dup.file}` });
      else if (result.unservable.length > 0)
        unservable.push({
          name: result.playbook.name,
          file: shown,
          reasons: [...new Set(result.unservable.map((u) => u.message))],
          problems: result.unservable,
        });
      else playbooks.push(result.playbook);
    }
  }
  return { playbooks, problems, unservable };
}

export interface CatalogHooks {
  /** Called when a reload is refused (start-up, SIGHUP or a file change), e.g. to count it in a metric. */
  onRefused?(problems: readonly SourceProblem[]): void;
}

/**
 * The playbooks in force. A reload that finds any problem keeps the last good set running and reports the
 * problems; `generation` counts successful loads. A valid playbook that needs a service the configuration lacks
 * (Prometheus, Alertmanager, escalation, Kubernetes) is not a problem of the set: it is left out, listed in
 * `unservable` with its reasons (shown in /readyz and a metric), and the rest runs.
 */
export class PlaybookCatalog {
  #playbooks: Playbook[] = [];
  #unservable: UnservablePlaybook[] = [];
  #generation = 0;
  #lastProblems: SourceProblem[] = [];
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #dir: string;
  readonly #ctx: LoadContext;
  readonly #log: Logger;
  readonly #hooks: CatalogHooks;

  constructor(dir: string, ctx: LoadContext, log: Logger, hooks: CatalogHooks = {}) {
    this.#dir = dir;
    this.#ctx = ctx;
    this.#log = log;
    this.#hooks = hooks;
  }

  /** Valid playbooks of the set in force that this configuration cannot run, with the reasons. */
  get unservable(): readonly UnservablePlaybook[] {
    return this.#unservable;
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

  /** A loaded playbook, or a built-in one a revert run follows (src/playbooks/revert-playbook.ts). */
  get(name: string): Playbook | undefined {
    return builtinRevertPlaybook(name) ?? this.#playbooks.find((p) => p.name === name);
  }

  async reload(): Promise<SourceProblem[]> {
    const set = await loadPlaybookDir(this.#dir, this.#ctx);
    this.#lastProblems = set.problems;
    if (set.problems.length > 0) {
      this.#log.error(
        { problems: set.problems.map(formatProblem), kept: this.#playbooks.map((p) => p.name) },
        `playbook reload refused (${set.problems.length} problem(s)); the last good set stays in force`,
      );
      this.#hooks.onRefused?.(set.problems);
      return set.problems;
    }
    this.#playbooks = set.playbooks.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
    this.#unservable = set.unservable;
    this.#generation++;
    this.#log.info(
      { playbooks: this.#playbooks.map((p) => p.name), generation: this.#generation },
      `loaded ${this.#playbooks.length} playbook(s)`,
    );
    for (const u of set.unservable)
      this.#log.warn({ playbook: u.name, file: u.file, reasons: u.reasons }, `playbook ${u.name} is not in force: ${u.reasons.join('; ')}`);
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

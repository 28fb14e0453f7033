import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What one test run left behind, told apart from what other runs on the same machine own:
 * - processes of the run: in its session (the suite's tap runs as a session leader, so every process it starts
 *   shares its session id unless it starts a session of its own) or carrying the run's marker in their
 *   environment (inherited by every child that does not replace its environment);
 * - entries in the run's own temporary root (the suite points TMPDIR at it, so every mkdtemp(tmpdir()) lands there).
 */
export interface RunScope {
  /** The session id of the run (the pid of the session leader it started). */
  sessionId?: number;
  /** `NAME=value` every process of the run carries in its environment. */
  marker?: string;
  /** The run's temporary root. */
  tmpRoot?: string;
  /** Pids never reported (the checker itself and its parents). */
  exclude?: number[];
}

export interface LeftoverProcess {
  pid: number;
  command: string;
}

export interface Leftovers {
  processes: LeftoverProcess[];
  paths: string[];
}

/** Linux /proc only. Processes that are gone or not ours to read are skipped; zombies (already dead) too. */
export async function findLeftovers(scope: RunScope): Promise<Leftovers> {
  const processes: LeftoverProcess[] = [];
  const exclude = new Set([process.pid, ...(scope.exclude ?? [])]);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || exclude.has(Number(entry))) continue;
    const pid = Number(entry);
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid pgrp session …; comm may hold spaces and parentheses, so split after the last ')'.
      const [state, , , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const inSession = scope.sessionId !== undefined && Number(session) === scope.sessionId;
      const marked = scope.marker !== undefined && (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').includes(scope.marker);
      if (!inSession && !marked) continue;
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean).join(' ');
      processes.push({ pid, command: cmdline || (await readlink(`/proc/${pid}/exe`).catch(() => '?')) });
    } catch {
      // gone meanwhile, or another user's
    }
  }
  const paths = scope.tmpRoot ? (await readdir(scope.tmpRoot).catch(() => [] as string[])).map((name) => join(scope.tmpRoot!, name)) : [];
  return { processes, paths };
}

/** Whether the process is alive: it exists and is not a zombie (dead, waiting for its parent to reap it). */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** One line per leftover, for the failure message. */
export function describeLeftovers(l: Leftovers): string[] {
  return [...l.processes.map((p) => `process ${p.pid} still running: ${p.command}`), ...l.paths.map((p) => `temp entry left: ${p}`)];
}

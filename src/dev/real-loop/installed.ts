import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Debian binaries the real loop needs, with the package that ships each. */
export const REAL_LOOP_BINARIES = [
  { command: 'prometheus', debianPackage: 'prometheus' },
  { command: 'prometheus-alertmanager', debianPackage: 'prometheus-alertmanager' },
] as const;

/** Where `command` is on PATH (the first executable file of that name), or undefined. */
export function findOnPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Whether `command` is an executable file on PATH. */
export function onPath(command: string, path?: string): boolean {
  return findOnPath(command, path) !== undefined;
}

/**
 * Why the real loop cannot run here (the missing binaries and the command that installs them), or undefined when
 * Prometheus and Alertmanager are both installed.
 */
export function realLoopUnavailable(path?: string): string | undefined {
  const missing = REAL_LOOP_BINARIES.filter((b) => !onPath(b.command, path));
  if (missing.length === 0) return undefined;
  return `${missing.map((b) => b.command).join(' and ')} not installed (Debian/Ubuntu: apt-get install --no-install-recommends ${missing.map((b) => b.debianPackage).join(' ')})`;
}

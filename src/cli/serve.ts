import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { startRemediator, type Remediator, type Role } from '../main.ts';
import type { Config } from '../config/config-schema.ts';
import { isRemediatorError } from '../domain/errors.ts';
import { releaseStartupMemory } from '../observability/release-startup-memory.ts';

export interface ServeOptions {
  config?: string;
  role: Role;
}

/** `remediator serve`: start, then SIGTERM/SIGINT shut down gracefully and SIGHUP reloads playbooks. */
export async function serveCommand(opts: ServeOptions): Promise<void> {
  let config: Config;
  try {
    config = await loadConfig({ file: opts.config });
  } catch (err) {
    console.error(isRemediatorError(err) ? `${err.code}: ${err.message}` : String(err));
    process.exit(2);
  }
  // Pretty on a terminal (a person reads it), JSON otherwise (a log collector does), unless logging.pretty says.
  const log = createLogger({ level: config.logging.level, pretty: config.logging.pretty ?? process.stdout.isTTY === true });
  let service: Remediator;
  try {
    // A playbook the config cannot serve is left out, not fatal: /readyz and a gauge name it and why.
    service = await startRemediator(config, { role: opts.role, log, unservable: 'leave-out' });
  } catch (err) {
    // Like a config error: what is wrong, one problem a line, on stderr; exit 2.
    console.error(startupErrorLines(err).join('\n'));
    process.exit(2);
  }
  // Up: what start-up allocated and no longer needs goes back to the system (see the function for how and why).
  releaseStartupMemory();
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading playbooks');
    void service.reload();
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new work; the step in flight may finish');
    await service.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** A start-up failure as lines for a person: the error's message lines, prefixed with its code when it has one. */
export function startupErrorLines(err: unknown): string[] {
  if (!isRemediatorError(err)) return [`start-up failed: ${err instanceof Error ? err.message : String(err)}`];
  const [first = '', ...rest] = err.message.split('\n');
  return [`${err.code}: ${first}`, ...rest];
}

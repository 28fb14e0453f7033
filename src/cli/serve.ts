import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { startRemediator, type Role } from '../main.ts';
import { isRemediatorError } from '../engine/errors.ts';

/** `remediator serve`: start, then SIGTERM/SIGINT shut down gracefully and SIGHUP reloads playbooks. */
export async function serveCommand(opts: { config?: string; role: Role }): Promise<void> {
  let config;
  try {
    config = await loadConfig({ file: opts.config });
  } catch (err) {
    console.error(isRemediatorError(err) ? err.message : String(err));
    process.exit(2);
  }
  const log = createLogger({ level: config.logging.level, pretty: config.logging.pretty });
  let service;
  try {
    // A playbook the config cannot serve is left out, not fatal: /readyz and a gauge name it and why.
    service = await startRemediator(config, { role: opts.role, log, unservable: 'leave-out' });
  } catch (err) {
    log.fatal(isRemediatorError(err) ? { code: err.code } : { err }, isRemediatorError(err) ? err.message : 'start-up failed');
    process.exit(2);
  }
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

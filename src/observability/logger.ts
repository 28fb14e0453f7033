import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { redactSecrets } from './redact-secrets.ts';

export type { Logger };

/**
 * JSON logs by default; `pretty` (the demo) pipes through pino-pretty. Secrets are redacted by path wherever
 * they could appear in a logged object. `destination` (JSON only; default stdout) lets a test read what was logged.
 */
export function createLogger(options: { level?: string; pretty?: boolean; name?: string; destination?: DestinationStream } = {}): Logger {
  const base: LoggerOptions = {
    name: options.name ?? 'remediator',
    level: options.level ?? 'info',
    // Secrets are censored by a formatter compiled once (src/observability/redact-secrets.ts) instead of pino's
    // `redact` paths, which are parsed again on every line that carries an object. Child bindings are not formatted:
    // they carry ids (component, runId, reqId), never secrets.
    formatters: { log: redactSecrets },
  };
  if (options.pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: {
          colorize: process.stdout.isTTY,
          translateTime: 'HH:MM:ss.l',
          ignore: 'pid,hostname,name,component,runStatus,status,summary,attempt',
          singleLine: true,
        },
      },
    });
  }
  // Without a destination pino writes to stdout through an asynchronous SonicBoom (no write syscall on the request's
  // turn of the event loop; lines written while one write is in flight go out together), which pino flushes
  // synchronously when the process exits (an orderly stop, an uncaught exception): a crash keeps its last lines. Only
  // a SIGKILL (an OOM kill) can lose the lines of the write in flight. pino.destination() defaults to a sync write per
  // line, one syscall on every request's turn.
  return options.destination ? pino(base, options.destination) : pino(base);
}

/** A logger that writes nothing: for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

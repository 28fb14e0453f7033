import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * JSON logs by default; `pretty` (the demo) pipes through pino-pretty. Secrets are redacted by path wherever
 * they could appear in a logged object. `destination` (JSON only; default stdout) lets a test read what was logged.
 */
export function createLogger(options: { level?: string; pretty?: boolean; name?: string; destination?: DestinationStream } = {}): Logger {
  const base: LoggerOptions = {
    name: options.name ?? 'remediator',
    level: options.level ?? 'info',
    redact: {
      paths: [
        '*.authorization',
        '*.headers.authorization',
        'headers.authorization',
        '*.token',
        '*.tokens',
        '*.password',
        '*.routingKey',
        '*.routing_key',
        '*.apiKey',
        '*.secret',
        '*.webhookUrl',
      ],
      censor: '[redacted]',
    },
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
  return options.destination ? pino(base, options.destination) : pino(base);
}

/** A logger that writes nothing: for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

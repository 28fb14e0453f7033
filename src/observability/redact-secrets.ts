/** What a secret is replaced with in a log line. */
export const REDACTED = '[redacted]';

/**
 * Keys whose values are secrets one level down in a logged object (`{ target: { token } }`, `{ req: { headers: {
 * authorization } } }`), and in `headers` at the top or one level down.
 */
const SECRET_KEYS = ['authorization', 'token', 'tokens', 'password', 'routingKey', 'routing_key', 'apiKey', 'secret', 'webhookUrl'];

/**
 * The log object with its secrets replaced by REDACTED (a copy of the parts that change; the caller's object is never
 * touched), or the object itself when it holds none. Used as pino's `formatters.log`: the key set is fixed here, so a
 * log line costs a few property checks on its nested objects. pino's own `redact` paths are parsed again on every
 * line that carries an object (@pinojs/redact 0.4), which showed in the receiver's profile under load.
 */
export function redactSecrets(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (!isPlainObject(value)) continue;
    const censored = censorChild(value);
    if (censored !== value) {
      out ??= { ...obj };
      out[key] = censored;
    }
  }
  return out ?? obj;
}

function censorChild(value: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const k of SECRET_KEYS) {
    if (Object.hasOwn(value, k)) {
      copy ??= { ...value };
      copy[k] = REDACTED;
    }
  }
  const headers = value.headers;
  if (isPlainObject(headers) && Object.hasOwn(headers, 'authorization')) {
    copy ??= { ...value };
    copy.headers = { ...headers, authorization: REDACTED };
  }
  return copy ?? value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Error);
}

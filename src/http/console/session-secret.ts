import { hkdfSync, randomBytes } from 'node:crypto';
import type { Config } from '../../config/config-schema.ts';

/**
 * The key that signs console session cookies. `console.sessionSecret` when set. Otherwise derived (HKDF-SHA256) from
 * the operator and webhook tokens and the Redis prefix: every replica configured alike derives the same key without
 * asking Redis at start (a receiver starts while Redis is away), and changing a token signs everyone out. With no
 * token at all there is nothing secret to derive from: a random key is used and `shared` is false (sessions then hold
 * on one replica only; set console.sessionSecret).
 */
export function consoleSessionSecret(config: Config): { secret: string; shared: boolean } {
  if (config.console.sessionSecret) return { secret: config.console.sessionSecret, shared: true };
  const secrets = [
    ...config.auth.operators.map((o) => o.token),
    ...config.auth.webhook.bearerTokens,
    ...(config.auth.webhook.basic ? [config.auth.webhook.basic.password] : []),
  ];
  if (secrets.length === 0) return { secret: randomBytes(32).toString('base64url'), shared: false };
  const key = hkdfSync('sha256', secrets.sort().join('\n'), `remediator:${config.redis.prefix}`, 'remediator console session cookie', 32);
  return { secret: Buffer.from(key).toString('base64url'), shared: true };
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signature on outbound webhooks: `X-Remediator-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw
 * body>")>` with `X-Remediator-Timestamp: <unix seconds>`. Signing the timestamp with the body lets a receiver
 * refuse replays older than its tolerance. Receivers verify over the raw bytes, before parsing.
 */
export const SIGNATURE_HEADER = 'x-remediator-signature';
export const TIMESTAMP_HEADER = 'x-remediator-timestamp';

export function signWebhook(secret: string, timestamp: number | string, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

/**
 * Checks a received webhook (for receivers written in TypeScript, and for tests): the signature matches in
 * constant time and the timestamp is within `toleranceSeconds` (default 300) of `nowMs`.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  rawBody: string | Buffer,
  options: { nowMs?: number; toleranceSeconds?: number } = {},
): { ok: true } | { ok: false; reason: string } {
  if (!headers.signature || !headers.timestamp) return { ok: false, reason: 'missing signature or timestamp header' };
  if (!/^\d+$/.test(headers.timestamp)) return { ok: false, reason: 'timestamp is not unix seconds' };
  const age = Math.abs((options.nowMs ?? Date.now()) / 1000 - Number(headers.timestamp));
  if (age > (options.toleranceSeconds ?? 300)) return { ok: false, reason: `timestamp is ${Math.round(age)} s away from now` };
  const expected = Buffer.from(signWebhook(secret, headers.timestamp, rawBody));
  const given = Buffer.from(headers.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'signature does not match' };
  return { ok: true };
}

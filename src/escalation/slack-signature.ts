import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's request headers (docs/contracts.md §5.3). */
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';
export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
/** Requests older (or newer) than this are refused: a captured request cannot be replayed later. */
export const SLACK_TOLERANCE_S = 300;

export type SlackSignatureCheck = { ok: true; index: number } | { ok: false; reason: string };

/** `v0=` + hex(HMAC-SHA256(secret, `v0:{timestamp}:{raw body}`)): what Slack sends, and what a test signs with. */
export function signSlackRequest(secret: string, timestamp: number | string, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/**
 * Verifies a request from Slack, as bolt-js `verify-request.ts` does: the timestamp is a number within 5 minutes of
 * now (either way), the signature is version `v0`, and it equals the HMAC of `v0:{timestamp}:{raw body}` under one of
 * the signing secrets (several apps may point at one endpoint). Every secret is tried and compared in constant time
 * (timingSafeEqual over equal-length digests). `reason` is for the log; the caller answers without detail.
 */
export function verifySlackSignature(input: {
  secrets: readonly string[];
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  nowMs: number;
}): SlackSignatureCheck {
  const { timestamp, signature } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `missing or malformed ${SLACK_TIMESTAMP_HEADER}` };
  const ts = Number(timestamp);
  if (Math.abs(Math.floor(input.nowMs / 1000) - ts) > SLACK_TOLERANCE_S)
    return { ok: false, reason: `${SLACK_TIMESTAMP_HEADER} is more than ${SLACK_TOLERANCE_S} s from now (stale or replayed)` };
  if (!signature?.startsWith('v0=')) return { ok: false, reason: `missing ${SLACK_SIGNATURE_HEADER} or not version v0` };
  const given = Buffer.from(signature, 'utf8');
  let found = -1;
  input.secrets.forEach((secret, i) => {
    const expected = Buffer.from(signSlackRequest(secret, timestamp, input.rawBody), 'utf8');
    const same = given.length === expected.length && timingSafeEqual(given, expected);
    if (same && found < 0) found = i;
  });
  return found >= 0 ? { ok: true, index: found } : { ok: false, reason: 'signature does not verify' };
}

import { hash, timingSafeEqual } from 'node:crypto';
import type { OperatorRole } from './operator-roles.ts';

/**
 * Credentials check for the two audiences. Comparisons are constant-time (digests of equal length compared with
 * timingSafeEqual, and every configured credential is tried) so a token cannot be guessed byte by byte.
 */
export interface WebhookCredentials {
  bearerTokens: string[];
  basic?: { username: string; password: string };
  insecure: boolean;
}

export interface OperatorCredential {
  name: string;
  token: string;
  role: OperatorRole;
}

/** `forbidden`: the credentials are valid, but for the other audience (403 rather than 401). */
export type AuthResult = { ok: true; principal: string } | { ok: false; reason: string; forbidden?: boolean };
export type OperatorAuthResult = { ok: true; principal: string; role: OperatorRole } | { ok: false; reason: string; forbidden?: boolean };

/** One-shot: every webhook digests its credential, and a Hash object per request is garbage the receiver need not make. */
function digest(s: string): Buffer {
  return hash('sha256', s, 'buffer');
}

/**
 * Digests of the configured secrets, made once each: every webhook is checked against the same few. Bounded by the
 * config (a reload brings new strings; the old ones are a handful of 32-byte buffers).
 */
const secretDigests = new Map<string, Buffer>();

function secretDigest(secret: string): Buffer {
  let d = secretDigests.get(secret);
  if (!d) {
    d = digest(secret);
    secretDigests.set(secret, d);
  }
  return d;
}

function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), secretDigest(b));
}

function anyEqual(candidate: string, secrets: readonly string[]): number {
  const c = digest(candidate);
  let found = -1;
  secrets.forEach((s, i) => {
    if (timingSafeEqual(c, secretDigest(s)) && found < 0) found = i;
  });
  return found;
}

function parseAuthorization(header: string | undefined): { scheme: string; value: string } | undefined {
  if (!header) return undefined;
  const i = header.indexOf(' ');
  if (i < 0) return undefined;
  return { scheme: header.slice(0, i).toLowerCase(), value: header.slice(i + 1).trim() };
}

/** What Alertmanager's http_config sends: `authorization: {credentials}` (Bearer) or `basic_auth`. */
export function authenticateWebhook(header: string | undefined, creds: WebhookCredentials): AuthResult {
  const auth = parseAuthorization(header);
  if (!auth)
    return creds.insecure ? { ok: true, principal: 'anonymous (insecure mode)' } : { ok: false, reason: 'missing Authorization header' };
  if (auth.scheme === 'bearer' && creds.bearerTokens.length > 0) {
    return anyEqual(auth.value, creds.bearerTokens) >= 0
      ? { ok: true, principal: 'alertmanager' }
      : { ok: false, reason: 'bearer token not accepted' };
  }
  if (auth.scheme === 'basic' && creds.basic) {
    const decoded = Buffer.from(auth.value, 'base64').toString('utf8');
    const okUser = safeEqual(decoded.slice(0, Math.max(0, decoded.indexOf(':'))), creds.basic.username);
    const okPass = safeEqual(decoded.slice(decoded.indexOf(':') + 1), creds.basic.password);
    return okUser && okPass && decoded.includes(':')
      ? { ok: true, principal: creds.basic.username }
      : { ok: false, reason: 'basic credentials not accepted' };
  }
  if (creds.insecure) return { ok: true, principal: 'anonymous (insecure mode)' };
  // The scheme is not quoted back: a token sent without its "Bearer " would stand where the scheme is.
  const configured = [creds.bearerTokens.length > 0 ? 'Bearer' : undefined, creds.basic ? 'Basic' : undefined].filter(Boolean).join(' or ');
  return { ok: false, reason: `the Authorization scheme is not one configured for the webhook (${configured})` };
}

/** Operator tokens name a person and their role; a webhook token is refused here even if it is otherwise valid. */
export function authenticateOperator(
  header: string | undefined,
  operators: readonly OperatorCredential[],
  webhookTokens: readonly string[],
): OperatorAuthResult {
  const auth = parseAuthorization(header);
  if (auth?.scheme !== 'bearer') return { ok: false, reason: 'missing bearer token' };
  const i = anyEqual(
    auth.value,
    operators.map((o) => o.token),
  );
  if (i >= 0) return { ok: true, principal: operators[i]!.name, role: operators[i]!.role };
  if (anyEqual(auth.value, webhookTokens) >= 0)
    return { ok: false, reason: 'webhook tokens are not accepted by the operator API', forbidden: true };
  return { ok: false, reason: 'operator token not accepted' };
}

/** The webhook check, where an operator token is told it knocks at the wrong door (403) rather than "not accepted". */
export function authenticateWebhookCaller(
  header: string | undefined,
  creds: WebhookCredentials,
  operators: readonly OperatorCredential[],
): AuthResult {
  const auth = authenticateWebhook(header, creds);
  if (auth.ok || !authenticateOperator(header, operators, []).ok) return auth;
  return { ok: false, reason: 'operator tokens are not accepted by the webhook', forbidden: true };
}

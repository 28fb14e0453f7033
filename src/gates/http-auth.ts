/**
 * Credentials for an HTTP API remediator reads from (Prometheus, Alertmanager), as they appear in config:
 * HTTP basic auth or a bearer token. Never logged: callers put the header on the request and nowhere else.
 */
export type HttpAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

/** The `Authorization` header value for `auth` (RFC 7617 basic, RFC 6750 bearer). */
export function authorizationHeader(auth: HttpAuth): string {
  if (auth.type === 'basic') return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
  return `Bearer ${auth.token}`;
}

/** `base` without trailing slashes, so `${base}/api/...` never has a double slash. */
export function trimBaseUrl(base: string): string {
  return base.replace(/\/+$/, '');
}

import { toRemediatorError } from '../domain/errors.ts';
import type { HttpClient, HttpRequest, HttpResponse } from '../ports/http-client.ts';

/**
 * How one delivery attempt ended, as the delivery worker acts on it:
 * - `delivered`: the provider accepted it (2xx, and for Slack the body `ok`); done.
 * - `retry`: 429, 5xx, 408 or a transport failure (refused, reset, timeout); try again later, not before
 *   `retryAfterMs` when the provider said so.
 * - `reject`: any other answer; retrying cannot help, the event goes to the dead letter at once.
 */
export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status?: number; retryAfterMs?: number; reason: string }
  | { kind: 'reject'; status: number; reason: string };

/**
 * `Retry-After` in milliseconds from now: delta-seconds (`120`) or an HTTP date. Undefined when absent or
 * unreadable; never negative.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Classifies an HTTP answer. `accept` can refuse a 2xx whose body says it failed (Slack answers 200 `ok`). */
export function classifyResponse(res: HttpResponse, now: number, accept?: (res: HttpResponse) => string | null): DeliveryOutcome {
  const excerpt = bodyExcerpt(res.body);
  if (res.status >= 200 && res.status < 300) {
    const refusal = accept?.(res) ?? null;
    return refusal === null
      ? { kind: 'delivered', status: res.status }
      : { kind: 'reject', status: res.status, reason: `HTTP ${res.status}: ${refusal}` };
  }
  if (res.status === 429 || res.status === 408 || res.status >= 500) {
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
    return {
      kind: 'retry',
      status: res.status,
      reason: `HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  return { kind: 'reject', status: res.status, reason: `HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}` };
}

/** Sends and classifies; transport failures and timeouts become `retry`. Never throws. */
export async function sendAndClassify(
  http: HttpClient,
  req: HttpRequest,
  now: () => number,
  accept?: (res: HttpResponse) => string | null,
): Promise<DeliveryOutcome> {
  try {
    const res = await http.request(req);
    return classifyResponse(res, now(), accept);
  } catch (err) {
    const e = toRemediatorError(err);
    return { kind: 'retry', reason: `${e.code}: ${e.message}` };
  }
}

/** The first 300 characters of a response body, on one line: enough to say why, small enough for a record. */
export function bodyExcerpt(body: unknown): string {
  const text = typeof body === 'string' ? body : body === undefined || body === null ? '' : JSON.stringify(body);
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 300 ? `${one.slice(0, 299)}…` : one;
}

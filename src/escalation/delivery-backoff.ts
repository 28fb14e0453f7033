/**
 * The wait before retry number `attempt` (1 = the first retry): `backoffMs × 2^(attempt-1)` capped at
 * `maxBackoffMs`, with ±20% jitter so deliveries that failed together do not come back together. A provider's
 * `Retry-After` is a floor, never shortened by jitter (capped at `maxRetryAfterMs` so a wild value cannot park an
 * event for days).
 */
export function retryDelay(
  attempt: number,
  options: { backoffMs: number; maxBackoffMs: number; maxRetryAfterMs: number },
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.maxBackoffMs, options.backoffMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(exp * (0.8 + 0.4 * random()));
  const floor = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, options.maxRetryAfterMs);
  return Math.max(jittered, floor);
}

/**
 * Exponential backoff between attempts of one step: `backoff × factor^(n-1)`, capped by `maxBackoff`, with ±20 %
 * jitter so steps that failed together do not retry together. `attemptsMade` counts attempts already made (≥ 1).
 */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  factor: number;
  maxBackoffMs: number;
}

export function nextBackoff(policy: RetryPolicy, attemptsMade: number, random: () => number = Math.random): number {
  const base = Math.min(policy.backoffMs * policy.factor ** Math.max(0, attemptsMade - 1), policy.maxBackoffMs);
  return Math.round(base * (0.8 + 0.4 * random()));
}

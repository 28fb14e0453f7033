/**
 * Retries as data, for playbook steps and escalation deliveries alike: how many attempts, how long to wait between
 * them, and how far the waits spread. One policy shape, one delay formula, one jitter.
 */
export interface RetryPolicy {
  /** Total attempts, the first included (1 = never retry). */
  attempts: number;
  /** Wait after the first failed attempt (ms). */
  backoffMs: number;
  /** Each further wait is this many times the one before (1 = constant). */
  factor: number;
  /** Largest wait before jitter (ms). */
  maxBackoffMs: number;
  /**
   * Spread of every wait: it is multiplied by a factor drawn uniformly from [1 − jitter, 1 + jitter], so callers that
   * failed together do not come back together. Default `DEFAULT_JITTER` (±20 %); 0 turns it off.
   */
  jitter?: number;
}

export const DEFAULT_JITTER = 0.2;

/** A source of uniform numbers in [0, 1), like Math.random (the default everywhere); tests inject their own. */
export type Random = () => number;

/**
 * Every retry waits exactly its base delay: what replay and playbook tests use, so the same input gives the same
 * timeline every time (the middle of the jitter range is also the expected wait).
 */
export const MIDDLE_OF_JITTER: Random = () => 0.5;

/**
 * The wait (ms) after `attemptsMade` failed attempts (≥ 1): `backoffMs × factor^(attemptsMade − 1)`, capped at
 * `maxBackoffMs`, then jittered. Never negative.
 */
export function backoffDelay(policy: RetryPolicy, attemptsMade: number, random: Random = Math.random): number {
  const base = Math.min(policy.backoffMs * policy.factor ** Math.max(0, attemptsMade - 1), policy.maxBackoffMs);
  const jitter = policy.jitter ?? DEFAULT_JITTER;
  return Math.max(0, Math.round(base * (1 - jitter + 2 * jitter * random())));
}

export type RetryVerdict = { retry: true; delayMs: number } | { retry: false; why: 'attempts' | 'deadline' };

export interface NextRetryOptions {
  /** Now (ms); needed with `deadline`. */
  now?: number;
  /** No retry may start after this (ms): a step's deadline across its attempts. Default none. */
  deadline?: number;
  /** The wait is at least this (ms), never shortened by jitter: a provider's `Retry-After`. Default 0. */
  floorMs?: number;
  random?: Random;
}

/** Whether another attempt comes after `attemptsMade` failed ones (≥ 1), and after how long. */
export function nextRetry(policy: RetryPolicy, attemptsMade: number, options: NextRetryOptions = {}): RetryVerdict {
  if (attemptsMade >= policy.attempts) return { retry: false, why: 'attempts' };
  const delayMs = Math.max(backoffDelay(policy, attemptsMade, options.random), options.floorMs ?? 0);
  if (options.deadline !== undefined && (options.now ?? 0) + delayMs > options.deadline) return { retry: false, why: 'deadline' };
  return { retry: true, delayMs };
}

/**
 * The longest every attempt and wait of a policy can take together: `attempts × attemptTimeoutMs` plus each wait at
 * its largest jitter. A deadline derived from the policy uses it, so jitter never costs the last attempt.
 */
export function retryBudgetMs(policy: RetryPolicy, attemptTimeoutMs: number): number {
  let total = attemptTimeoutMs * policy.attempts;
  for (let made = 1; made < policy.attempts; made++) total += backoffDelay(policy, made, () => 1);
  return total;
}

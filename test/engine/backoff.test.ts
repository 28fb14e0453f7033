import t from 'tap';
import { backoffDelay, nextRetry, retryBudgetMs, MIDDLE_OF_JITTER, type RetryPolicy } from '../../src/engine/backoff.ts';

/** The one retry helper of steps and deliveries: exponential waits, capped, with real jitter from an injected source. */
const policy: RetryPolicy = { attempts: 5, backoffMs: 1000, factor: 2, maxBackoffMs: 6000 };

/** N evenly spaced draws over [0, 1): every part of the range, deterministically. */
const grid = (n: number) => {
  let i = 0;
  return () => (i++ % n) / n;
};

t.test('the jitter spreads each wait evenly over ±20 % of its base and never past it', async (t) => {
  for (const [made, base] of [
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 6000],
  ] as const) {
    const random = grid(100);
    const waits = Array.from({ length: 100 }, () => backoffDelay(policy, made, random));
    t.equal(Math.min(...waits), base * 0.8, `after ${made} failure(s): lowest is base − 20 %`);
    t.ok(Math.max(...waits) <= base * 1.2 && Math.max(...waits) >= base * 1.19, `after ${made} failure(s): highest approaches base + 20 %`);
    t.ok(new Set(waits).size >= 90, 'the draws give different waits');
    const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
    t.ok(Math.abs(mean - base) < base * 0.01, `centred on the base (${mean} vs ${base})`);
  }
});

t.test('Math.random is the default source: waits differ from call to call, within the bounds', async (t) => {
  const waits = Array.from({ length: 200 }, () => backoffDelay(policy, 2));
  t.ok(new Set(waits).size > 50, `${new Set(waits).size} distinct waits of 200`);
  t.ok(waits.every((w) => w >= 1600 && w <= 2400));
});

t.test('the jitter is data: another spread, or none', async (t) => {
  t.equal(
    backoffDelay({ ...policy, jitter: 0 }, 1, () => 0),
    1000,
  );
  t.equal(
    backoffDelay({ ...policy, jitter: 0 }, 1, () => 0.999),
    1000,
  );
  t.equal(
    backoffDelay({ ...policy, jitter: 0.5 }, 1, () => 0),
    500,
  );
  t.equal(
    backoffDelay({ ...policy, jitter: 0.5 }, 1, () => 1),
    1500,
  );
});

t.test('nextRetry: the attempts, the deadline and a floor bound the retries', async (t) => {
  const mid = () => 0.5;
  t.same(nextRetry(policy, 1, { random: mid }), { retry: true, delayMs: 1000 });
  t.same(nextRetry(policy, 4, { random: mid }), { retry: true, delayMs: 6000 }, 'capped at maxBackoff');
  t.same(nextRetry(policy, 5, { random: mid }), { retry: false, why: 'attempts' }, 'five attempts made: no sixth');
  t.same(
    nextRetry(policy, 1, { random: mid, now: 10_000, deadline: 10_999 }),
    { retry: false, why: 'deadline' },
    'the wait would end past the deadline',
  );
  t.same(nextRetry(policy, 1, { random: mid, now: 10_000, deadline: 11_000 }), { retry: true, delayMs: 1000 });
  t.same(
    nextRetry(policy, 1, { random: () => 0, floorMs: 5000 }),
    { retry: true, delayMs: 5000 },
    'a floor (Retry-After) is never shortened',
  );
  t.same(nextRetry(policy, 1, { random: () => 0.999, floorMs: 10 }), { retry: true, delayMs: 1200 }, 'a low floor does not cut the wait');
});

t.test('retryBudgetMs leaves room for every attempt and every wait at its longest', async (t) => {
  // 5 attempts of 10 s, waits 1 + 2 + 4 + 6 s, each up to +20 %.
  t.equal(retryBudgetMs(policy, 10_000), 50_000 + 1.2 * 13_000);
  // Whatever the draws, a step that times out on every attempt still gets its last one within the budget.
  for (const random of [() => 0, () => 0.5, () => 0.999]) {
    let now = 0;
    const deadline = retryBudgetMs(policy, 10_000);
    let made = 0;
    for (;;) {
      now += 10_000;
      made++;
      const next = nextRetry(policy, made, { now, deadline, random });
      if (!next.retry) {
        t.equal(next.why, 'attempts', 'stopped by the attempts, not the deadline');
        break;
      }
      now += next.delayMs;
    }
    t.equal(made, 5);
  }
});

t.test('replay and playbook tests wait exactly the base delay, so the same input gives the same timeline', async (t) => {
  t.same(
    [1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a, MIDDLE_OF_JITTER)),
    [1000, 2000, 4000, 6000, 6000],
  );
});

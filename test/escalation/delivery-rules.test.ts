import t from 'tap';
import { nextRetry } from '../../src/engine/backoff.ts';
import { deliveryRetry } from '../../src/escalation/delivery-pump.ts';
import { classifyResponse, parseRetryAfter } from '../../src/escalation/delivery-outcome.ts';
import { createRedactor } from '../../src/escalation/redact.ts';

const now = Date.parse('2026-03-01T14:30:00Z');
const res = (status: number, body: unknown = '', headers: Record<string, string> = {}) => ({ status, body, headers, latencyMs: 1 });

t.test('Retry-After as seconds or as an HTTP date', async (t) => {
  t.equal(parseRetryAfter('120', now), 120_000);
  t.equal(parseRetryAfter('1.5', now), 1500);
  t.equal(parseRetryAfter('Sun, 01 Mar 2026 14:31:00 GMT', now), 60_000);
  t.equal(parseRetryAfter('Sun, 01 Mar 2026 14:00:00 GMT', now), 0, 'a date in the past means now');
  t.equal(parseRetryAfter('soon', now), undefined);
  t.equal(parseRetryAfter(undefined, now), undefined);
});

t.test('which answers are retried, which are refused', async (t) => {
  t.same(classifyResponse(res(202), now), { kind: 'delivered', status: 202 });
  t.match(classifyResponse(res(429, '', { 'retry-after': '7' }), now), { kind: 'retry', status: 429, retryAfterMs: 7000 });
  t.match(classifyResponse(res(503, 'upstream down'), now), { kind: 'retry', status: 503, reason: 'HTTP 503: upstream down' });
  t.match(classifyResponse(res(408), now), { kind: 'retry' });
  t.match(classifyResponse(res(400, { status: 'invalid event', errors: ['x'] }), now), {
    kind: 'reject',
    status: 400,
    reason: 'HTTP 400: {"status":"invalid event","errors":["x"]}',
  });
  t.match(classifyResponse(res(404, 'no_service'), now), { kind: 'reject' });
  const slackOk = (r: { body: unknown }) => (r.body === 'ok' ? null : 'not ok');
  t.match(classifyResponse(res(200, 'ok'), now, slackOk), { kind: 'delivered' });
  t.match(classifyResponse(res(200, 'invalid_token'), now, slackOk), { kind: 'reject', reason: 'HTTP 200: not ok' });
});

t.test('delivery backoff doubles, is capped, jittered ±20%, stops after the attempts, and Retry-After is a floor', async (t) => {
  const policy = deliveryRetry({ attempts: 7, backoffMs: 1000, maxBackoffMs: 8000 });
  const delay = (made: number, random: () => number, floorMs = 0) => {
    const v = nextRetry(policy, made, { random, floorMs });
    return v.retry ? v.delayMs : v.why;
  };
  t.same(
    [1, 2, 3, 4, 5, 6].map((a) => delay(a, () => 0.5)),
    [1000, 2000, 4000, 8000, 8000, 8000],
  );
  t.equal(
    delay(7, () => 0.5),
    'attempts',
    'the 7th failure is the last attempt',
  );
  t.equal(
    delay(1, () => 0),
    800,
  );
  t.equal(
    delay(1, () => 1),
    1200,
  );
  t.equal(
    delay(1, () => 0, 30_000),
    30_000,
    'Retry-After is a floor',
  );
});

t.test('redaction covers raw, URL-encoded and URL-path forms', async (t) => {
  const r = createRedactor(['https://hooks.slack.com/services/T1/B2/abcdef', 'key+with/slash', 'abc', undefined]);
  t.equal(r('POST https://hooks.slack.com/services/T1/B2/abcdef: ECONNREFUSED'), 'POST [redacted]: ECONNREFUSED');
  t.equal(r('at /services/T1/B2/abcdef'), 'at [redacted]');
  t.equal(r('k=key%2Bwith%2Fslash and key+with/slash'), 'k=[redacted] and [redacted]');
  t.equal(r('abc is too short to matter'), 'abc is too short to matter');
});

import t from 'tap';
import { createHmac } from 'node:crypto';
import { verifySlackSignature } from '../../src/escalation/slack-signature.ts';
import { createTargets } from '../../src/escalation/targets/index.ts';

// Slack's v0 request signature (docs/contracts.md §5.3), with the signature computed here independently.
const SECRET = 'e3b1c0ffee5a1gn1ngs3cr3t0000001';
const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U0BOB00001' } }))}`;
const now = Date.parse('2026-03-01T12:00:00Z');
const sign = (secret: string, ts: number | string, raw = body) =>
  `v0=${createHmac('sha256', secret).update(`v0:${ts}:${raw}`).digest('hex')}`;
const at = (offsetS: number) => Math.floor(now / 1000) + offsetS;
const check = (signature: string | undefined, timestamp: string | undefined, secrets = [SECRET], raw = body) =>
  verifySlackSignature({ secrets, timestamp, signature, rawBody: raw, nowMs: now });

t.test('a signature over v0:{timestamp}:{raw body} within 5 minutes verifies', async (t) => {
  t.same(check(sign(SECRET, at(0)), String(at(0))), { ok: true, index: 0 });
  t.same(check(sign(SECRET, at(-300)), String(at(-300))), { ok: true, index: 0 }, '300 s old is still inside the window');
  t.same(check(sign(SECRET, at(300)), String(at(300))), { ok: true, index: 0 }, 'so is 300 s ahead (clock skew)');
  t.same(
    check(sign('second-app-secret-000', at(0)), String(at(0)), [SECRET, 'second-app-secret-000']),
    { ok: true, index: 1 },
    'the app whose secret signed it',
  );
});

t.test('anything else is refused, saying why for the log', async (t) => {
  const cases: Array<[string, ReturnType<typeof check>]> = [
    ['301 s old (a replay)', check(sign(SECRET, at(-301)), String(at(-301)))],
    ['301 s ahead', check(sign(SECRET, at(301)), String(at(301)))],
    ['no timestamp', check(sign(SECRET, at(0)), undefined)],
    ['a timestamp that is not a number', check(sign(SECRET, 'soon'), 'soon')],
    ['no signature', check(undefined, String(at(0)))],
    ['another version', check(sign(SECRET, at(0)).replace('v0=', 'v1='), String(at(0)))],
    ['another secret', check(sign('not-the-secret-00000', at(0)), String(at(0)))],
    ['the body changed', check(sign(SECRET, at(0)), String(at(0)), [SECRET], `${body}x`)],
    ['the timestamp changed', check(sign(SECRET, at(0)), String(at(1)))],
    ['a truncated signature', check(sign(SECRET, at(0)).slice(0, -2), String(at(0)))],
    ['no secret configured', check(sign(SECRET, at(0)), String(at(0)), [])],
  ];
  for (const [what, result] of cases) {
    t.equal(result.ok, false, what);
    if (!result.ok) t.notMatch(result.reason, SECRET, `${what}: the reason holds no secret`);
  }
});

t.test("a slack-app target reads its token from the environment and needs the escalator's Redis", async (t) => {
  t.throws(() => createTargets({ team: { type: 'slack-app', token: 'env:SLACK_BOT_TOKEN', channel: 'C1' } }, {}, {}), {
    code: 'REM_ERR_CONFIG_INVALID',
    message: /slack-app target needs the escalator's Redis/,
  });
  t.throws(
    () => createTargets({ team: { type: 'slack-app', token: 'env:SLACK_BOT_TOKEN', channel: 'C1' } }, {}, { threads: {} as never }),
    { code: 'REM_ERR_CONFIG_INVALID', message: 'escalation.targets.team.token: environment variable SLACK_BOT_TOKEN is not set' },
  );
  const target = createTargets(
    { team: { type: 'slack-app', token: 'env:SLACK_BOT_TOKEN', channel: 'C1' } },
    { SLACK_BOT_TOKEN: 'xoxb-from-env-0001' },
    { threads: {} as never },
  ).get('team')!;
  t.same([target.type, target.role, target.secrets], ['slack-app', 'notify', ['xoxb-from-env-0001']]);
  t.notMatch(target.rateLimit!.key, 'xoxb', 'the rate-limit key is a hash, not the token');
});

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { DurableEscalator } from '../../src/escalation/durable-escalator.ts';
import { escalatorDeps } from '../support/escalator-deps.ts';
import { redisForTest } from '../support/redis.ts';
import { slackApiReceiver } from '../support/slack-api-receiver.ts';
import { serviceDownReport } from './report-fixture.ts';

// The slack-app target through the real escalator (Redis chains, delivery worker) against the local Slack Web API:
// one message per incident kept up to date with chat.update, rung updates and the recovery as thread replies.

const redis = await redisForTest();
const TOKEN = `xoxb-${randomBytes(12).toString('hex')}`;
const rx = await slackApiReceiver(TOKEN);
let prefixes = 0;

async function escalator(tt: { teardown(fn: () => unknown): void }, token = TOKEN) {
  const e = await DurableEscalator.start(
    escalatorDeps(redis.url, {
      targets: { team: { type: 'slack-app', token, channel: 'C0INCIDENTS', apiUrl: rx.apiUrl } },
      delivery: { backoff: '50ms', attempts: 4, prefix: `s${++prefixes}` },
    }),
  );
  tt.teardown(() => e.close());
  return e;
}

/** The incident's top-level messages: the context block names the episode. */
const parentOf = (episodeKey: string) =>
  [...rx.messages.values()].filter((m) => !m.threadTs && JSON.stringify(m.blocks).includes(`episode ${episodeKey}`));

t.test('one message per incident: posted once, edited to show the state, rung updates and the recovery in its thread', async (t) => {
  const e = await escalator(t);
  const report = serviceDownReport();
  await e.trigger(report, { targets: ['team'] });
  const parent = await rx.waitFor(() => parentOf(report.episodeKey)[0], 5000, 'the incident message');
  t.match(parent.text, /^🚨 \[CRITICAL\] ServiceDown on ai-ninja\/Deployment\/phone-gateway/);
  t.same(buttons(parent.blocks), [], 'no approval, no buttons');

  const rolled = serviceDownReport({
    ...report,
    rungs: report.rungs.map((r) => (r.name === 'rollback' ? { ...r, outcome: 'failed', reason: 'previous revision also crashes' } : r)),
  });
  await e.update(rolled, 'rung rollback ended: failed');
  await e.trigger(rolled, { targets: ['team'], note: 'escalated again' });
  await e.resolve({ ...rolled, status: 'recovered' });
  await rx.waitFor(() => rx.replies(parent.ts).length >= 3, 5000, 'three thread replies');
  t.same(
    rx.replies(parent.ts).map((r) => r.text),
    ['rung rollback ended: failed', 'escalated again', '✅ Recovered'],
    'the thread tells the story in order',
  );
  t.equal(parentOf(report.episodeKey).length, 1, 'still one message');
  t.ok(parent.versions.length >= 4, 'the message was edited for every event');
  t.match(parent.versions[1]!.text, /- \[X\] rollback — failed: previous revision also crashes/, 'the edit shows the ladder now');
  t.match(parent.text, /^✅ .* recovered/, 'and ends recovered');
  const calls = rx.calls.filter((c) => c.body?.channel === 'C0INCIDENTS');
  t.ok(
    calls.every((c) => c.headers.authorization === `Bearer ${TOKEN}`),
    'every call with the bot token',
  );
  t.ok(
    calls.filter((c) => c.method === 'chat.update').every((c) => c.body.ts === parent.ts),
    'edits address the parent',
  );
  t.same(rx.problems(), []);
});

t.test('a message deleted in Slack starts a new one; a 429 is retried; a refusal goes to the dead letter without the token', async (t) => {
  const e = await escalator(t);
  const report = serviceDownReport();
  await e.trigger(report, { targets: ['team'] });
  const first = await rx.waitFor(() => parentOf(report.episodeKey)[0], 5000, 'the incident message');
  rx.messages.delete(first.ts);
  rx.respondNext({ status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } });
  const before = rx.calls.length;
  await e.update(report, 'after the deletion');
  const second = await rx.waitFor(() => parentOf(report.episodeKey)[0], 10_000, 'a new incident message');
  t.not(second.ts, first.ts, 'a new message');
  await rx.waitFor(() => rx.replies(second.ts).some((r) => r.text === 'after the deletion'), 5000, 'the reply under it');
  const retried = rx.calls.slice(before);
  t.equal(retried[0]!.answer.error, 'scripted 429');
  t.equal(retried[1]!.answer.error, 'message_not_found', 'the retry found the message gone');

  const bad = `xoxb-${randomBytes(12).toString('hex')}`;
  const refused = await escalator(t, bad);
  await refused.trigger(serviceDownReport(), { targets: ['team'] });
  let letters = await refused.deadLetters();
  const deadline = Date.now() + 5000;
  while (letters.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    letters = await refused.deadLetters();
  }
  t.equal(letters.length, 1, 'invalid_auth is not retried');
  t.match(letters[0]!.error, /invalid_auth/);
  t.notOk(JSON.stringify(letters).includes(bad), 'the dead letter never holds the token');
});

function buttons(blocks: any[]): any[] {
  return blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements)
    .filter((e: any) => e.action_id);
}

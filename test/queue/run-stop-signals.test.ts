import t from 'tap';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { RunStopSignals } from '../../src/queue/run-stop-signals.ts';
import { RunStopped, stopOf } from '../../src/engine/run-stopped.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { redisForTest } from '../support/redis.ts';

// The stop announcements on a real Redis: a watched run's signal aborts with who stopped it; a stop announced while
// the subscriber is not yet subscribed, or away (its connection cut), is still heard, because a subscriber that
// (re)subscribes reads the request of every run it watches.
const redis = await redisForTest();
const channel = `t${Math.random().toString(36).slice(2, 8)}:run-stops`;
const cancels = new Map<string, { by: string; reason: string }>();
const publisher = new Redis(redis.url);
t.teardown(() => publisher.disconnect());
let subscriber: Redis | undefined;
const signals = new RunStopSignals({
  channel,
  // Reconnects after 300 ms: long enough that a stop announced as the connection drops finds nobody subscribed.
  connect: () => {
    subscriber = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 300 });
    return subscriber;
  },
  readCancel: async (runId) => cancels.get(runId),
  log: silentLogger(),
});
t.teardown(() => signals.close());

/** What RunStore.requestCancel does: the request is written, then announced. Answers how many subscribers heard it. */
async function cancel(runId: string, by: string, reason: string): Promise<number> {
  cancels.set(runId, { by, reason });
  return publisher.publish(channel, runId);
}

/** Resolves once the signal is aborted (at once if it already is: the announcement may beat the publish's reply). */
function aborted(signal: AbortSignal): Promise<unknown> {
  return signal.aborted ? Promise.resolve() : once(signal, 'abort');
}

t.test('a run watched before the subscription is in place hears a stop announced meanwhile', async (t) => {
  const early = signals.watch('run-early');
  await cancel('run-early', 'alice', 'announced before anyone listened');
  await signals.start();
  await aborted(early.signal);
  t.ok(early.signal.reason instanceof RunStopped);
  t.same(stopOf(early.signal), { by: 'alice', reason: 'announced before anyone listened' });
  early.release();
});

t.test('a stop announced for a watched run aborts its signal; other runs are left alone', async (t) => {
  const a = signals.watch('run-a');
  const b = signals.watch('run-b');
  await cancel('run-a', 'Dana Oncall', 'acknowledged in PagerDuty');
  await aborted(a.signal);
  t.same(stopOf(a.signal), { by: 'Dana Oncall', reason: 'acknowledged in PagerDuty' });
  t.notOk(b.signal.aborted, 'another run goes on');
  // An announcement without a stored request (a stale hint) aborts nothing.
  await publisher.publish(channel, 'run-b');
  const c = signals.watch('run-c');
  await cancel('run-c', 'bob', 'ordering marker');
  await aborted(c.signal);
  t.notOk(b.signal.aborted, 'a hint with no cancel request behind it changes nothing');
  for (const w of [a, b, c]) w.release();
});

t.test('a stop announced while the subscriber is cut off is heard once it is back', async (t) => {
  const w = signals.watch('run-away');
  const away = once(subscriber!, 'reconnecting');
  t.equal(await publisher.call('CLIENT', 'KILL', 'TYPE', 'pubsub'), 1, 'the subscriber is cut off');
  await away;
  // The announcement passes it by while it waits to reconnect; the request is in the store.
  const heard = await cancel('run-away', 'carol', 'resolved in Opsgenie');
  t.comment(heard === 0 ? 'the announcement reached nobody' : 'the subscriber was back before the announcement');
  await aborted(w.signal);
  t.same(stopOf(w.signal), { by: 'carol', reason: 'resolved in Opsgenie' });
  w.release();
});

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { DurableEscalator } from '../../src/escalation/durable-escalator.ts';
import { redisForTest } from '../support/redis.ts';
import { serviceDownReport } from './report-fixture.ts';

// Its own process: an escalator that loses Redis must still close (see the escalation notes on shutdown).
const secrets = { routingKey: randomBytes(16).toString('hex') };
// Known gap: close() returns, but BullMQ leaves a timer behind when Redis vanished mid-run, so the process does not
// exit by itself and the file times out. Skipped until the escalator owns its BullMQ connections end to end.
t.test('Redis gone after start: trigger fails fast with REM_ERR_STORE_UNAVAILABLE and close still returns', { skip: 'escalator shutdown leaves a BullMQ timer when Redis is gone (known gap)' }, async (t) => {
  const own = await redisForTest();
  const e = await DurableEscalator.start({ redisUrl: own.url, config: { targets: { pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: 'http://127.0.0.1:9/v2/enqueue' } }, delivery: { timeout: '500ms' } } });
  await own.kill(true);
  const started = Date.now();
  await t.rejects(e.trigger(serviceDownReport(), { targets: ['pd'] }), { code: 'REM_ERR_STORE_UNAVAILABLE' });
  t.ok(Date.now() - started < 3000, `refused in ${Date.now() - started} ms`);
  const closing = Date.now();
  await e.close();
  t.ok(Date.now() - closing < 8000, `closed in ${Date.now() - closing} ms`);
});

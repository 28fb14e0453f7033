import t from 'tap';
import { randomBytes } from 'node:crypto';
import { DurableEscalator } from '../../src/escalation/durable-escalator.ts';
import { redisForTest } from '../support/redis.ts';
import { serviceDownReport } from './report-fixture.ts';
import { escalatorDeps } from '../support/escalator-deps.ts';

// Its own process: what is left running after close is measured with process.getActiveResourcesInfo().
const secrets = { routingKey: randomBytes(16).toString('hex') };

/** Timers and sockets of this process, minus the test runner's own (its IPC pipe and a pending timeout). */
function handles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPWrap' || r === 'TCPSocketWrap');
}

for (const waitAfterKillMs of [0, 2500]) {
  t.test(
    `Redis gone ${waitAfterKillMs} ms after start: trigger fails fast with REM_ERR_STORE_UNAVAILABLE, close returns and leaves nothing running`,
    async (t) => {
      const own = await redisForTest();
      const before = handles().length;
      const e = await DurableEscalator.start(
        escalatorDeps(own.url, {
          targets: { pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: 'http://127.0.0.1:9/v2/enqueue' } },
          delivery: { timeout: '500ms' },
        }),
      );
      await own.kill(true);
      // Later the clients back off for seconds between reconnect attempts: the case BullMQ alone never closes.
      await new Promise((resolve) => setTimeout(resolve, waitAfterKillMs));
      const started = Date.now();
      await t.rejects(e.trigger(serviceDownReport(), { targets: ['pd'] }), { code: 'REM_ERR_STORE_UNAVAILABLE' });
      t.ok(Date.now() - started < 3000, `refused in ${Date.now() - started} ms`);
      const closing = Date.now();
      await e.close();
      t.ok(Date.now() - closing < 2000, `closed in ${Date.now() - closing} ms`);
      // ioredis ends a closed socket with a short guard timer; after that nothing the escalator started may remain.
      const deadline = Date.now() + 3000;
      while (handles().length > before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      t.ok(
        handles().length <= before,
        `no timer or socket left behind (before: ${before}, now: ${process.getActiveResourcesInfo().join(', ')})`,
      );
    },
  );
}

t.test('the whole service (receiver, run worker, escalator) closes with Redis gone and leaves nothing running', async (t) => {
  const { startTestService } = await import('../support/harness.ts');
  const own = await redisForTest();
  const before = handles().length;
  const { service } = await startTestService({
    redis: own,
    playbooks: {},
    overrides: (c) => {
      c.escalation = { targets: { pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: 'http://127.0.0.1:9/v2/enqueue' } } };
    },
  });
  await own.kill(true);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const closing = Date.now();
  await service.close();
  // The worker's shutdown grace is 2 s in the harness; nothing is in flight, so close must not need it.
  t.ok(Date.now() - closing < 2000, `closed in ${Date.now() - closing} ms`);
  const deadline = Date.now() + 3000;
  while (handles().length > before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(
    handles().length <= before,
    `no timer or socket left behind (before: ${before}, now: ${process.getActiveResourcesInfo().join(', ')})`,
  );
});

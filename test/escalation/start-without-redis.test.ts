import t from 'tap';
import { DurableEscalator } from '../../src/escalation/durable-escalator.ts';

// Kept in its own process: after this failed start, a later escalator in the same process that loses Redis
// leaves a BullMQ timer behind (a known shutdown gap, see the escalation notes).
t.test('start fails fast with REM_ERR_STORE_UNAVAILABLE when Redis is not there', async (t) => {
  const { freePort } = await import('../../src/dev/free-port.ts');
  const started = Date.now();
  await t.rejects(DurableEscalator.start({ redisUrl: `redis://127.0.0.1:${await freePort()}`, config: { targets: {} }, startTimeoutMs: 500 }), { code: 'REM_ERR_STORE_UNAVAILABLE' });
  t.ok(Date.now() - started < 3000, 'within its start timeout');
});


import t from 'tap';
import { DurableEscalator } from '../../src/escalation/durable-escalator.ts';
import { escalatorDeps } from '../support/escalator-deps.ts';

// Its own process: the file ending on its own shows that a failed start leaves no connection or timer behind.
t.test('start fails fast with REM_ERR_STORE_UNAVAILABLE when Redis is not there', async (t) => {
  const { freePort } = await import('../../src/dev/free-port.ts');
  // It gives up because of its start timeout (the error says so), not after some measured time.
  await t.rejects(
    DurableEscalator.start({ ...escalatorDeps(`redis://127.0.0.1:${await freePort()}`, { targets: {} }), startTimeoutMs: 500 }),
    { code: 'REM_ERR_STORE_UNAVAILABLE', message: /no answer within 500 ms/ },
  );
});

import t from 'tap';
import { once } from 'node:events';
import { spawnRedis } from '../../src/dev/redis-process.ts';
import { redisConnector } from '../../src/store/redis-connection.ts';
import { BullmqRunQueue } from '../../src/queue/bullmq-run-queue.ts';
import { RunWakes } from '../../src/queue/run-wakes.ts';
import { Keys } from '../../src/store/keys.ts';

// Redis stalls for longer than the command timeout while a receiver starts (a busy or failing-over Redis, a starved
// machine). The first webhooks get 503 and Alertmanager retries them; once Redis answers again the runs must queue.
// BullMQ's producer used to check the Redis version (INFO) once at construction and keep that failure forever, so
// every later enqueue failed at once with "Command timed out": a receiver that 503s until it is restarted.

const redis = await spawnRedis();
t.teardown(() => redis.stop());

t.test('a run queue built while Redis stalls queues runs once Redis answers', async (t) => {
  const connector = redisConnector({ url: redis.url });
  const connection = connector.command('200ms');
  t.teardown(() => connection.disconnect());
  if (connection.status !== 'ready') await once(connection, 'ready');
  redis.freeze();
  const queue = new BullmqRunQueue({ connection, prefix: 'stall', name: 'runs', wakes: new RunWakes(connection, new Keys('stall')) });
  t.teardown(() => queue.close());
  // Commands run in order: this enqueue times out after anything the queue sent while it was being built.
  await t.rejects(queue.enqueue('run-during-stall'), { code: 'REM_ERR_STORE_UNAVAILABLE' }, 'a stalled Redis is a 503');
  redis.thaw();
  await queue.enqueue('run-after-stall');
  await queue.enqueueMany(['run-a', 'run-b']);
  // The timed-out enqueue was still sent, so Redis may run it once it goes on; a job id per run makes that harmless.
  const queued = new Set((await queue.queue.getJobs(['waiting'])).map((j) => j.id));
  t.same(
    ['run-after-stall', 'run-a', 'run-b'].filter((id) => !queued.has(id)),
    [],
    'the runs are queued',
  );
});

import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { spawnRedisSentinel } from '../../src/dev/redis-ha.ts';

// A service on Redis Sentinel that closes leaves nothing that keeps its process alive, even once the sentinels go.
// ioredis's failover detector subscribes to every sentinel per connection; BullMQ closes its connections with QUIT,
// which leaves those subscriptions open (redis/ioredis#1362), and ioredis re-subscribes to a sentinel that went
// every minute, forever. A suite's test file then hung after its last test until tap killed it.
const ha = await spawnRedisSentinel({ replicas: 1, sentinels: 3 });
t.teardown(() => ha.stop());

t.test('after close, the process exits on its own, also once the sentinels are gone', async (t) => {
  const fixture = fileURLToPath(new URL('./fixtures/close-on-sentinel.ts', import.meta.url));
  const child = spawn(process.execPath, [fixture, JSON.stringify(ha.settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes('closed\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the service exited before it closed (code ${code}): ${out}`)));
  });
  // The sentinels stop while the closed service's process is still winding down: a subscription still open would now
  // wait to reconnect, and hold the process.
  await ha.stop();
  const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code, signal] = await exited;
  clearTimeout(deadline);
  t.equal(signal, null, 'not killed: it exited by itself');
  t.equal(code, 0);
});

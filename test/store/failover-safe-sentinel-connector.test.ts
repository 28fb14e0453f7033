import t from 'tap';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { spawnRedisSentinel } from '../../src/dev/redis-ha.ts';
import { FailoverSafeSentinelConnector } from '../../src/store/failover-safe-sentinel-connector.ts';

// A Sentinel failover announced while a client is reconnecting. ioredis 6.0 keeps the `+switch-master` watch of the
// connection that closed until the next one connects; when the announcement reaches it in the middle of the reconnect,
// the reconnect is cut off and the client ends for good (a BullMQ worker on it stopped taking jobs). The test holds the
// reconnect at the sentinel (a proxy that parks new connections) while the sentinel fails over, then lets it go.
const ha = await spawnRedisSentinel({ replicas: 1, sentinels: 1 });
t.teardown(() => ha.stop());
const sentinel = ha.settings.sentinel.sentinels[0]!;

/** A TCP proxy to the sentinel whose new connections can be parked (connections already open keep flowing). */
async function sentinelProxy() {
  let parked: Socket[] | undefined;
  const open = new Set<Socket>();
  const forward = (down: Socket) => {
    const up = createConnection(sentinel.port, sentinel.host);
    down.pipe(up).pipe(down);
    for (const s of [up, down]) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        up.destroy();
        down.destroy();
      });
    }
  };
  const server = createServer((down) => (parked ? parked.push(down) : forward(down)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    park: () => (parked = []),
    parkedCount: () => parked?.length ?? 0,
    release: () => {
      const held = parked ?? [];
      parked = undefined;
      for (const d of held) forward(d);
    },
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The connector's state this test is about (private in ioredis's types). */
interface ConnectorState {
  connecting: boolean;
  failoverDetector: unknown;
  emitter: unknown;
}

t.test('a failover announced during a reconnect does not end the client (it does with the connector ioredis ships)', async (t) => {
  const proxy = await sentinelProxy();
  t.teardown(() => proxy.close());
  const client = new Redis({
    sentinels: [{ host: '127.0.0.1', port: proxy.port }],
    name: ha.masterName,
    failoverDetector: true,
    Connector: FailoverSafeSentinelConnector,
    retryStrategy: () => 50,
    sentinelRetryStrategy: () => 50,
  });
  client.on('error', () => undefined);
  t.teardown(() => client.disconnect());
  const connector = (client as unknown as { connector: ConnectorState }).connector;
  // ioredis sets this for its own connector; its "failoverSubscribed" event is how one knows the watch is on.
  connector.emitter = client;
  await Promise.all([once(client, 'ready'), once(client, 'failoverSubscribed')]);
  const before = await ha.masterPort();

  // The client's connection to the master breaks; its reconnect asks the sentinel, and is held there.
  proxy.park();
  const id = (await client.client('ID')) as number;
  const admin = new Redis({ host: '127.0.0.1', port: before, lazyConnect: true });
  t.teardown(() => admin.disconnect());
  await admin.client('KILL', 'ID', String(id));
  while (proxy.parkedCount() === 0) await new Promise((r) => setTimeout(r, 10));

  // The sentinel fails over and announces it on the watch still open from the closed connection (if any).
  const watch = new Redis({ host: sentinel.host, port: sentinel.port });
  t.teardown(() => watch.disconnect());
  await watch.subscribe('+switch-master');
  const announced = once(watch, 'message');
  const ask = new Redis({ host: sentinel.host, port: sentinel.port });
  t.teardown(() => ask.disconnect());
  await ask.call('SENTINEL', 'FAILOVER', ha.masterName);
  await announced;
  // Either no watch is left (this connector dropped it when the reconnect began), or the announcement reached it.
  while (connector.failoverDetector !== null && connector.connecting) await new Promise((r) => setTimeout(r, 10));

  proxy.release();
  const after = await ha.masterPort();
  t.not(after, before, `the sentinel promoted the replica (${before} → ${after})`);
  const reply = await Promise.race([
    client.call('ROLE'),
    once(client, 'end').then(() => {
      throw new Error('the client ended: it will never connect again');
    }),
  ]);
  t.equal((reply as unknown[])[0], 'master', 'the client works again, on a master');
  t.equal(client.status, 'ready');
});

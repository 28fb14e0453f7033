import t from 'tap';
import { createServer } from 'node:http';

/**
 * A health endpoint on a free loopback port that a test turns healthy (200 "ok") or not (503 "down"); closed when the
 * test file ends.
 */
export async function healthServer(initially = false): Promise<{ url: string; set(healthy: boolean): void }> {
  let healthy = initially;
  const server = createServer((_req, res) => {
    res.statusCode = healthy ? 200 : 503;
    res.end(healthy ? 'ok' : 'down');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/health`, set: (h) => (healthy = h) };
}

import { createServer } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The stand-in service as a child process (spawned by `spawnStandIn`, never run by hand): a tiny HTTP server on
 * 127.0.0.1 with `/health` and `/metrics`, playing one pod of a simulated Deployment.
 *
 * Environment: `STAND_IN_IMAGE` (the pod's image), `STAND_IN_POD` (the pod's name), `STAND_IN_MODE` (`good` or
 * `bad`), `STAND_IN_REASON` (why a bad one fails). A good revision answers `/health` 200 and serves its metrics; a bad revision (a broken build) answers 503
 * on both, so its readiness probe fails and a Prometheus scrape of it fails.
 *
 * It listens on a port the OS picks and reports `{ port }` over the IPC channel, so there is no port race. It exits
 * when the parent goes away (IPC disconnect) or on SIGTERM, so no stand-in outlives the test or demo that made it.
 */
const image = process.env.STAND_IN_IMAGE ?? 'unknown';
const pod = process.env.STAND_IN_POD ?? 'unknown';
let good = process.env.STAND_IN_MODE !== 'bad';
let why = process.env.STAND_IN_REASON || 'bad revision: the service cannot start its call handler';
// The parent can break or heal a running process (a dependency going down and coming back): `{ mode, reason }`.
process.on('message', (m: { mode?: string; reason?: string }) => {
  if (m?.mode === 'good' || m?.mode === 'bad') good = m.mode === 'good';
  if (typeof m?.reason === 'string') why = m.reason;
});

const registry = new Registry();
registry.setDefaultLabels({ pod });
new Gauge({ name: 'stand_in_build_info', help: 'The image this process plays.', labelNames: ['image'], registers: [registry] }).set(
  { image },
  1,
);
const requests = new Counter({
  name: 'stand_in_http_requests_total',
  help: 'Requests served, by path and code.',
  labelNames: ['path', 'code'],
  registers: [registry],
});
const startedAt = Date.now();

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const answer = (code: number, type: string, body: string): void => {
    requests.inc({ path, code: String(code) });
    res.writeHead(code, { 'content-type': type, connection: 'close' }).end(body);
  };
  if (path === '/health') {
    if (good) answer(200, 'application/json', JSON.stringify({ status: 'ok', image, pod, uptimeMs: Date.now() - startedAt }));
    else answer(503, 'application/json', JSON.stringify({ status: 'failing', image, pod, reason: why }));
  } else if (path === '/metrics') {
    if (!good) return answer(503, 'text/plain', `${why}\n`);
    registry.metrics().then(
      (text) => answer(200, registry.contentType, text),
      (err: unknown) => answer(500, 'text/plain', String(err)),
    );
  } else {
    answer(404, 'text/plain', 'not found\n');
  }
});

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send?.({ port: typeof addr === 'object' && addr ? addr.port : 0 });
});
const bye = (): void => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('disconnect', bye);
process.on('SIGTERM', bye);

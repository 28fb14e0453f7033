import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from '../free-port.ts';

export interface ServiceProxyOptions {
  /** Names the Service in answers and errors. */
  name: string;
  /** The ports of the Service's current endpoints (Ready pods), asked on every request. */
  endpoints: () => number[];
  /** Per-request timeout towards an endpoint. Default 2 s. */
  timeoutMs?: number;
}

export interface ServiceProxy {
  /** `http://127.0.0.1:PORT`: the stable address of the Service (what Prometheus scrapes and health checks call). */
  readonly url: string;
  readonly port: number;
  /** Closes the listener and every open connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * A Kubernetes Service on loopback: one stable address that forwards each request to an endpoint (a Ready pod's
 * process), trying the next when one refuses the connection, the way traffic reaches whatever pods are Ready.
 * With no endpoint that answers it replies 503 `no endpoints available for service "<name>"` — so a scrape fails
 * and Prometheus records `up == 0`. Request bodies are not forwarded (health checks and scrapes are GETs).
 */
export async function startServiceProxy(options: ServiceProxyOptions): Promise<ServiceProxy> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => void forward(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    for (const port of options.endpoints()) {
      const upstream = await attempt(port, req);
      if (!upstream) continue;
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
      return;
    }
    res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' }).end(`no endpoints available for service "${options.name}"\n`);
  }

  /** The endpoint's response, or undefined when it did not answer (refused, reset, timed out). */
  function attempt(port: number, req: IncomingMessage): Promise<IncomingMessage | undefined> {
    return new Promise((resolve) => {
      const headers = { ...req.headers, host: `127.0.0.1:${port}`, connection: 'close' };
      const out = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers, timeout: timeoutMs, agent: false }, resolve);
      out.once('timeout', () => out.destroy(new Error('timeout')));
      out.once('error', () => resolve(undefined));
      out.end();
    });
  }

  for (let tries = 1; ; tries++) {
    const port = await freePort();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      let closed: Promise<void> | undefined;
      return {
        url: `http://127.0.0.1:${port}`,
        port,
        close() {
          closed ??= new Promise<void>((resolve) => {
            server.close(() => resolve());
            for (const s of sockets) s.destroy();
          });
          return closed;
        },
      };
    } catch (err) {
      // Another process took the port between freePort() and listen(): try a new one.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 3) throw err;
    }
  }
}

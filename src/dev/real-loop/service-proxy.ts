import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../listen-loopback.ts';

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
  const server = createServer((req, res) => void forward(req, res));

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
      const out = request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers, timeout: timeoutMs, agent: false },
        resolve,
      );
      out.once('timeout', () => out.destroy(new Error('timeout')));
      out.once('error', () => resolve(undefined));
      out.end();
    });
  }

  const listener = await listenOnLoopback(server);
  return { url: listener.url, port: listener.port, close: listener.close };
}

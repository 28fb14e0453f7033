import { createServer } from 'node:http';
import { listenOnLoopback } from '../listen-loopback.ts';
import type { ServiceFleet } from './service-fleet.ts';

export interface UpQueryStandIn {
  /** Base URL, to configure as remediator's `prometheus.url`. */
  url: string;
  close(): Promise<void>;
}

const UP = /^\s*up\s*\{([^}]*)\}\s*$/;
const MATCHER = /([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"/g;

/**
 * For the demo when Prometheus is not installed, and only for it: Prometheus's instant-query API
 * (`GET|POST /api/v1/query`) answering the one expression a fleet can answer, `up{job="<svc>",namespace="<ns>"}`
 * (equality matchers), by scraping that service's `/metrics` through its Service address at query time — 1 when it
 * answers 2xx within a second, else 0. Every other expression (e.g. `pg_up{…}`) has no series. It is not
 * Prometheus: no time series, no PromQL, no rules; the demo says so when it uses it.
 */
export async function startUpQueryStandIn(fleet: ServiceFleet): Promise<UpQueryStandIn> {
  const answer = async (query: string): Promise<unknown[]> => {
    const m = UP.exec(query);
    if (!m) return [];
    const want = Object.fromEntries([...m[1]!.matchAll(MATCHER)].map((x) => [x[1]!, x[2]!]));
    const svc = fleet.services().find((s) => s.job === want.job && (want.namespace === undefined || s.ref.namespace === want.namespace));
    if (!svc) return [];
    let up = 0;
    try {
      const res = await fetch(`${svc.url}/metrics`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      up = res.ok ? 1 : 0;
    } catch {
      up = 0;
    }
    const metric = {
      __name__: 'up',
      job: svc.job,
      namespace: svc.ref.namespace,
      instance: svc.instance,
      deployment: svc.ref.name,
      service: svc.ref.name,
    };
    return [{ metric, value: [Date.now() / 1000, String(up)] }];
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/-/ready') return void res.writeHead(200).end('ready\n');
      if (url.pathname !== '/api/v1/query') return void res.writeHead(404).end();
      const query = new URLSearchParams(raw).get('query') ?? url.searchParams.get('query') ?? '';
      answer(query).then(
        (result) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } })),
        (err: unknown) =>
          res
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ status: 'error', errorType: 'internal', error: String(err) })),
      );
    });
  });
  const listener = await listenOnLoopback(server);
  return { url: listener.url, close: listener.close };
}

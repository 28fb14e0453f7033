import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../dev/listen-loopback.ts';
import type { ScriptedWorld } from './scripted-world.ts';

/**
 * The scripted world on one loopback port, speaking the real wire protocols so the engine's own clients are what
 * gets tested:
 * - `<url>/prometheus`: Prometheus `/api/v1/query` (GET or form POST), answering instant vectors;
 * - `<url>/alertmanager`: Alertmanager `GET /api/v2/alerts` with its `filter` matchers;
 * (`http.check`/`http.request` calls to service URLs are answered by ScriptedHttpClient, the engine's HTTP port.)
 * Calls nothing answers get an error the engine treats as final where it can (Prometheus `bad_data`, Alertmanager
 * 400), so a case with a missing answer ends quickly instead of polling to its timeout.
 */
export interface WorldServer {
  url: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  close(): Promise<void>;
}

export interface WorldServerOptions {
  /** Who answers, at the start of every refusal the engine logs and records (default `remediator test`). */
  who?: string;
}

export async function startWorldServer(world: () => ScriptedWorld | undefined, options: WorldServerOptions = {}): Promise<WorldServer> {
  const who = options.who ?? 'remediator test';
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => route(world(), who, req, body, res))
      .catch((err: Error) => send(res, 500, 'text/plain', `world server: ${err.message}`));
  });
  const { url, close } = await listenOnLoopback(server);
  return { url, prometheusUrl: `${url}/prometheus`, alertmanagerUrl: `${url}/alertmanager`, close };
}

function route(world: ScriptedWorld | undefined, who: string, req: IncomingMessage, body: string, res: ServerResponse): void {
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  if (!world) {
    send(res, 503, 'text/plain', 'no test case is running');
    return;
  }
  const u = new URL(target, 'http://world');
  if (u.pathname === '/prometheus/api/v1/query') {
    const params = method === 'POST' ? new URLSearchParams(body) : u.searchParams;
    const expr = params.get('query') ?? '';
    const values = world.prometheus(expr);
    if (!values) {
      send(
        res,
        400,
        'application/json',
        JSON.stringify({ status: 'error', errorType: 'bad_data', error: `${who}: no world.prometheus answer for ${expr}` }),
      );
      return;
    }
    const now = Date.now() / 1000;
    const result = values.map((v) => ({ metric: {}, value: [now, String(v)] }));
    send(res, 200, 'application/json', JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    return;
  }
  if (u.pathname === '/alertmanager/api/v2/alerts' && method === 'GET') {
    const alerts = world.alertmanager(u.searchParams.getAll('filter'), `GET /api/v2/alerts ${u.searchParams.getAll('filter').join(', ')}`);
    if (!alerts) {
      send(res, 400, 'application/json', JSON.stringify(`${who}: no world.alertmanager answer`));
      return;
    }
    const listed = alerts.map((a) => ({
      labels: a.labels,
      annotations: a.annotations,
      fingerprint: a.fingerprint,
      startsAt: a.startsAt,
      endsAt: new Date(Date.now() + 5 * 60_000).toISOString(),
      updatedAt: new Date().toISOString(),
      ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
      receivers: [{ name: 'remediator' }],
      status: { state: 'active', silencedBy: [], inhibitedBy: [] },
    }));
    send(res, 200, 'application/json', JSON.stringify(listed));
    return;
  }
  const service = u.pathname.startsWith('/alertmanager') ? 'alertmanager' : 'prometheus';
  world.refuse(service, `${method} ${u.pathname.replace(/^\/(prometheus|alertmanager)/, '')}`);
  send(res, 404, 'text/plain', `${who}: the scripted ${service} does not serve ${u.pathname}`);
}

function send(res: ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, { 'content-type': type });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

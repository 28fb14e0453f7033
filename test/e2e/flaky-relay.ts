import t from 'tap';
import { createServer, type Server } from 'node:http';
import { freePort } from '../../src/dev/free-port.ts';
import { episodeId } from '../../src/alerts/episode.ts';

export interface RelayedDelivery {
  at: number;
  status: string;
  deployments: string[];
  /** The episode of each alert of the delivery (src/alerts/episode.ts: fingerprint and startsAt). */
  episodes: string[];
  /** What the relay answered Alertmanager. */
  answered: number;
}

/**
 * Sits between one Alertmanager and remediator's webhook and forwards every delivery (headers and body as they
 * came), except that it can answer 503 to the next firing delivery for a given Deployment, once. Alertmanager then
 * retries it with backoff (0.3–3 s later): a real re-send of the same episode while the run is in progress.
 */
export class FlakyRelay {
  readonly deliveries: RelayedDelivery[] = [];
  readonly #target: string;
  readonly #failFor = new Set<string>();
  #server: Server | undefined;
  url = '';

  constructor(target: string) {
    this.#target = target;
  }

  /** The next firing delivery that carries this Deployment is answered 503 (then the relay forwards again). */
  failNextFiring(deployment: string): void {
    this.#failFor.add(deployment);
  }

  async start(): Promise<this> {
    const port = await freePort();
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = JSON.parse(raw.toString('utf8')) as {
          status: string;
          alerts: Array<{ status: string; labels: Record<string, string>; fingerprint: string; startsAt: string }>;
        };
        const deployments = body.alerts.map((a) => a.labels.deployment ?? '');
        const episodes = body.alerts.map((a) => episodeId(a.fingerprint, a.startsAt));
        const record = (answered: number) => this.deliveries.push({ at: Date.now(), status: body.status, deployments, episodes, answered });
        const victim = body.status === 'firing' ? deployments.find((d) => this.#failFor.has(d)) : undefined;
        if (victim !== undefined) {
          this.#failFor.delete(victim);
          record(503);
          res.writeHead(503, { 'content-type': 'text/plain' }).end('relay: failing this delivery on purpose\n');
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
        fetch(this.#target, { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(5000) }).then(
          async (up) => {
            record(up.status);
            res
              .writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' })
              .end(Buffer.from(await up.arrayBuffer()));
          },
          () => {
            record(502);
            res.writeHead(502).end();
          },
        );
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${port}/v1/alertmanager`;
    t.teardown(() => this.close());
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server?.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

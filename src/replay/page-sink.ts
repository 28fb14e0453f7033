import { createServer, type Server } from 'node:http';
import { once } from 'node:events';

/** A page the replay's escalation targets would have sent. */
export interface ReplayPage {
  /** Real ms since the epoch it arrived (the replay converts it to an offset). */
  receivedAt: number;
  /** The configured target name it was meant for. */
  target: string;
  /** `remediation.escalated`, `remediation.resolved`, … */
  event?: string;
  level?: string;
  summary?: string;
}

/**
 * A loopback HTTP server standing in for every paging target during a replay: each configured target is rewritten
 * into a signed webhook to `url/<target name>`, so escalations go through the real escalator, severity policy and
 * delivery queue, and land here instead of at PagerDuty, Opsgenie or Slack.
 */
export class PageSink {
  readonly pages: ReplayPage[] = [];
  readonly #server: Server;
  #url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          /* recorded without its fields */
        }
        const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
        this.pages.push({ receivedAt: Date.now(), target: decodeURIComponent((req.url ?? '/').slice(1)), event: str(body['event']), level: str(body['level']), summary: str(body['summary']) });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  get url(): string {
    return this.#url;
  }

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    const addr = this.#server.address();
    this.#url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  /** Resolves once no page arrived for `quietMs`, or after `maxMs` (deliveries run on their own queue). */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const end = Date.now() + maxMs;
    let seen = -1;
    while (Date.now() < end && seen !== this.pages.length) {
      seen = this.pages.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

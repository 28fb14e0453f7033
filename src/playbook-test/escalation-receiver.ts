import { createServer, type Server } from 'node:http';
import { freePort } from '../dev/free-port.ts';

/** One escalation as a test sees it: the level, and which configured target names received it. */
export interface ObservedEscalation {
  level: string;
  targets: string[];
  dedupKey: string;
  summary: string;
}

/**
 * The escalation target of a test run: a loopback receiver of remediator's signed webhook events, one path per
 * target name (`/<name>`). Each `remediation.escalated` event is one page; the same trigger delivered to several
 * targets (same episode, level and note) counts once, with every target that got it. Updates and resolves are
 * kept in `events` but are not pages.
 */
export class EscalationReceiver {
  readonly events: Array<{ target: string; body: Record<string, unknown> }> = [];
  url = '';
  #server: Server | undefined;

  async start(): Promise<this> {
    const port = await freePort();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          this.events.push({ target: decodeURIComponent((req.url ?? '/').slice(1)), body });
          res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  /** The pages, in the order their first delivery arrived. */
  escalations(): ObservedEscalation[] {
    const out = new Map<string, ObservedEscalation>();
    for (const e of this.events) {
      if (e.body['event'] !== 'remediation.escalated') continue;
      const key = `${String(e.body['dedupKey'])}|${String(e.body['level'])}|${String(e.body['note'] ?? '')}`;
      const seen = out.get(key);
      if (seen) {
        if (!seen.targets.includes(e.target)) seen.targets.push(e.target);
        continue;
      }
      out.set(key, { level: String(e.body['level']), targets: [e.target], dedupKey: String(e.body['dedupKey']), summary: String(e.body['summary'] ?? '') });
    }
    return [...out.values()];
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  }
}

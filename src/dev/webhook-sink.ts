import { createServer } from 'node:http';
import { listenOnLoopback } from './listen-loopback.ts';

/** One event remediator's `webhook` escalation target sent (remediation.escalated / updated / resolved). */
export interface SinkEvent {
  /** Real ms since the epoch it arrived. */
  at: number;
  /** The first path segment it was posted to: the sink gives each configured target its own path. */
  target: string;
  /** The JSON body (`{}` when it was not JSON). */
  body: Record<string, unknown>;
}

export interface WebhookSink {
  /** `http://127.0.0.1:PORT`; point a target at `${url}/<name>`. */
  url: string;
  readonly events: SinkEvent[];
  /** Resolves once no event arrived for `quietMs`, or after `maxMs` (deliveries run on their own queue). */
  quiet(quietMs: number, maxMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A loopback receiver standing in for every paging system where nothing may leave the machine (the demo, replays,
 * playbook tests): remediator's targets become signed webhooks to it, so escalations still go through the real
 * escalator, severity policy and delivery queue. It answers 202 to everything and does not check signatures (the
 * escalation tests do, against test/support/paging-receivers.ts).
 */
export async function startWebhookSink(onEvent: (e: SinkEvent) => void = () => {}): Promise<WebhookSink> {
  const events: SinkEvent[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        /* recorded without its fields */
      }
      const e: SinkEvent = { at: Date.now(), target: decodeURIComponent((req.url ?? '/').slice(1).split('/')[0] ?? ''), body };
      events.push(e);
      onEvent(e);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  const listener = await listenOnLoopback(server);
  return {
    url: listener.url,
    events,
    async quiet(quietMs, maxMs) {
      const end = Date.now() + maxMs;
      let seen = -1;
      while (Date.now() < end && seen !== events.length) {
        seen = events.length;
        await new Promise((r) => setTimeout(r, quietMs));
      }
    },
    close: listener.close,
  };
}

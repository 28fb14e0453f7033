import { createServer } from 'node:http';
import { listenOnLoopback } from './listen-loopback.ts';

/** One event remediator's `webhook` escalation target sent (remediation.escalated / updated / resolved). */
export interface PagerEvent {
  at: number;
  event: string;
  summary: string;
  body: Record<string, unknown>;
}

export interface PagerSink {
  /** Where the demo's `webhook` escalation target posts. */
  url: string;
  readonly events: PagerEvent[];
  close(): Promise<void>;
}

/**
 * The demo's pager: a loopback receiver for remediator's signed `webhook` escalation target, so the shipped
 * playbooks (which page) load and a page shows up in the demo's timeline. It accepts every event (200) and hands
 * it to `onEvent`; it does not check the signature (the escalation tests do).
 */
export async function startPagerSink(onEvent: (e: PagerEvent) => void = () => {}): Promise<PagerSink> {
  const events: PagerEvent[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        /* kept as empty */
      }
      const e: PagerEvent = { at: Date.now(), event: String(body['event'] ?? 'event'), summary: String(body['summary'] ?? ''), body };
      events.push(e);
      onEvent(e);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  const listener = await listenOnLoopback(server);
  return { url: `${listener.url}/events`, events, close: listener.close };
}

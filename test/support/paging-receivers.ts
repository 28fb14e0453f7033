import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import t from 'tap';
import { freePort } from '../../src/dev/free-port.ts';

/**
 * Local stand-ins for PagerDuty, Opsgenie, Slack and a webhook consumer, on free loopback ports. Each one VALIDATES
 * what it receives against the provider's documented contract (docs/contracts.md §5: required fields, sizes,
 * severities, auth header or HMAC signature) and answers like the provider does: a valid event gets the provider's
 * success answer, an invalid one its error. Tests can also tell a receiver to answer 400/429 (with Retry-After)/500,
 * to hang, or to be down (port closed) for a while.
 *
 * Every request is kept in `requests` with the problems found in it; `problems()` lists them all, so a test can
 * assert that nothing it sent broke the contract.
 */

export interface ReceivedRequest {
  /** ms since the epoch when the request was complete. */
  at: number;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  raw: string;
  body: unknown;
  /** Contract violations found in this request (empty when valid). */
  problems: string[];
  /** The status answered, or 'hang'. */
  answered: number | 'hang';
}

/** What to answer instead of the provider's normal behaviour. */
export type Scripted = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

abstract class PagingReceiver {
  readonly requests: ReceivedRequest[] = [];
  port = 0;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #hung: ServerResponse[] = [];
  #script: Scripted[] = [];
  #always: Scripted | undefined;

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Answers the next requests with these, in order, then behaves normally again. */
  respondNext(...answers: Scripted[]): void {
    this.#script.push(...answers);
  }

  /** Answers every request with this until `always(undefined)`. */
  always(answer: Scripted | undefined): void {
    this.#always = answer;
  }

  /** All contract violations seen so far. */
  problems(): string[] {
    return this.requests.flatMap((r) => r.problems.map((p) => `${r.method} ${r.path}: ${p}`));
  }

  async start(port?: number): Promise<this> {
    this.port = port ?? this.port ?? 0;
    if (this.port === 0) this.port = await freePort();
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    return this;
  }

  /** Closes the port (connections refused) until `up()`. Requests in flight are cut. */
  async down(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    for (const res of this.#hung.splice(0)) res.destroy();
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const sock of this.#sockets) sock.destroy();
    await closed;
  }

  /** Opens the same port again. */
  async up(): Promise<void> {
    await this.start(this.port);
  }

  async close(): Promise<void> {
    await this.down();
  }

  /** Resolves when `pred(requests)` holds; fails the wait after `timeoutMs`. */
  async waitFor(pred: (reqs: ReceivedRequest[]) => boolean, timeoutMs = 5000, what = 'requests'): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.requests)) {
      if (Date.now() > deadline)
        throw new Error(
          `${this.constructor.name}: timed out after ${timeoutMs} ms waiting for ${what}; got ${this.requests.length}: ${this.requests.map((r) => `${r.method} ${r.path} → ${r.answered}`).join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.requests;
  }

  /** Checks one request and returns its problems (empty when valid). */
  protected abstract validate(req: ReceivedRequest): string[];
  /** The provider's answer to a valid request (and the place to update its model of incidents). */
  protected abstract accept(req: ReceivedRequest): Answer;
  /** The provider's answer to an invalid request. */
  protected abstract refuse(req: ReceivedRequest): Answer;

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.baseUrl);
    let body: unknown = raw;
    const problems: string[] = [];
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        problems.push('body is not JSON');
      }
    }
    const record: ReceivedRequest = {
      at: Date.now(),
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      raw,
      body,
      problems,
      answered: 0,
    };
    this.requests.push(record);

    const scripted = this.#script.shift() ?? this.#always;
    if (scripted === 'hang') {
      record.answered = 'hang';
      this.#hung.push(res);
      return;
    }
    if (scripted) {
      record.answered = scripted.status;
      res.writeHead(scripted.status, { 'content-type': 'application/json', ...scripted.headers });
      res.end(scripted.body ?? JSON.stringify({ status: 'scripted', message: `scripted ${scripted.status}` }));
      return;
    }
    if (problems.length === 0) problems.push(...this.validate(record));
    const answer = problems.length === 0 ? this.accept(record) : this.refuse(record);
    record.answered = answer.status;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body);
  }
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** PagerDuty Events API v2 (`POST /v2/enqueue`): routing key in the body; incidents modelled per dedup_key. */
export class PagerDutyReceiver extends PagingReceiver {
  readonly routingKey: string;
  /** dedup_key → the alert PagerDuty would hold; `opened` counts alerts (pages) opened for that key. */
  readonly alerts = new Map<string, { status: 'triggered' | 'resolved'; opened: number; events: Array<Record<string, any>> }>();

  constructor(routingKey: string) {
    super();
    this.routingKey = routingKey;
  }

  get url(): string {
    return `${this.baseUrl}/v2/enqueue`;
  }

  /** Pages PagerDuty would have sent: one per alert opened. */
  pages(): number {
    return [...this.alerts.values()].reduce((n, a) => n + a.opened, 0);
  }

  protected validate(req: ReceivedRequest): string[] {
    const p: string[] = [];
    if (req.method !== 'POST' || req.path !== '/v2/enqueue') return [`unexpected ${req.method} ${req.path}`];
    if (!String(req.headers['content-type']).includes('application/json')) p.push('content-type is not application/json');
    if (Buffer.byteLength(req.raw) > 512 * 1024) p.push(`event is ${Buffer.byteLength(req.raw)} bytes, over 512 KB`);
    const b = req.body;
    if (!isObj(b)) return [...p, 'body is not an object'];
    if (b.routing_key !== this.routingKey) p.push('routing_key missing or wrong');
    if (!['trigger', 'acknowledge', 'resolve'].includes(b.event_action)) p.push(`event_action ${JSON.stringify(b.event_action)} invalid`);
    if (b.dedup_key !== undefined && (typeof b.dedup_key !== 'string' || b.dedup_key.length > 255))
      p.push('dedup_key is not a string of at most 255 chars');
    if (b.event_action !== 'trigger' && typeof b.dedup_key !== 'string') p.push('dedup_key required for acknowledge/resolve');
    if (b.event_action === 'trigger') {
      const pl = b.payload;
      if (!isObj(pl)) p.push('payload required for trigger');
      else {
        if (typeof pl.summary !== 'string' || pl.summary.length === 0 || pl.summary.length > 1024)
          p.push('payload.summary must be 1..1024 chars');
        if (typeof pl.source !== 'string' || pl.source.length === 0) p.push('payload.source required');
        if (!['critical', 'error', 'warning', 'info'].includes(pl.severity))
          p.push(`payload.severity ${JSON.stringify(pl.severity)} invalid`);
        if (pl.timestamp !== undefined && !ISO.test(pl.timestamp)) p.push('payload.timestamp is not ISO 8601');
        if (pl.custom_details !== undefined && !isObj(pl.custom_details)) p.push('payload.custom_details must be an object');
      }
    }
    for (const l of (b.links as unknown[]) ?? []) if (!isObj(l) || typeof l.href !== 'string') p.push('links[] need href');
    return p;
  }

  protected accept(req: ReceivedRequest): Answer {
    const b = req.body as Record<string, any>;
    const key: string = b.dedup_key ?? randomUUID();
    const alert = this.alerts.get(key);
    if (b.event_action === 'trigger') {
      if (!alert) this.alerts.set(key, { status: 'triggered', opened: 1, events: [b] });
      else {
        if (alert.status === 'resolved') alert.opened++;
        alert.status = 'triggered';
        alert.events.push(b);
      }
    } else if (alert && alert.status === 'triggered') {
      // acknowledge/resolve without an open alert are dropped by PagerDuty
      if (b.event_action === 'resolve') alert.status = 'resolved';
      alert.events.push(b);
    }
    return { status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: key }) };
  }

  protected refuse(req: ReceivedRequest): Answer {
    return { status: 400, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: req.problems }) };
  }
}

/** Opsgenie Alert API: `Authorization: GenieKey`, create / notes / close by alias; alerts modelled per alias. */
export class OpsgenieReceiver extends PagingReceiver {
  readonly apiKey: string;
  readonly alerts = new Map<
    string,
    { status: 'open' | 'closed'; created: number; count: number; notes: string[]; body: Record<string, any> }
  >();

  constructor(apiKey: string) {
    super();
    this.apiKey = apiKey;
  }

  get url(): string {
    return this.baseUrl;
  }

  protected validate(req: ReceivedRequest): string[] {
    const p: string[] = [];
    if (req.headers.authorization !== `GenieKey ${this.apiKey}`) return ['Authorization is not "GenieKey <apiKey>"'];
    const b = req.body;
    if (!isObj(b)) return ['body is not an object'];
    const m = /^\/v2\/alerts(?:\/([^/]+)\/(notes|close))?$/.exec(req.path);
    if (req.method !== 'POST' || !m) return [`unexpected ${req.method} ${req.path}`];
    if (m[1] !== undefined) {
      if (req.query.get('identifierType') !== 'alias') p.push('identifierType=alias missing');
      const alias = decodeURIComponent(m[1]);
      if (!this.alerts.has(alias)) p.push(`no alert with alias ${alias} (${m[2]} before create)`);
      if (m[2] === 'notes' && (typeof b.note !== 'string' || b.note.length === 0 || b.note.length > 25_000))
        p.push('note must be 1..25000 chars');
      return p;
    }
    if (typeof b.message !== 'string' || b.message.length === 0 || b.message.length > 130) p.push('message must be 1..130 chars');
    if (b.alias !== undefined && (typeof b.alias !== 'string' || b.alias.length > 512)) p.push('alias over 512 chars');
    if (b.description !== undefined && (typeof b.description !== 'string' || b.description.length > 15_000))
      p.push('description over 15000 chars');
    if (b.priority !== undefined && !['P1', 'P2', 'P3', 'P4', 'P5'].includes(b.priority))
      p.push(`priority ${JSON.stringify(b.priority)} invalid`);
    if (b.tags !== undefined) {
      if (!Array.isArray(b.tags) || b.tags.length > 20) p.push('more than 20 tags');
      else for (const tag of b.tags) if (typeof tag !== 'string' || tag.length > 50) p.push(`tag ${JSON.stringify(tag)} over 50 chars`);
    }
    if (b.details !== undefined) {
      if (!isObj(b.details)) p.push('details must be an object');
      else {
        let total = 0;
        for (const [k, v] of Object.entries(b.details)) {
          if (typeof v !== 'string') p.push(`details.${k} is not a string`);
          total += k.length + String(v).length;
        }
        if (total > 8000) p.push(`details total ${total} chars, over 8000`);
      }
    }
    if (b.entity !== undefined && String(b.entity).length > 512) p.push('entity over 512 chars');
    if (b.source !== undefined && String(b.source).length > 100) p.push('source over 100 chars');
    return p;
  }

  protected accept(req: ReceivedRequest): Answer {
    const b = req.body as Record<string, any>;
    const m = /^\/v2\/alerts(?:\/([^/]+)\/(notes|close))?$/.exec(req.path)!;
    if (m[1] === undefined) {
      const alias: string = b.alias ?? randomUUID();
      const a = this.alerts.get(alias);
      if (a && a.status === 'open') a.count++;
      else this.alerts.set(alias, { status: 'open', created: (a?.created ?? 0) + 1, count: 1, notes: [], body: b });
    } else {
      const a = this.alerts.get(decodeURIComponent(m[1]))!;
      if (m[2] === 'notes') a.notes.push(b.note);
      else a.status = 'closed';
    }
    return { status: 202, body: JSON.stringify({ result: 'Request will be processed', took: 0.01, requestId: randomUUID() }) };
  }

  protected refuse(req: ReceivedRequest): Answer {
    if (req.problems[0]?.startsWith('Authorization'))
      return { status: 401, body: JSON.stringify({ message: 'Could not authenticate', took: 0 }) };
    return { status: 422, body: JSON.stringify({ message: req.problems.join('; '), took: 0.01 }) };
  }
}

/** A Slack incoming webhook: the secret path is the credential; 200 `ok`, or 400 `invalid_payload`/`invalid_blocks`. */
export class SlackReceiver extends PagingReceiver {
  readonly path =
    `/services/T${randomUUID().slice(0, 8).toUpperCase()}/B${randomUUID().slice(0, 8).toUpperCase()}/${randomUUID().replace(/-/g, '')}`;
  readonly messages: Array<{ text: string; blocks: any[] }> = [];

  get url(): string {
    return `${this.baseUrl}${this.path}`;
  }

  protected validate(req: ReceivedRequest): string[] {
    if (req.method !== 'POST' || req.path !== this.path) return ['no_service'];
    const b = req.body;
    if (!isObj(b)) return ['invalid_payload: not an object'];
    const p: string[] = [];
    if ((typeof b.text !== 'string' || b.text.length === 0) && !Array.isArray(b.blocks)) p.push('no_text');
    if (b.blocks !== undefined) {
      const blocks = b.blocks;
      if (!Array.isArray(blocks) || blocks.length > 50) p.push('invalid_blocks: more than 50 blocks');
      else
        for (const [i, blk] of blocks.entries()) {
          if (!isObj(blk) || typeof blk.type !== 'string') p.push(`invalid_blocks: block ${i} has no type`);
          else if (blk.type === 'header' && (blk.text?.type !== 'plain_text' || String(blk.text?.text).length > 150))
            p.push(`invalid_blocks: header ${i} must be plain_text ≤150`);
          else if (blk.type === 'section') {
            if (blk.text === undefined && blk.fields === undefined) p.push(`invalid_blocks: section ${i} has neither text nor fields`);
            if (blk.text !== undefined && (String(blk.text.text).length > 3000 || String(blk.text.text).length === 0))
              p.push(`invalid_blocks: section ${i} text must be 1..3000`);
            if (
              blk.fields !== undefined &&
              (!Array.isArray(blk.fields) || blk.fields.length > 10 || blk.fields.some((f: any) => String(f?.text).length > 2000))
            )
              p.push(`invalid_blocks: section ${i} fields`);
          } else if (blk.type === 'actions' && (!Array.isArray(blk.elements) || blk.elements.length > 25))
            p.push(`invalid_blocks: actions ${i}`);
        }
    }
    return p;
  }

  protected accept(req: ReceivedRequest): Answer {
    this.messages.push(req.body as { text: string; blocks: any[] });
    return { status: 200, body: 'ok', headers: { 'content-type': 'text/html' } };
  }

  protected refuse(req: ReceivedRequest): Answer {
    if (req.problems[0] === 'no_service') return { status: 404, body: 'no_service', headers: { 'content-type': 'text/html' } };
    return {
      status: 400,
      body: req.problems[0]!.startsWith('invalid_blocks') ? 'invalid_blocks' : 'invalid_payload',
      headers: { 'content-type': 'text/html' },
    };
  }
}

/**
 * A consumer of the generic webhook: checks `X-Remediator-Signature: sha256=<hex>` = HMAC-SHA256(secret,
 * "<X-Remediator-Timestamp>.<raw body>") computed here independently, and the §5.4 body fields.
 */
export class WebhookReceiver extends PagingReceiver {
  readonly secret: string;
  readonly events: Array<Record<string, any>> = [];

  constructor(secret: string) {
    super();
    this.secret = secret;
  }

  get url(): string {
    return `${this.baseUrl}/hooks/remediator`;
  }

  protected validate(req: ReceivedRequest): string[] {
    const p: string[] = [];
    const ts = req.headers['x-remediator-timestamp'];
    const sig = req.headers['x-remediator-signature'];
    if (typeof ts !== 'string' || !/^\d+$/.test(ts)) return ['missing X-Remediator-Timestamp'];
    if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) p.push('timestamp older than 5 minutes');
    const expected = `sha256=${createHmac('sha256', this.secret).update(`${ts}.${req.raw}`).digest('hex')}`;
    if (typeof sig !== 'string' || sig.length !== expected.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(expected)))
      return ['signature does not verify'];
    const b = req.body;
    if (!isObj(b)) return ['body is not an object'];
    if (b.version !== '1') p.push('version must be "1"');
    if (!['remediation.escalated', 'remediation.updated', 'remediation.resolved'].includes(b.event))
      p.push(`event ${JSON.stringify(b.event)} invalid`);
    for (const k of ['dedupKey', 'severity', 'summary', 'source', 'timestamp'])
      if (typeof b[k] !== 'string' || b[k] === '') p.push(`${k} required`);
    if (!['critical', 'error', 'warning', 'info'].includes(b.severity)) p.push('severity invalid');
    if (!isObj(b.playbook) || !isObj(b.alert)) p.push('playbook and alert required');
    if (typeof req.headers['x-remediator-delivery'] !== 'string') p.push('X-Remediator-Delivery missing');
    return p;
  }

  protected accept(req: ReceivedRequest): Answer {
    this.events.push(req.body as Record<string, any>);
    return { status: 204, body: '' };
  }

  protected refuse(req: ReceivedRequest): Answer {
    return {
      status: req.problems[0]?.startsWith('signature') || req.problems[0]?.startsWith('missing') ? 401 : 400,
      body: JSON.stringify({ error: req.problems.join('; ') }),
    };
  }
}

const SP_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved', 'scheduled', 'in_progress', 'verifying', 'completed'];
const SP_COMPONENT = ['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage'];

/**
 * Atlassian Statuspage API (docs/contracts.md §5.6): `Authorization: OAuth <key>`, `POST /v1/pages/{page}/incidents`
 * (name required) → 201 with the incident, `PATCH /v1/pages/{page}/incidents/{id}` → 200; status, component status
 * and impact enums, metadata values must be objects, `backfilled` forbids components. Incidents modelled per id,
 * with every update's body kept (what customers would read).
 */
export class StatuspageReceiver extends PagingReceiver {
  readonly apiKey: string;
  readonly pageId = `pg${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  readonly incidents = new Map<
    string,
    { name: string; status: string; components: Record<string, string>; bodies: string[]; metadata?: unknown }
  >();

  constructor(apiKey: string) {
    super();
    this.apiKey = apiKey;
  }

  /** The API base to configure (`url`): `http://…/v1`. */
  get url(): string {
    return `${this.baseUrl}/v1`;
  }

  protected validate(req: ReceivedRequest): string[] {
    if (req.headers.authorization !== `OAuth ${this.apiKey}`) return ['Authorization is not "OAuth <key>"'];
    const m = /^\/v1\/pages\/([^/]+)\/incidents(?:\/([^/]+))?$/.exec(req.path);
    if (!m || m[1] !== this.pageId) return [`not found: ${req.method} ${req.path}`];
    if ((m[2] === undefined && req.method !== 'POST') || (m[2] !== undefined && req.method !== 'PATCH' && req.method !== 'PUT'))
      return [`not found: ${req.method} ${req.path}`];
    if (m[2] !== undefined && !this.incidents.has(m[2])) return [`not found: incident ${m[2]}`];
    const p: string[] = [];
    if (!String(req.headers['content-type']).includes('application/json')) p.push('content-type is not application/json');
    const b = req.body;
    if (!isObj(b) || !isObj(b.incident)) return [...p, 'body.incident must be an object'];
    const i = b.incident;
    if (m[2] === undefined && (typeof i.name !== 'string' || i.name.length === 0)) p.push('incident.name is required');
    if (i.status !== undefined && !SP_STATUSES.includes(i.status)) p.push(`incident.status ${JSON.stringify(i.status)} invalid`);
    if (i.body !== undefined && typeof i.body !== 'string') p.push('incident.body must be a string');
    if (i.impact_override !== undefined && !['none', 'minor', 'major', 'critical', 'maintenance'].includes(i.impact_override))
      p.push('incident.impact_override invalid');
    if (i.component_ids !== undefined && (!Array.isArray(i.component_ids) || i.component_ids.some((c: unknown) => typeof c !== 'string')))
      p.push('incident.component_ids must be strings');
    if (i.components !== undefined) {
      if (!isObj(i.components)) p.push('incident.components must be an object');
      else
        for (const [k, v] of Object.entries(i.components))
          if (!SP_COMPONENT.includes(v as string)) p.push(`incident.components.${k} ${JSON.stringify(v)} invalid`);
      if (i.backfilled === true) p.push('backfilled incidents cannot have components');
    }
    if (i.deliver_notifications !== undefined && typeof i.deliver_notifications !== 'boolean')
      p.push('incident.deliver_notifications must be a boolean');
    if (i.metadata !== undefined && (!isObj(i.metadata) || Object.values(i.metadata).some((v) => !isObj(v))))
      p.push('incident.metadata values must be objects');
    return p;
  }

  protected accept(req: ReceivedRequest): Answer {
    const i = (req.body as Record<string, any>).incident;
    const m = /\/incidents(?:\/([^/]+))?$/.exec(req.path)!;
    let id = m[1];
    if (id === undefined) {
      id = randomUUID().replace(/-/g, '').slice(0, 12);
      this.incidents.set(id, {
        name: i.name,
        status: i.status ?? 'investigating',
        components: { ...i.components },
        bodies: i.body ? [i.body] : [],
        metadata: i.metadata,
      });
    } else {
      const inc = this.incidents.get(id)!;
      if (i.status) inc.status = i.status;
      Object.assign(inc.components, i.components ?? {});
      if (i.body) inc.bodies.push(i.body);
    }
    const inc = this.incidents.get(id)!;
    return {
      status: m[1] === undefined ? 201 : 200,
      body: JSON.stringify({
        id,
        page_id: this.pageId,
        name: inc.name,
        status: inc.status,
        shortlink: `https://stspg.io/${id}`,
        created_at: new Date().toISOString(),
      }),
    };
  }

  protected refuse(req: ReceivedRequest): Answer {
    const first = req.problems[0] ?? '';
    if (first.startsWith('Authorization')) return { status: 401, body: JSON.stringify({ error: 'Could not authenticate' }) };
    if (first.startsWith('not found')) return { status: 404, body: JSON.stringify({ error: 'The page or incident was not found' }) };
    return { status: 422, body: JSON.stringify({ error: req.problems }) };
  }
}

/** Starts the four receivers and closes them when `test` (default: the test file) ends. */
export async function pagingReceivers(
  secrets: { routingKey: string; apiKey: string; webhookSecret: string },
  test: { teardown(fn: () => unknown): void } = t,
): Promise<{
  pagerduty: PagerDutyReceiver;
  opsgenie: OpsgenieReceiver;
  slack: SlackReceiver;
  webhook: WebhookReceiver;
}> {
  const r = {
    pagerduty: await new PagerDutyReceiver(secrets.routingKey).start(),
    opsgenie: await new OpsgenieReceiver(secrets.apiKey).start(),
    slack: await new SlackReceiver().start(),
    webhook: await new WebhookReceiver(secrets.webhookSecret).start(),
  };
  test.teardown(async () => {
    await Promise.all(Object.values(r).map((x) => x.close()));
  });
  return r;
}

/** escalation.targets with one target per receiver: pd, og, slack and hook. */
export function receiverTargets(
  rx: Awaited<ReturnType<typeof pagingReceivers>>,
  secrets: { routingKey: string; apiKey: string; webhookSecret: string },
) {
  return {
    pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url },
    og: { type: 'opsgenie', apiKey: secrets.apiKey, url: rx.opsgenie.url },
    slack: { type: 'slack', webhookUrl: rx.slack.url },
    hook: { type: 'webhook', url: rx.webhook.url, secret: secrets.webhookSecret },
  };
}

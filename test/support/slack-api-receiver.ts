import Fastify, { type FastifyInstance } from 'fastify';
import t from 'tap';

/**
 * A local stand-in for Slack's Web API (chat.postMessage, chat.update) and for the `response_url` of interactions,
 * on a loopback port the kernel picks. It VALIDATES what it gets against the documented contract
 * (docs/contracts.md §5.3): `Authorization: Bearer xoxb-…` equal to the bot token, a
 * JSON body, `channel`, `text` or `blocks`, `thread_ts` naming a parent (never a reply), `chat.update` only of this
 * bot's messages, Block Kit limits of buttons and confirm dialogs. It answers as Slack does: HTTP 200 with
 * `{ok:true, channel, ts, message}` or `{ok:false, error}`.
 *
 * Every call is kept in `calls` with the problems found in it; `problems()` lists them all.
 */
export interface SlackCall {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  problems: string[];
  answer: { ok: boolean; error?: string; ts?: string; channel?: string };
}

export interface SlackMessageState {
  channel: string;
  ts: string;
  text: string;
  blocks: any[];
  threadTs?: string;
  /** Every version of the message, the first one included. */
  versions: Array<{ text: string; blocks: any[] }>;
}

export class SlackApiReceiver {
  readonly calls: SlackCall[] = [];
  readonly messages = new Map<string, SlackMessageState>();
  /** What reached `responseUrl(...)`: ephemeral replies and replacements of the clicked message. */
  readonly responses: Array<{ id: string; body: any }> = [];
  url = '';
  readonly #token: string;
  readonly #app: FastifyInstance;
  #seq = 0;
  #script: Array<{ status: number; headers?: Record<string, string>; body: unknown }> = [];

  constructor(token: string) {
    this.#token = token;
    this.#app = Fastify();
    this.#app.post('/api/:method', async (req, reply) => {
      const method = (req.params as { method: string }).method;
      const call: SlackCall = { method, headers: req.headers, body: req.body, problems: [], answer: { ok: false } };
      this.calls.push(call);
      const scripted = this.#script.shift();
      if (scripted) {
        call.answer = { ok: false, error: `scripted ${scripted.status}` };
        return reply
          .code(scripted.status)
          .headers(scripted.headers ?? {})
          .send(scripted.body);
      }
      call.answer = this.#handle(call, req.headers['content-type']);
      return reply.code(200).send(call.answer);
    });
    this.#app.post('/response/:id', async (req, reply) => {
      this.responses.push({ id: (req.params as { id: string }).id, body: req.body });
      return reply.code(200).send({ ok: true });
    });
  }

  /** Answers the next API calls with these (e.g. 429 with Retry-After), then behaves normally again. */
  respondNext(...answers: Array<{ status: number; headers?: Record<string, string>; body: unknown }>): void {
    this.#script.push(...answers);
  }

  /** The API base URL to configure as the target's `apiUrl`. */
  get apiUrl(): string {
    return `${this.url}/api`;
  }

  /** A response_url as Slack puts in an interaction payload. */
  responseUrl(id: string): string {
    return `${this.url}/response/${id}`;
  }

  problems(): string[] {
    return this.calls.flatMap((c) => c.problems.map((p) => `${c.method}: ${p}`));
  }

  /** The thread replies under a parent message, oldest first. */
  replies(parentTs: string): SlackMessageState[] {
    return [...this.messages.values()].filter((m) => m.threadTs === parentTs);
  }

  /** Resolves when `pred()` holds; polls every 20 ms and fails after `timeoutMs`. */
  async waitFor<T>(pred: () => T | undefined | false, timeoutMs = 10_000, what = 'Slack calls'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; got: ${this.calls.map((c) => `${c.method}${c.answer.ok ? '' : `(${c.answer.error})`}`).join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async start(): Promise<this> {
    this.url = await this.#app.listen({ host: '127.0.0.1', port: 0 });
    return this;
  }

  close(): Promise<void> {
    return this.#app.close();
  }

  #handle(call: SlackCall, contentType: string | undefined): SlackCall['answer'] {
    const auth = call.headers.authorization;
    if (typeof auth !== 'string' || !auth.startsWith('Bearer xoxb-'))
      return this.#fail(call, 'not_authed', 'Authorization: Bearer xoxb-… missing');
    if (auth !== `Bearer ${this.#token}`) return this.#fail(call, 'invalid_auth', 'bot token does not match');
    if (!contentType?.startsWith('application/json')) return this.#fail(call, 'invalid_form_data', `content-type ${contentType}`);
    const b = call.body;
    if (typeof b !== 'object' || b === null) return this.#fail(call, 'invalid_arguments', 'body is not a JSON object');
    if (typeof b.channel !== 'string' || b.channel === '') return this.#fail(call, 'channel_not_found', 'channel missing');
    if ((typeof b.text !== 'string' || b.text === '') && !Array.isArray(b.blocks))
      return this.#fail(call, 'no_text', 'neither text nor blocks');
    const blockProblems = Array.isArray(b.blocks) ? validateBlocks(b.blocks) : [];
    if (blockProblems.length > 0) {
      call.problems.push(...blockProblems);
      return { ok: false, error: 'invalid_blocks' };
    }
    if (call.method === 'chat.postMessage') {
      if (b.thread_ts !== undefined) {
        const parent = this.messages.get(b.thread_ts);
        if (!parent || parent.channel !== b.channel)
          return this.#fail(call, 'thread_not_found', `thread_ts ${b.thread_ts} names no message in ${b.channel}`);
        if (parent.threadTs !== undefined) call.problems.push('thread_ts names a reply, not the parent');
      }
      const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.#seq).padStart(6, '0')}`;
      const m: SlackMessageState = {
        channel: b.channel,
        ts,
        text: b.text ?? '',
        blocks: b.blocks ?? [],
        ...(b.thread_ts ? { threadTs: b.thread_ts } : {}),
        versions: [{ text: b.text ?? '', blocks: b.blocks ?? [] }],
      };
      this.messages.set(ts, m);
      return { ok: true, channel: b.channel, ts };
    }
    if (call.method === 'chat.update') {
      const m = typeof b.ts === 'string' ? this.messages.get(b.ts) : undefined;
      if (!m || m.channel !== b.channel) return this.#fail(call, 'message_not_found', `no message ${b.ts} in ${b.channel}`);
      if (b.text !== undefined) m.text = b.text;
      if (b.blocks !== undefined) m.blocks = b.blocks;
      m.versions.push({ text: m.text, blocks: m.blocks });
      return { ok: true, channel: m.channel, ts: m.ts };
    }
    return this.#fail(call, 'unknown_method', `method ${call.method}`);
  }

  #fail(call: SlackCall, error: string, problem: string): SlackCall['answer'] {
    call.problems.push(problem);
    return { ok: false, error };
  }
}

/** Block Kit limits (docs/contracts.md §5.3). */
function validateBlocks(blocks: any[]): string[] {
  const p: string[] = [];
  if (blocks.length > 50) p.push('more than 50 blocks');
  const plain = (o: any, max: number, where: string) => {
    if (o?.type !== 'plain_text' || typeof o.text !== 'string' || o.text.length === 0 || o.text.length > max)
      p.push(`${where} must be plain_text of 1..${max}`);
  };
  for (const [i, blk] of blocks.entries()) {
    if (typeof blk?.type !== 'string') p.push(`block ${i} has no type`);
    if (blk?.block_id !== undefined && (typeof blk.block_id !== 'string' || blk.block_id.length > 255))
      p.push(`block ${i}: block_id over 255`);
    if (blk?.type !== 'actions') continue;
    const els = blk.elements;
    if (!Array.isArray(els) || els.length === 0 || els.length > 25) {
      p.push(`actions ${i}: 1..25 elements`);
      continue;
    }
    const ids = new Set<string>();
    let primary = 0;
    for (const [j, e] of els.entries()) {
      const where = `actions ${i} element ${j}`;
      if (e.type !== 'button') continue;
      plain(e.text, 75, `${where} text`);
      if (e.style === 'primary') primary++;
      if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') p.push(`${where}: style ${e.style}`);
      if (e.url === undefined) {
        if (typeof e.action_id !== 'string' || e.action_id.length > 255) p.push(`${where}: action_id`);
        else if (ids.has(e.action_id)) p.push(`${where}: action_id ${e.action_id} not unique in its block`);
        else ids.add(e.action_id);
      }
      if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000)) p.push(`${where}: value over 2000`);
      if (e.url !== undefined && String(e.url).length > 3000) p.push(`${where}: url over 3000`);
      if (e.confirm !== undefined) {
        plain(e.confirm.title, 100, `${where} confirm.title`);
        plain(e.confirm.text, 300, `${where} confirm.text`);
        plain(e.confirm.confirm, 30, `${where} confirm.confirm`);
        plain(e.confirm.deny, 30, `${where} confirm.deny`);
      }
    }
    if (primary > 1) p.push(`actions ${i}: more than one primary button`);
  }
  return p;
}

/** Starts a receiver for the bot token and closes it when the test file ends. */
export async function slackApiReceiver(token: string, test: { teardown(fn: () => unknown): void } = t): Promise<SlackApiReceiver> {
  const rx = await new SlackApiReceiver(token).start();
  test.teardown(() => rx.close());
  return rx;
}

import { createHash } from 'node:crypto';
import { parseDuration } from '../../domain/duration.ts';
import { toRemediatorError } from '../../domain/errors.ts';
import type { HttpResponse } from '../../ports/http-client.ts';
import { classifyResponse, type DeliveryOutcome } from '../delivery-outcome.ts';
import type { IncidentReport } from '../incident.ts';
import { renderSlackAppMessage, type SlackAppBody } from '../render/slack-app-message.ts';
import type { SlackThread, SlackThreadStore } from '../slack-thread-store.ts';
import type { DeliveryItem, EscalationAction, PagingTarget, SendContext } from './paging-target.ts';

export const SLACK_API_URL = 'https://slack.com/api';

/** `ok: false` errors that say "try again later" rather than "this request is wrong" (Slack Web API docs). */
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);
/** The parent message is gone (deleted by someone): the next event starts a new thread. */
const PARENT_GONE = new Set(['message_not_found', 'cant_update_message', 'channel_not_found']);

/**
 * Slack as an app, with a bot token (`Authorization: Bearer xoxb-…`, docs/contracts.md §5.3): one message per incident
 * (episode), kept up to date, and one thread under it.
 * - the first event posts the message (`chat.postMessage`) and keeps its `channel` + `ts` in Redis (SlackThreadStore);
 * - every later event edits that message (`chat.update`) so it shows the run's state now, and an update or resolve
 *   also replies in its thread (`thread_ts`);
 * - a message deleted in Slack starts a new one.
 * Slack answers HTTP 200 `{ok:false,error}` for refusals: those go to the dead letter, except the transient ones;
 * 429 with Retry-After and 5xx are retried by the delivery worker. A retry after a crash between two calls may edit
 * the message again (idempotent) or reply twice (at-least-once, as every target).
 *
 * The calls go through the service's HTTP port, which takes an AbortSignal and a timeout per call, and whose answers
 * the delivery worker already classifies and retries; @slack/web-api would bring a second retry queue and no signal.
 */
export function slackAppTarget(
  name: string,
  config: {
    token: string;
    channel: string;
    apiUrl?: string;
    role?: 'page' | 'notify';
    buttons: boolean;
    rateLimit?: { max?: number; window?: string | number };
  },
  threads: SlackThreadStore,
): PagingTarget {
  const base = (config.apiUrl ?? SLACK_API_URL).replace(/\/+$/, '');
  const token = config.token;

  async function call(
    method: 'chat.postMessage' | 'chat.update',
    args: Record<string, unknown>,
    ctx: SendContext,
  ): Promise<{ outcome: DeliveryOutcome; error?: string; answer?: { channel?: string; ts?: string } }> {
    let res: HttpResponse;
    try {
      res = await ctx.http.request({
        method: 'POST',
        url: `${base}/${method}`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(args),
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
      });
    } catch (err) {
      const e = toRemediatorError(err);
      return { outcome: { kind: 'retry', reason: `${method}: ${e.code}: ${e.message}` } };
    }
    const body = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as {
      ok?: boolean;
      error?: string;
      channel?: string;
      ts?: string;
    };
    const outcome = classifyResponse(res, ctx.now(), () =>
      body.ok === true ? null : `Slack ${method} answered ok:false (${body.error ?? 'no error given'})`,
    );
    if (outcome.kind === 'reject' && body.error && TRANSIENT.has(body.error))
      return { outcome: { kind: 'retry', status: res.status, reason: outcome.reason }, error: body.error };
    return {
      outcome,
      ...(body.error ? { error: body.error } : {}),
      answer: { ...(body.channel ? { channel: body.channel } : {}), ...(body.ts ? { ts: body.ts } : {}) },
    };
  }

  async function post(
    item: DeliveryItem,
    body: SlackAppBody,
    ctx: SendContext,
  ): Promise<{ outcome: DeliveryOutcome; thread?: SlackThread }> {
    const r = await call(
      'chat.postMessage',
      { channel: config.channel, text: body.message.text, blocks: body.message.blocks, unfurl_links: false, unfurl_media: false },
      ctx,
    );
    if (r.outcome.kind !== 'delivered') return { outcome: r.outcome };
    if (!r.answer?.ts)
      return { outcome: { kind: 'reject', status: r.outcome.status, reason: 'Slack chat.postMessage answered without a ts' } };
    const thread = { channel: r.answer.channel ?? config.channel, ts: r.answer.ts };
    await threads.set(name, item.episodeKey, thread);
    return { outcome: r.outcome, thread };
  }

  return {
    name,
    type: 'slack-app',
    role: config.role ?? 'notify',
    secrets: [token],
    dependsOnTrigger: false,
    // Per workspace app and channel; the key is a hash, never the token.
    rateLimit: {
      key: `slack-${createHash('sha256').update(`${token}\n${config.channel}`).digest('hex').slice(0, 24)}`,
      max: config.rateLimit?.max ?? 50,
      windowMs: parseDuration(config.rateLimit?.window ?? '60s'),
    },
    render(action: EscalationAction, report: IncidentReport, note?: string) {
      return renderSlackAppMessage(report, { kind: action, buttons: config.buttons, ...(note ? { note } : {}) });
    },
    async send(item, ctx) {
      const body = item.body as SlackAppBody;
      let thread = await threads.get(name, item.episodeKey);
      let outcome: DeliveryOutcome;
      if (thread) {
        const r = await call(
          'chat.update',
          { channel: thread.channel, ts: thread.ts, text: body.message.text, blocks: body.message.blocks },
          ctx,
        );
        outcome = r.outcome;
        if (outcome.kind === 'reject' && r.error && PARENT_GONE.has(r.error)) thread = undefined;
        else if (outcome.kind !== 'delivered') return outcome;
      }
      if (!thread) {
        const p = await post(item, body, ctx);
        if (!p.thread) return p.outcome;
        // A first event that is already an update: the new message shows the state, the reply says what changed.
        if (item.action === 'trigger') return p.outcome;
        thread = p.thread;
        outcome = p.outcome;
      }
      if (!body.reply) return outcome!;
      return (
        await call(
          'chat.postMessage',
          { channel: thread.channel, thread_ts: thread.ts, text: body.reply, unfurl_links: false, unfurl_media: false },
          ctx,
        )
      ).outcome;
    },
  };
}

import type { Logger } from 'pino';
import { RemediatorError } from '../domain/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { HttpClient } from '../ports/http-client.ts';
import { resolveSecret, type SlackUserRole, type TargetConfig } from './escalation-config.ts';
import type { IncidentReport } from './incident.ts';
import type { Redactor } from './redact.ts';
import { renderSlackAppMessage, SLACK_ACTIONS, type SlackActionId } from './render/slack-app-message.ts';
import { verifySlackSignature } from './slack-signature.ts';

/** A slack-app target that takes button clicks: its signing secret and who may press what. */
export interface SlackApp {
  target: string;
  signingSecret: string;
  users: Record<string, { name: string; role: SlackUserRole }>;
}

/** One button press, from a verified `block_actions` payload (docs/contracts.md §5.3). */
export interface SlackClick {
  app: string;
  userId: string;
  action: SlackActionId;
  runId: string;
  planHash: string;
  responseUrl?: string;
}

export type SlackPayload = { kind: 'ignored'; reason: string } | { kind: 'click'; click: SlackClick };

/** The fields of a Slack interaction payload read here; each is checked before it is used. */
interface SlackInteraction {
  type?: unknown;
  user?: { id?: unknown } | null;
  actions?: unknown;
  response_url?: unknown;
}

/**
 * The application side of Slack's interactivity endpoint (the route, src/http/routes/slack.ts, checks roles and
 * applies the decision through the run commands): verifies requests, reads clicks, maps members to operators, and
 * talks back through `response_url` (an ephemeral refusal, or the message replaced without its buttons).
 */
export class SlackInteractions {
  readonly #apps: SlackApp[];
  readonly #http: HttpClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #redact: Redactor;
  readonly #timeoutMs: number;
  readonly #onDecided: (runId: string, note: string, signal: AbortSignal) => Promise<void>;

  constructor(options: {
    apps: SlackApp[];
    http: HttpClient;
    clock: Clock;
    log: Logger;
    redact: Redactor;
    timeoutMs?: number;
    onDecided: (runId: string, note: string, signal: AbortSignal) => Promise<void>;
  }) {
    this.#apps = options.apps;
    this.#http = options.http;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#redact = options.redact;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#onDecided = options.onDecided;
  }

  /** The slack-app targets with a signing secret (`env:NAME` read here). None: the endpoint is not offered. */
  static appsFrom(targets: Record<string, TargetConfig>, env: NodeJS.ProcessEnv = process.env): SlackApp[] {
    return Object.entries(targets).flatMap(([name, c]) =>
      c.type === 'slack-app' && c.signingSecret
        ? [
            {
              target: name,
              signingSecret: resolveSecret(c.signingSecret, `escalation.targets.${name}.signingSecret`, env),
              users: c.users ?? {},
            },
          ]
        : [],
    );
  }

  /** The target whose signing secret signed the request; REM_ERR_SLACK_SIGNATURE (no detail) otherwise. */
  verify(timestamp: string | undefined, signature: string | undefined, rawBody: string): string {
    const check = verifySlackSignature({
      secrets: this.#apps.map((a) => a.signingSecret),
      timestamp,
      signature,
      rawBody,
      nowMs: this.#clock.now(),
    });
    if (!check.ok) {
      this.#log.warn({ reason: check.reason }, 'Slack interaction refused');
      throw new RemediatorError('REM_ERR_SLACK_SIGNATURE', 'request signature not accepted');
    }
    return this.#apps[check.index]!.target;
  }

  /** Reads a verified form body `payload=<json>`. A payload that is not a click on one of our buttons is ignored. */
  parse(app: string, rawBody: string): SlackPayload {
    const json = new URLSearchParams(rawBody).get('payload');
    if (json === null) throw new RemediatorError('REM_ERR_BAD_REQUEST', 'body: form field "payload" is missing');
    let p: SlackInteraction | null;
    try {
      p = JSON.parse(json);
    } catch {
      throw new RemediatorError('REM_ERR_BAD_REQUEST', 'payload: not JSON');
    }
    if (p?.type !== 'block_actions') return { kind: 'ignored', reason: `payload type ${String(p?.type)}` };
    const userId = p.user?.id;
    if (typeof userId !== 'string') throw new RemediatorError('REM_ERR_BAD_REQUEST', 'payload.user.id: missing');
    const a = (Array.isArray(p.actions) ? p.actions[0] : undefined) as { action_id?: unknown; value?: unknown } | null | undefined;
    if (!a || typeof a.action_id !== 'string' || !(SLACK_ACTIONS as readonly string[]).includes(a.action_id))
      return { kind: 'ignored', reason: `action ${String(a?.action_id)}` };
    const [runId, planHash] = String(a.value ?? '').split(' ');
    if (!runId || !planHash || !/^[A-Za-z0-9_-]+$/.test(runId))
      throw new RemediatorError('REM_ERR_BAD_REQUEST', 'payload.actions[0].value: expected "<runId> <planHash>"');
    return {
      kind: 'click',
      click: {
        app,
        userId,
        action: a.action_id as SlackActionId,
        runId,
        planHash,
        ...(typeof p.response_url === 'string' ? { responseUrl: p.response_url } : {}),
      },
    };
  }

  /** The operator a Slack member acts as, at the app whose secret signed the click; undefined when not mapped. */
  member(app: string, userId: string): { name: string; role: SlackUserRole } | undefined {
    return this.#apps.find((a) => a.target === app)?.users[userId];
  }

  /** Tells only the person who clicked (response_type ephemeral); the message stays as it is. Never rejects. */
  ephemeral(click: SlackClick, text: string): Promise<void> {
    return this.#respond(click, { response_type: 'ephemeral', replace_original: false, text });
  }

  /**
   * After a decision: replaces the clicked message at once through response_url (the buttons go, the note says who
   * decided), and hands the note to the escalator (an edit of the incident's message and a thread reply, durably).
   */
  async decided(click: SlackClick, report: IncidentReport | undefined, note: string, signal: AbortSignal): Promise<void> {
    if (report) {
      const { message } = renderSlackAppMessage(report, { kind: 'update', note, buttons: false });
      // Not awaited: the click's 200 must not wait for response_url (failures are logged).
      void this.#respond(click, { replace_original: true, text: message.text, blocks: message.blocks });
    }
    await this.#onDecided(click.runId, note, signal);
  }

  /** response_url answers are best effort: Slack keeps them for 30 minutes, 5 uses; a failure is logged. */
  async #respond(click: SlackClick, body: Record<string, unknown>): Promise<void> {
    if (!click.responseUrl) return;
    try {
      const res = await this.#http.request({
        method: 'POST',
        url: click.responseUrl,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        timeoutMs: this.#timeoutMs,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (res.status >= 300) this.#log.warn({ status: res.status, runId: click.runId }, 'Slack response_url refused the answer');
    } catch (err) {
      this.#log.warn({ runId: click.runId, error: this.#redact((err as Error).message) }, 'Slack response_url could not be reached');
    }
  }
}

import type { HttpClient } from '../../ports/http-client.ts';
import type { DeliveryOutcome } from '../delivery-outcome.ts';
import type { IncidentReport, Level } from '../incident.ts';

export type EscalationAction = 'trigger' | 'update' | 'resolve';
export type TargetType = 'pagerduty' | 'opsgenie' | 'slack' | 'slack-app' | 'webhook' | 'statuspage';

/**
 * One event waiting in its ordered chain (per episode and target). It is rendered when enqueued, so what is sent is
 * the story as it stood then, and it holds NO secret: targets add routing keys, API keys, webhook URLs and
 * signatures at send time. This is also what a dead-letter record shows.
 */
export interface DeliveryItem {
  /** Unique per event; webhook receivers get it as `X-Remediator-Delivery` for idempotency. */
  id: string;
  target: string;
  type: TargetType;
  action: EscalationAction;
  episodeKey: string;
  level: Level;
  body: unknown;
  enqueuedAt: string;
  /** The run whose report it carries (for the run's page: what was sent for it). */
  runId?: string;
}

export interface SendContext {
  http: HttpClient;
  signal: AbortSignal;
  timeoutMs: number;
  now: () => number;
  /**
   * What a target remembers per episode between events, for providers whose later calls name what the first one
   * created (a Statuspage incident id). Kept in Redis as long as open incidents are.
   */
  memory?: TargetMemory;
}

/** Per target and episode, one remembered value (no secret ever). */
export interface TargetMemory {
  get(target: string, episodeKey: string): Promise<string | null>;
  set(target: string, episodeKey: string, value: string): Promise<void>;
}

/**
 * A paging target: one file per provider under `targets/`. `render` is pure; `send` performs one attempt and
 * classifies the answer (it never throws for HTTP outcomes). Retries, ordering, rate limiting and the dead letter
 * belong to the delivery worker, not to targets.
 */
export interface PagingTarget {
  readonly name: string;
  readonly type: TargetType;
  /** How the severity policy sees it: `page` (pagerduty, opsgenie) or `notify` (slack, webhook). */
  readonly role: 'page' | 'notify';
  /** Values that must never appear in logs, errors or records (keys, URLs, header values). */
  readonly secrets: readonly string[];
  /**
   * True when updates and resolves address something only the trigger creates (an Opsgenie alias). When such a
   * target refuses a trigger, the events queued behind it are not sent and the incident counts as not opened, so the
   * next trigger opens it. PagerDuty, Slack and webhooks take every event on its own.
   */
  readonly dependsOnTrigger: boolean;
  /** The provider's rate limit bucket. `key` is a hash, never the secret itself. */
  readonly rateLimit?: { key: string; max: number; windowMs: number };
  render(action: EscalationAction, report: IncidentReport, note?: string): unknown;
  /**
   * The body of an approved customer notice (sent as an `update` event). Targets read by customers (Statuspage)
   * publish only this and never the internal notes of `render('update')`; without it the notice goes as an update.
   */
  renderNotice?(report: IncidentReport, text: string): unknown;
  send(item: DeliveryItem, ctx: SendContext): Promise<DeliveryOutcome>;
}

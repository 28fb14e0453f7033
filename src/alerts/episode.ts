import { createHash } from 'node:crypto';
import type { AlertView } from '../domain/run-info.ts';
import type { WebhookAlert, WebhookPayload } from './alertmanager-payload.ts';

/**
 * A firing episode is one outage of one alert series: (fingerprint, startsAt). Alertmanager re-sends the same episode
 * on every group change and repeat_interval, retries it after a 5xx, and HA replicas send it twice; all of those carry
 * the same pair. A new outage of the same series keeps the fingerprint and gets a new startsAt.
 *
 * The id is safe as a Redis key part and a BullMQ job id: no ':' and never all digits (docs/contracts.md §4.3).
 */
export function episodeId(fingerprint: string, startsAt: string): string {
  return `ep-${fingerprint}-${startsAtMillis(startsAt)}`;
}

/**
 * The episode a run belongs to, as every place names it: the API (`episodeId`), the post-incident timeline and every
 * page (PagerDuty dedup_key, Opsgenie alias, webhook and Slack bodies, through `pageKey`). An alert's run has the
 * id `episodeId` gave it at ingest (a retry keeps it, so its fix resolves the page the first run opened); a manual
 * run has no alert episode and is its own incident, named by its run id (`run-…`, never `ep-…`).
 */
export function runEpisodeId(run: { id: string; episodeId?: string }): string {
  return run.episodeId ?? run.id;
}

/** The key of the episode's incident at every paging provider: `remediator-<episode id>`. */
export function pageKey(episodeKey: string): string {
  return `remediator-${episodeKey}`;
}

/** startsAt with nanosecond precision is reduced to milliseconds; two outages within one millisecond are one. */
export function startsAtMillis(startsAt: string): number {
  const ms = Date.parse(startsAt);
  if (Number.isNaN(ms)) throw new Error(`invalid startsAt ${startsAt}`);
  return ms;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** One alert of a webhook, in the shape steps and templates see. */
export function toAlertView(a: WebhookAlert, payload: Pick<WebhookPayload, 'externalURL'>): AlertView {
  return {
    status: a.status,
    labels: a.labels,
    annotations: a.annotations ?? {},
    startsAt: a.startsAt,
    endsAt: a.endsAt && a.endsAt !== ZERO_TIME ? a.endsAt : undefined,
    fingerprint: a.fingerprint,
    generatorURL: a.generatorURL || undefined,
    externalURL: payload.externalURL || undefined,
  };
}

/** Alertmanager's own dedup key for a group: sha256(groupKey), hex (notify/util.go Key.Hash). */
export function groupKeyHash(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex');
}

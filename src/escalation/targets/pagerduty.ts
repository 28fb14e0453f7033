import { createHash } from 'node:crypto';
import { parseDuration } from '../../domain/duration.ts';
import { sendAndClassify } from '../delivery-outcome.ts';
import type { IncidentReport } from '../incident.ts';
import { renderPagerDutyEvent } from '../render/pagerduty-event.ts';
import type { EscalationAction, PagingTarget } from './paging-target.ts';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/**
 * PagerDuty Events API v2. One dedup_key per episode (`remediator-<episodeKey>`):
 * - trigger: opens the alert (or folds into the open one);
 * - update: v2 has no note event, so an update is another `trigger` with the same dedup_key and fresh
 *   `custom_details`; PagerDuty merges it into the open alert rather than paging again;
 * - resolve: only when the engine says the episode is verified healthy.
 * The routing key travels in the body, added here at send time, and the worker limits events per routing key
 * (default 120 per 60 s, PagerDuty's per-integration limit).
 */
export function pagerDutyTarget(
  name: string,
  config: { routingKey: string; url?: string; role?: 'page' | 'notify'; rateLimit?: { max?: number; window?: string | number } },
): PagingTarget {
  const url = config.url ?? PAGERDUTY_EVENTS_URL;
  const routingKey = config.routingKey;
  return {
    name,
    type: 'pagerduty',
    role: config.role ?? 'page',
    secrets: [routingKey],
    dependsOnTrigger: false,
    rateLimit: {
      key: `pd-${createHash('sha256').update(routingKey).digest('hex').slice(0, 24)}`,
      max: config.rateLimit?.max ?? 120,
      windowMs: parseDuration(config.rateLimit?.window ?? '60s'),
    },
    render(action: EscalationAction, report: IncidentReport, note?: string) {
      return renderPagerDutyEvent(report, { action: action === 'resolve' ? 'resolve' : 'trigger', ...(note ? { note } : {}) });
    },
    send(item, ctx) {
      const body = JSON.stringify({ routing_key: routingKey, ...(item.body as object) });
      return sendAndClassify(
        ctx.http,
        { method: 'POST', url, headers: { 'content-type': 'application/json' }, body, timeoutMs: ctx.timeoutMs, signal: ctx.signal },
        ctx.now,
      );
    },
  };
}

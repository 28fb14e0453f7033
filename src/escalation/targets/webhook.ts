import { sendAndClassify } from '../delivery-outcome.ts';
import type { IncidentReport } from '../incident.ts';
import { renderWebhookEvent } from '../render/webhook-event.ts';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../render/webhook-signature.ts';
import type { EscalationAction, PagingTarget } from './paging-target.ts';

/**
 * A generic JSON webhook (docs/contracts.md §5.4), signed: `X-Remediator-Signature: sha256=<hex>` over
 * `<timestamp>.<raw body>` with `X-Remediator-Timestamp` (unix seconds, taken at each attempt so a retry is not
 * stale). `X-Remediator-Delivery` is the same on every retry of one event, for receivers that deduplicate.
 */
export function webhookTarget(
  name: string,
  config: { url: string; secret: string; headers?: Record<string, string>; role?: 'page' | 'notify' },
  version = '0.1.0',
): PagingTarget {
  const headers = config.headers ?? {};
  return {
    name,
    type: 'webhook',
    role: config.role ?? 'notify',
    secrets: [config.secret, ...Object.values(headers)],
    dependsOnTrigger: false,
    render(action: EscalationAction, report: IncidentReport, note?: string) {
      return renderWebhookEvent(report, { action, ...(note ? { note } : {}) });
    },
    send(item, ctx) {
      const raw = JSON.stringify(item.body);
      const ts = Math.floor(ctx.now() / 1000);
      return sendAndClassify(
        ctx.http,
        {
          method: 'POST',
          url: config.url,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'user-agent': `remediator/${version}`,
            [TIMESTAMP_HEADER]: String(ts),
            [SIGNATURE_HEADER]: signWebhook(config.secret, ts, raw),
            'x-remediator-event': item.action,
            'x-remediator-delivery': item.id,
          },
          body: raw,
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
        },
        ctx.now,
      );
    },
  };
}

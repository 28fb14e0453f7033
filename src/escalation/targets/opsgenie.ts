import { sendAndClassify } from '../delivery-outcome.ts';
import type { IncidentReport } from '../incident.ts';
import { opsgenieAlias, renderOpsgenieClose, renderOpsgenieCreate, renderOpsgenieNote } from '../render/opsgenie-alert.ts';
import type { EscalationAction, PagingTarget } from './paging-target.ts';

export const OPSGENIE_API_URL = 'https://api.opsgenie.com';

/**
 * Opsgenie Alert API with `Authorization: GenieKey <key>`; the alias is the episode:
 * - trigger: `POST /v2/alerts` (an open alert with the same alias is not duplicated);
 * - update: `POST /v2/alerts/{alias}/notes?identifierType=alias`;
 * - resolve: `POST /v2/alerts/{alias}/close?identifierType=alias`.
 * Opsgenie answers 202 and processes asynchronously; the ordered chain per episode keeps note and close behind
 * the create that opened the alert.
 */
export function opsgenieTarget(name: string, config: { apiKey: string; url?: string; role?: 'page' | 'notify' }): PagingTarget {
  const base = (config.url ?? OPSGENIE_API_URL).replace(/\/+$/, '');
  const apiKey = config.apiKey;
  return {
    name,
    type: 'opsgenie',
    role: config.role ?? 'page',
    secrets: [apiKey],
    dependsOnTrigger: true,
    render(action: EscalationAction, report: IncidentReport, note?: string) {
      if (action === 'trigger') return renderOpsgenieCreate(report, note ? { note } : {});
      if (action === 'update') return renderOpsgenieNote(report, note ?? 'Remediation progress');
      return renderOpsgenieClose(report);
    },
    send(item, ctx) {
      const alias = encodeURIComponent(opsgenieAlias(item.episodeKey));
      const path =
        item.action === 'trigger'
          ? '/v2/alerts'
          : `/v2/alerts/${alias}/${item.action === 'update' ? 'notes' : 'close'}?identifierType=alias`;
      return sendAndClassify(
        ctx.http,
        {
          method: 'POST',
          url: `${base}${path}`,
          headers: { 'content-type': 'application/json', authorization: `GenieKey ${apiKey}` },
          body: JSON.stringify(item.body),
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
        },
        ctx.now,
      );
    },
  };
}

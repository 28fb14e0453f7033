import type { HttpClient } from '../../ports/http-client.ts';
import { episodeFromPageKey } from './human-event.ts';

export const PAGERDUTY_REST_URL = 'https://api.pagerduty.com';

/**
 * The episode of a PagerDuty incident whose webhook carries no `incident_key` ("incidents with child alerts do not
 * have an incident key", docs/contracts.md §5.7): its alerts are read with the REST API
 * (`GET /incidents/{id}/alerts`, `Authorization: Token token=<key>`) and the first `alert_key` remediator sent names
 * the episode. Undefined when none is remediator's, or when PagerDuty cannot be asked (the event is then ignored and
 * logged; PagerDuty does not resend a 2xx).
 */
export function pagerDutyIncidentLookup(http: HttpClient, config: { apiToken: string; url?: string; timeoutMs?: number }) {
  const base = (config.url ?? PAGERDUTY_REST_URL).replace(/\/+$/, '');
  return async function episodeOf(incidentId: string, signal: AbortSignal): Promise<string | undefined> {
    const res = await http.request({
      method: 'GET',
      url: `${base}/incidents/${encodeURIComponent(incidentId)}/alerts?limit=100`,
      headers: { authorization: `Token token=${config.apiToken}`, accept: 'application/vnd.pagerduty+json;version=2' },
      timeoutMs: config.timeoutMs ?? 3000,
      signal,
    });
    if (res.status !== 200) return undefined;
    const body = typeof res.body === 'string' ? safeJson(res.body) : res.body;
    const alerts = (body as { alerts?: Array<{ alert_key?: unknown }> } | undefined)?.alerts ?? [];
    for (const a of alerts) {
      const episode = episodeFromPageKey(a.alert_key);
      if (episode) return episode;
    }
    return undefined;
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

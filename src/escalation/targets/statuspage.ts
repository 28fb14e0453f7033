import { sendAndClassify } from '../delivery-outcome.ts';
import type { IncidentReport } from '../incident.ts';
import { renderStatuspageIncident, renderStatuspageNotice, type ComponentStatus } from '../render/statuspage-incident.ts';
import type { EscalationAction, PagingTarget } from './paging-target.ts';

export const STATUSPAGE_API_URL = 'https://api.statuspage.io/v1';

export interface StatuspageTargetOptions {
  apiKey: string;
  pageId: string;
  componentIds?: string[];
  componentStatus?: ComponentStatus;
  deliverNotifications?: boolean;
  url?: string;
  role?: 'page' | 'notify';
}

/**
 * Atlassian Statuspage (docs/contracts.md §5.6), `Authorization: OAuth <key>`:
 * - trigger: `POST /pages/{page_id}/incidents` → 201 with the incident; its id is remembered for the episode;
 * - update (component status, or an approved customer notice): `PATCH /pages/{page_id}/incidents/{id}`;
 * - resolve: the same PATCH with `status: resolved` and the components back to operational.
 * Updates and resolves need the id the create returned, so the target depends on its trigger (like Opsgenie's alias):
 * a refused create drops what was queued behind it. Statuspage allows about 1 request/s per token; its 429 carries
 * Retry-After, which the delivery worker honours.
 */
export function statuspageTarget(name: string, config: StatuspageTargetOptions): PagingTarget {
  const base = `${(config.url ?? STATUSPAGE_API_URL).replace(/\/+$/, '')}/pages/${encodeURIComponent(config.pageId)}/incidents`;
  const apiKey = config.apiKey;
  const render = {
    componentIds: config.componentIds ?? [],
    ...(config.componentStatus ? { componentStatus: config.componentStatus } : {}),
    deliverNotifications: config.deliverNotifications ?? true,
  };
  return {
    name,
    type: 'statuspage',
    role: config.role ?? 'notify',
    secrets: [apiKey],
    dependsOnTrigger: true,
    rateLimit: { key: `statuspage-${name}`, max: 60, windowMs: 60_000 },
    render(action: EscalationAction, report: IncidentReport) {
      return renderStatuspageIncident(action, report, render);
    },
    renderNotice(report: IncidentReport, text: string) {
      return renderStatuspageNotice(report, text, render);
    },
    async send(item, ctx) {
      const headers = { 'content-type': 'application/json', authorization: `OAuth ${apiKey}` };
      const request = { headers, body: JSON.stringify(item.body), timeoutMs: ctx.timeoutMs, signal: ctx.signal };
      if (item.action === 'trigger') {
        let id: string | undefined;
        const outcome = await sendAndClassify(ctx.http, { method: 'POST', url: base, ...request }, ctx.now, (res) => {
          id = incidentId(res.body);
          return id ? null : 'the answer carries no incident id';
        });
        if (outcome.kind === 'delivered' && id) await ctx.memory?.set(name, item.episodeKey, id);
        return outcome;
      }
      const id = await ctx.memory?.get(name, item.episodeKey);
      if (!id)
        return { kind: 'reject', status: 0, reason: 'no Statuspage incident is known for this episode (its create was never confirmed)' };
      return sendAndClassify(ctx.http, { method: 'PATCH', url: `${base}/${encodeURIComponent(id)}`, ...request }, ctx.now);
    },
  };
}

function incidentId(body: unknown): string | undefined {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return undefined;
    }
  }
  const id = (b as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

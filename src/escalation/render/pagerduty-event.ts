import { pageKey } from '../../alerts/episode.ts';
import type { IncidentReport } from '../incident.ts';
import { LEVEL_SEVERITY } from '../severity-policy.ts';
import { byteLength, clock, incidentLinks, progressLine, rungLine, snapshotText, STATUS_TEXT, subject, truncate } from './text.ts';

/**
 * A PagerDuty Events API v2 body (docs/contracts.md §5.1) WITHOUT `routing_key`: the key is a secret, added by the target
 * at send time, so what is stored in Redis and dead-letter records never holds it.
 *
 * PagerDuty v2 has no "note" event. An update is a `trigger` with the same `dedup_key` and fresh `custom_details`:
 * PagerDuty folds it into the open alert (same dedup_key, same routing key) instead of opening a new one.
 * `resolve` carries only the dedup_key.
 */
export interface PagerDutyEventBody {
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: Record<string, unknown>;
  };
  client?: string;
  client_url?: string;
  links?: Array<{ href: string; text: string }>;
}

export const PAGERDUTY_SUMMARY_MAX = 1024;
/** PagerDuty's limit on the whole event is 512 KB. */
export const PAGERDUTY_MAX_BYTES = 512 * 1024;
/** Room kept for `"routing_key":"<32 chars>",` that the target adds. */
const ROUTING_KEY_ROOM = 128;

export interface PagerDutyRenderOptions {
  action: 'trigger' | 'resolve';
  /** The latest update (a rung finished, a gate failed); shown as `custom_details.latest_update`. */
  note?: string;
  /** Size bound of the whole body in bytes (default 512 KB minus room for the routing key). */
  maxBytes?: number;
  /** Snapshot bound before the size check (default 64 KiB of JSON text). */
  snapshotMaxChars?: number;
}

/** One dedup_key per episode: `pageKey` (at most 211 chars, as episodeKey is at most 200; PagerDuty takes 255). */
export function pagerDutyDedupKey(episodeKey: string): string {
  return pageKey(episodeKey);
}

export function renderPagerDutyEvent(report: IncidentReport, options: PagerDutyRenderOptions): PagerDutyEventBody {
  const dedupKey = pagerDutyDedupKey(report.episodeKey);
  if (options.action === 'resolve') return { event_action: 'resolve', dedup_key: dedupKey };

  const maxBytes = (options.maxBytes ?? PAGERDUTY_MAX_BYTES) - ROUTING_KEY_ROOM;
  const where = subject(report);
  const summary = truncate(
    `[${report.level}] ${report.alert.name} on ${where}: ${report.alert.summary} (${STATUS_TEXT[report.status]})`,
    PAGERDUTY_SUMMARY_MAX,
  );

  const details: Record<string, unknown> = {
    level: report.level,
    status: STATUS_TEXT[report.status],
    services: report.services.join(', '),
    ...(report.target ? { target: where } : {}),
    started_at: report.alert.startsAt,
    episode: report.episodeKey,
    progress: progressLine(report),
    rungs: report.rungs.map(rungLine),
    ...(options.note ? { latest_update: options.note } : {}),
    ...(report.eta ? { eta: report.eta } : {}),
    ...(report.owner ? { owner: `@${report.owner}` } : {}),
    ...(report.alert.description ? { description: report.alert.description } : {}),
    run: { id: report.run.id, playbook: report.run.playbook, ...(report.run.url ? { url: report.run.url } : {}) },
    labels: report.alert.labels,
    timeline: report.timeline.map((e) => `${clock(e.at)} ${e.kind}${e.ok === undefined ? '' : e.ok ? ' ✓' : ' ✗'} ${e.text}`),
  };

  const links = incidentLinks(report);
  const body: PagerDutyEventBody = {
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary,
      source: truncate(where, 255),
      severity: LEVEL_SEVERITY[report.level],
      timestamp: report.alert.startsAt,
      component: truncate(report.target?.name ?? report.services[0] ?? report.alert.name, 255),
      ...(report.target?.namespace ? { group: report.target.namespace } : {}),
      class: truncate(report.alert.name, 255),
      custom_details: details,
    },
    client: 'remediator',
    ...(report.run.url && /^https?:\/\//i.test(report.run.url) ? { client_url: report.run.url } : {}),
    ...(links.length > 0 ? { links } : {}),
  };

  // Fit into the size limit: the snapshot goes first (cut, then dropped), then the oldest timeline entries, then
  // the long free texts. The rungs and the summary, which say what was tried and why, stay to the end.
  const size = () => byteLength(JSON.stringify(body));
  if (report.snapshot !== undefined) {
    const limit = options.snapshotMaxChars ?? 65_536;
    const whole = snapshotText(report.snapshot, Number.POSITIVE_INFINITY) ?? '';
    details.snapshot =
      whole.length <= limit && typeof report.snapshot === 'object' ? report.snapshot : snapshotText(report.snapshot, limit);
    if (size() > maxBytes) {
      // Cut the snapshot's text to the room left. The ratio of encoded bytes to characters (UTF-8 and JSON escapes)
      // gives the first guess; shrink by 10% until it fits, a bounded number of times.
      delete details.snapshot;
      const base = size();
      const ratio = Math.max(1, byteLength(JSON.stringify(whole)) / Math.max(1, whole.length));
      let room = Math.floor((maxBytes - base - 200) / ratio);
      for (let i = 0; i < 30 && room > 256; i++) {
        details.snapshot = snapshotText(report.snapshot, room);
        if (size() <= maxBytes) break;
        room = Math.floor(room * 0.9);
      }
      if (room <= 256 || size() > maxBytes) {
        delete details.snapshot;
        details.snapshot_omitted = 'diagnosis snapshot too large for PagerDuty; see the run record';
      }
    }
  }
  while (size() > maxBytes && Array.isArray(details.timeline) && (details.timeline as string[]).length > 0) {
    const tl = details.timeline as string[];
    tl.splice(0, Math.max(1, Math.ceil(tl.length / 4)));
  }
  for (const key of ['description', 'latest_update', 'labels'] as const) {
    if (size() <= maxBytes) break;
    if (typeof details[key] === 'string') details[key] = truncate(details[key] as string, 4096);
    else delete details[key];
  }
  if (size() > maxBytes) details.rungs = (details.rungs as string[]).map((r) => truncate(r, 512));
  return body;
}

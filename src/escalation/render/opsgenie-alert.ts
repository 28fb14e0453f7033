import { pageKey } from '../../alerts/episode.ts';
import type { IncidentReport } from '../incident.ts';
import { LEVEL_OPSGENIE_PRIORITY } from '../severity-policy.ts';
import { clock, dateTime, incidentLinks, progressLine, rungLine, snapshotText, STATUS_TEXT, subject, truncate } from './text.ts';

/**
 * Opsgenie Alert API bodies (docs/contracts.md §5.2). The alias is the episode, so a repeated create folds into the open
 * alert; notes and close address the alert by alias. Field limits (docs.opsgenie.com "Alerts and Alert Fields"):
 * message 130, alias 512, description 15 000, tags 20 × 50, details 8 000 characters in total, entity 512,
 * source 100, note 25 000.
 */
export const OPSGENIE_LIMITS = {
  message: 130,
  alias: 512,
  description: 15_000,
  tags: 20,
  tagLength: 50,
  details: 8_000,
  entity: 512,
  source: 100,
  note: 25_000,
} as const;

export interface OpsgenieCreateBody {
  message: string;
  alias: string;
  description: string;
  priority: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
  tags: string[];
  details: Record<string, string>;
  entity: string;
  source: string;
  note?: string;
}

export interface OpsgenieNoteBody {
  note: string;
  source: string;
}

/** The alias is `pageKey` (at most 211 chars, as episodeKey is at most 200; Opsgenie takes 512). */
export function opsgenieAlias(episodeKey: string): string {
  return pageKey(episodeKey);
}

export function renderOpsgenieCreate(report: IncidentReport, options: { note?: string } = {}): OpsgenieCreateBody {
  const body: OpsgenieCreateBody = {
    message: truncate(`[${report.level}] ${report.alert.name} on ${subject(report)}: ${report.alert.summary}`, OPSGENIE_LIMITS.message),
    alias: opsgenieAlias(report.episodeKey),
    description: renderDescription(report),
    priority: LEVEL_OPSGENIE_PRIORITY[report.level],
    tags: renderTags(report),
    details: renderDetails(report),
    entity: truncate(subject(report), OPSGENIE_LIMITS.entity),
    source: 'remediator',
  };
  if (options.note) body.note = truncate(options.note, OPSGENIE_LIMITS.note);
  return body;
}

/** An update on the open alert: `POST /v2/alerts/{alias}/notes?identifierType=alias`. */
export function renderOpsgenieNote(report: IncidentReport, note: string): OpsgenieNoteBody {
  const text = `${note}\n\nStatus: ${STATUS_TEXT[report.status]}\nProgress: ${progressLine(report)}\n${report.rungs.map(rungLine).join('\n')}`;
  return { note: truncate(text.trim(), OPSGENIE_LIMITS.note), source: 'remediator' };
}

/** `POST /v2/alerts/{alias}/close?identifierType=alias`: only when the episode is verified healthy. */
export function renderOpsgenieClose(report: IncidentReport): OpsgenieNoteBody {
  return {
    note: truncate(`Recovered and verified by remediator (run ${report.run.id}). ${progressLine(report)}.`, OPSGENIE_LIMITS.note),
    source: 'remediator',
  };
}

function renderDescription(report: IncidentReport): string {
  const lines = [
    report.alert.summary,
    ...(report.alert.description ? ['', report.alert.description] : []),
    '',
    `Level: ${report.level}`,
    `Status: ${STATUS_TEXT[report.status]}`,
    `Services: ${report.services.join(', ') || '-'}`,
    `Started: ${dateTime(report.alert.startsAt)}`,
    `Progress: ${progressLine(report)}`,
    ...(report.eta ? [`ETA: ${report.eta}`] : []),
    ...(report.owner ? [`Owner: @${report.owner}`] : []),
    '',
    'Remediation ladder:',
    ...report.rungs.map((r) => `  ${rungLine(r)}`),
    '',
    ...incidentLinks(report).map((l) => `${l.text}: ${l.href}`),
    '',
    'Timeline (UTC):',
    ...report.timeline.map((e) => `  ${clock(e.at)} ${e.kind}${e.ok === undefined ? '' : e.ok ? ' ✓' : ' ✗'} ${e.text}`),
  ];
  let text = lines.join('\n');
  const room = OPSGENIE_LIMITS.description - text.length - 20;
  const snap = room > 200 ? snapshotText(report.snapshot, room) : undefined;
  if (snap !== undefined) text += `\n\nDiagnosis snapshot:\n${snap}`;
  return truncate(text, OPSGENIE_LIMITS.description);
}

function renderTags(report: IncidentReport): string[] {
  const raw = [
    'remediator',
    report.level,
    `alertname:${report.alert.name}`,
    ...(report.target?.namespace ? [`namespace:${report.target.namespace}`] : []),
    ...report.services.map((s) => `service:${s}`),
  ];
  const tags = [...new Set(raw.map((t) => truncate(t.replace(/[\s,]+/g, '_'), OPSGENIE_LIMITS.tagLength)))];
  return tags.slice(0, OPSGENIE_LIMITS.tags);
}

/** A string map whose keys and values together stay within 8 000 characters; the most useful entries first. */
function renderDetails(report: IncidentReport): Record<string, string> {
  const entries: Array<[string, string | undefined]> = [
    ['level', report.level],
    ['status', report.status],
    ['services', report.services.join(', ')],
    ['target', report.target ? subject(report) : undefined],
    ['started_at', report.alert.startsAt],
    ['episode', report.episodeKey],
    ['run_id', report.run.id],
    ['playbook', report.run.playbook],
    ['run_url', report.run.url],
    ['runbook', report.alert.runbookUrl],
    ['dashboard', report.alert.dashboardUrl],
    ['eta', report.eta],
    ['owner', report.owner],
    ['progress', progressLine(report)],
    ['rungs', report.rungs.map(rungLine).join('\n')],
    ...Object.entries(report.alert.labels).map(([k, v]): [string, string] => [`label_${k}`, v]),
  ];
  const out: Record<string, string> = {};
  let left: number = OPSGENIE_LIMITS.details;
  for (const [k, v] of entries) {
    if (v === undefined || v === '' || k in out) continue;
    const room = left - k.length;
    if (room < 8) break;
    const value = truncate(v, room);
    out[k] = value;
    left -= k.length + value.length;
  }
  return out;
}

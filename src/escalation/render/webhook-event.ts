import type { IncidentReport } from '../incident.ts';
import { pageKey } from '../../alerts/episode.ts';
import { LEVEL_SEVERITY } from '../severity-policy.ts';
import { incidentLinks, snapshotText, STATUS_TEXT, subject, truncate } from './text.ts';

/**
 * The generic outbound webhook body (docs/contracts.md §5.4): Alertmanager-receiver friendly JSON, idempotent on
 * `dedupKey` + `event`, with the whole incident report (snapshot bounded) for receivers that want the story.
 */
export interface WebhookEventBody {
  version: '1';
  event: 'remediation.escalated' | 'remediation.updated' | 'remediation.resolved';
  dedupKey: string;
  level: IncidentReport['level'];
  severity: 'critical' | 'error' | 'warning' | 'info';
  status: IncidentReport['status'];
  summary: string;
  source: string;
  playbook: { name: string; runId: string };
  alert: { name: string; fingerprints: string[]; labels: Record<string, string>; startsAt: string };
  links: Array<{ href: string; text: string }>;
  note?: string;
  timestamp: string;
  incident: IncidentReport;
}

const EVENT = { trigger: 'remediation.escalated', update: 'remediation.updated', resolve: 'remediation.resolved' } as const;

export function renderWebhookEvent(
  report: IncidentReport,
  options: { action: 'trigger' | 'update' | 'resolve'; note?: string; at?: string; snapshotMaxChars?: number },
): WebhookEventBody {
  const incident: IncidentReport = { ...report };
  if (report.snapshot !== undefined) {
    const limit = options.snapshotMaxChars ?? 65_536;
    const text = snapshotText(report.snapshot, Number.POSITIVE_INFINITY) ?? '';
    if (text.length > limit) incident.snapshot = snapshotText(report.snapshot, limit);
  }
  return {
    version: '1',
    event: EVENT[options.action],
    dedupKey: pageKey(report.episodeKey),
    level: report.level,
    severity: LEVEL_SEVERITY[report.level],
    status: options.action === 'resolve' ? 'recovered' : report.status,
    summary: truncate(
      `[${report.level}] ${report.alert.name} on ${subject(report)}: ${report.alert.summary} (${STATUS_TEXT[options.action === 'resolve' ? 'recovered' : report.status]})`,
      1024,
    ),
    source: subject(report),
    playbook: { name: report.run.playbook, runId: report.run.id },
    alert: {
      name: report.alert.name,
      fingerprints: report.alert.fingerprint ? [report.alert.fingerprint] : [],
      labels: report.alert.labels,
      startsAt: report.alert.startsAt,
    },
    links: incidentLinks(report),
    ...(options.note ? { note: options.note } : {}),
    timestamp: options.at ?? new Date().toISOString(),
    incident,
  };
}

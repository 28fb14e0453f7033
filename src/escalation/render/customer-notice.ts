import type { IncidentReport } from '../incident.ts';
import { dateTime } from './text.ts';

export interface CustomerNoticeOptions {
  /** The product as customers know it (default: the affected services). */
  product?: string;
  /** What customers cannot do (default: "<services> may be unavailable or slow"). */
  impact?: string;
  /** Signature line (default "The engineering team"). */
  team?: string;
  /** When the notice is issued, RFC 3339 (default: now). */
  at?: string;
}

/**
 * The runbook's customer notice, in English, as plain text for a status page or an e-mail. While the incident is
 * open it announces the disruption and the expected recovery; once recovered it says so. It never carries internal
 * details (labels, rungs, links to internal tools).
 */
export function renderCustomerNotice(report: IncidentReport, options: CustomerNoticeOptions = {}): string {
  const product = options.product ?? (report.services.length > 0 ? report.services.join(', ') : 'our service');
  const impact = options.impact ?? `${product} may be unavailable or slow`;
  const team = options.team ?? 'The engineering team';
  const at = dateTime(options.at ?? new Date().toISOString());
  if (report.status === 'recovered') {
    return [
      'Dear customer,',
      '',
      `${product} experienced a temporary disruption that started at ${dateTime(report.alert.startsAt)}. The service has been fully restored.`,
      '',
      `Impact: ${impact}`,
      `Restored: ${lastRecovery(report) ?? at}`,
      '',
      'We apologise for the inconvenience and will share a detailed report.',
      '',
      team,
      at,
    ].join('\n');
  }
  return [
    'Dear customer,',
    '',
    `We detected a temporary disruption of ${product}. Our engineering team is working on it urgently.`,
    '',
    `Impact: ${impact}`,
    `Expected recovery: ${report.eta ?? 'we will update you within the hour'}`,
    '',
    'We apologise for the inconvenience and will send a detailed report once the service is restored.',
    '',
    team,
    at,
  ].join('\n');
}

function lastRecovery(report: IncidentReport): string | undefined {
  const e = [...report.timeline].reverse().find((t) => t.kind === 'recovery');
  return e ? dateTime(e.at) : undefined;
}

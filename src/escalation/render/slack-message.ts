import type { IncidentReport, IncidentRung } from '../incident.ts';
import { LEVEL_SEVERITY } from '../severity-policy.ts';
import { dateTime, progressLine, STATUS_TEXT, subject, truncate } from './text.ts';

/**
 * A Slack incoming-webhook message following the runbook's Slack template:
 *
 * ```
 * 🚨 [CRITICAL] ServiceDown on ai-ninja/Deployment/phone-gateway — remediation in progress
 * Services: phone-gateway
 * Start time: 2026-01-01 14:30:00 UTC
 * Current status: automatic remediation in progress
 * Progress: 2 of 3 rungs tried, 0 succeeded
 * Actions tried:
 * - [X] restart — failed: rollout did not become ready
 * - [ ] rollback
 * ETA: ~15 min
 * Owner: @oncall
 * Dashboard: https://…
 * Run: https://…
 * ```
 *
 * `text` carries that whole template (it is the notification and the fallback); `blocks` lays the same fields out
 * with Block Kit. Slack limits respected: header 150 chars, section text 3 000, 10 fields of 2 000, 50 blocks.
 */
export interface SlackMessage {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

export type SlackMessageKind = 'trigger' | 'update' | 'resolve';

const HEADLINE: Readonly<Record<IncidentReport['status'], string>> = {
  remediating: 'remediation in progress',
  escalated: 'automation could not fix it, a human is needed',
  recovered: 'recovered',
  failed: 'remediation failed',
};

export function renderSlackMessage(report: IncidentReport, options: { kind?: SlackMessageKind; note?: string } = {}): SlackMessage {
  const kind = options.kind ?? 'trigger';
  const recovered = kind === 'resolve' || report.status === 'recovered';
  const emoji = recovered ? '✅' : report.level === 'P0' || report.level === 'P1' ? '🚨' : report.level === 'P2' ? '⚠️' : 'ℹ️';
  const tag = LEVEL_SEVERITY[report.level].toUpperCase();
  const headline = recovered ? HEADLINE.recovered : HEADLINE[report.status];
  const title = `${emoji} [${tag}] ${report.alert.name} on ${subject(report)} — ${headline}`;

  const services = report.services.join(', ') || '-';
  const start = dateTime(report.alert.startsAt);
  const status = recovered ? STATUS_TEXT.recovered : STATUS_TEXT[report.status];
  const progress = progressLine(report);
  const tried = report.rungs.map(actionLine);
  const eta = recovered ? 'recovered' : (report.eta ?? 'unknown');
  const owner = report.owner ? `@${report.owner}` : 'unassigned';
  const links: Array<[string, string | undefined]> = [
    ['Dashboard', report.alert.dashboardUrl],
    ['Run', report.run.url],
    ['Runbook', report.alert.runbookUrl],
  ];

  const text = truncate(
    [
      title,
      ...(options.note ? [`Update: ${options.note}`] : []),
      `Services: ${services}`,
      `Start time: ${start}`,
      `Current status: ${status}`,
      `Progress: ${progress}`,
      'Actions tried:',
      ...(tried.length > 0 ? tried.map((l) => `- ${l}`) : ['- (none yet)']),
      `ETA: ${eta}`,
      `Owner: ${owner}`,
      ...links.filter(([, href]) => href).map(([name, href]) => `${name}: ${href}`),
      `Run id: ${report.run.id} (playbook ${report.run.playbook})`,
    ].join('\n'),
    3000,
  );

  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(esc(report.alert.summary || report.alert.name), 3000) } },
  ];
  if (options.note) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*Update:* ${esc(options.note)}`, 3000) } });
  blocks.push({
    type: 'section',
    fields: [
      ['Services', services],
      ['Start time', start],
      ['Current status', status],
      ['Progress', progress],
      ['ETA', eta],
      ['Owner', report.owner ? mention(report.owner) : owner],
    ].map(([k, v]) => ({ type: 'mrkdwn', text: truncate(`*${k}:*\n${k === 'Owner' ? v : esc(v ?? '')}`, 2000) })),
  });
  blocks.push({
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: truncate(`*Actions tried:*\n${tried.length > 0 ? tried.map((l) => esc(l)).join('\n') : '(none yet)'}`, 3000),
    },
  });
  const buttons = links
    .filter(([, href]) => href && /^https?:\/\//i.test(href) && href.length <= 3000)
    .map(([name, href]) => ({ type: 'button', text: { type: 'plain_text', text: name }, url: href }));
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncate(
          esc(`Run ${report.run.id} · playbook ${report.run.playbook} · episode ${report.episodeKey} · ${report.level}`),
          3000,
        ),
      },
    ],
  });
  return { text, blocks };
}

/** `[X] restart — failed: rollout did not become ready` for tried rungs, `[ ] rollback` for the rest. */
function actionLine(r: IncidentRung): string {
  const done = r.outcome === 'succeeded' || r.outcome === 'failed';
  const state = r.outcome === 'pending' ? '' : ` — ${r.outcome}${r.reason ? `: ${r.reason}` : ''}`;
  return `[${done ? 'X' : ' '}] ${r.name}${state}`;
}

/** Slack mrkdwn needs &, < and > escaped. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Slack member id (U…/W…) becomes a real mention; anything else stays readable text. */
function mention(owner: string): string {
  return /^[UW][A-Z0-9]{6,}$/.test(owner) ? `<@${owner}>` : `@${esc(owner)}`;
}

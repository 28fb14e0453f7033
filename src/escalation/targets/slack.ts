import { sendAndClassify } from '../delivery-outcome.ts';
import type { IncidentReport } from '../incident.ts';
import { renderSlackMessage } from '../render/slack-message.ts';
import type { EscalationAction, PagingTarget } from './paging-target.ts';

/**
 * A Slack incoming webhook. Success is HTTP 200 with the body `ok`; anything else in a 200 is a refusal. An incoming
 * webhook cannot edit a message, so each event (escalation, update, recovery) is a new message in the channel.
 * The webhook URL is the credential: it is kept out of every log line, error and record.
 */
export function slackTarget(name: string, config: { webhookUrl: string; role?: 'page' | 'notify' }): PagingTarget {
  const url = config.webhookUrl;
  return {
    name,
    type: 'slack',
    role: config.role ?? 'notify',
    secrets: [url],
    dependsOnTrigger: false,
    render(action: EscalationAction, report: IncidentReport, note?: string) {
      return renderSlackMessage(report, { kind: action, ...(note ? { note } : {}) });
    },
    send(item, ctx) {
      return sendAndClassify(
        ctx.http,
        {
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(item.body),
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
        },
        ctx.now,
        (res) => (typeof res.body === 'string' && res.body.trim() === 'ok' ? null : `Slack did not answer "ok"`),
      );
    },
  };
}

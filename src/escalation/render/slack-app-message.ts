import type { IncidentApproval, IncidentReport } from '../incident.ts';
import { renderSlackMessage, type SlackMessage, type SlackMessageKind } from './slack-message.ts';
import { dateTime, truncate } from './text.ts';

/**
 * What the slack-app target sends for one event (docs/contracts.md §5.3):
 * - `message`: the incident's one message (the thread parent), posted by the first event and edited with
 *   `chat.update` by every later one, so it always shows the run's state;
 * - `reply`: a thread reply (`thread_ts` = the parent's `ts`) for an update or a resolve: the rung that ended, the
 *   person who decided, the recovery.
 *
 * While the run waits for approval of a plan nobody has answered yet, and the target can verify clicks (it has a
 * signing secret), the message carries the four buttons: Approve, Reject, Cancel and Take over, each behind a confirm
 * dialog. Each button's value names the run and the exact plan (`<runId> <planHash>`), so a click answers the plan
 * shown and nothing newer. Once answered the buttons are gone and the message says who decided.
 */
export interface SlackAppBody {
  message: SlackMessage;
  reply?: string;
}

/** The buttons' action ids, as the interactivity endpoint reads them back. */
export const SLACK_ACTIONS = ['approve', 'reject', 'cancel', 'take_over'] as const;
export type SlackActionId = (typeof SLACK_ACTIONS)[number];

export function renderSlackAppMessage(
  report: IncidentReport,
  options: { kind?: SlackMessageKind; note?: string; buttons?: boolean } = {},
): SlackAppBody {
  const kind = options.kind ?? 'trigger';
  const message = renderSlackMessage(report, { kind, ...(options.note ? { note: options.note } : {}) });
  const approval = kind === 'resolve' ? undefined : report.approval;
  if (approval) {
    const line = approvalLine(approval);
    message.text = truncate(`${message.text}\n${line}`, 3000);
    // Before the closing context block: what waits, then (while unanswered) what can be done about it.
    const at = Math.max(0, message.blocks.length - 1);
    const added: Array<Record<string, unknown>> = [{ type: 'section', text: { type: 'mrkdwn', text: truncate(line, 3000) } }];
    if (!approval.answer && options.buttons !== false) added.push(approvalButtons(report.run.id, approval, report.timeline.length));
    message.blocks.splice(at, 0, ...added);
  }
  const reply =
    kind === 'trigger' ? undefined : kind === 'resolve' ? `✅ Recovered${options.note ? `: ${options.note}` : ''}` : options.note;
  return { message, ...(reply ? { reply: truncate(reply, 3000) } : {}) };
}

function approvalLine(a: IncidentApproval): string {
  if (a.answer) return `Plan of step "${a.stepId}" ${a.answer.verdict} by ${a.answer.by} at ${dateTime(a.answer.at)}: ${a.plan}`;
  return `Waiting for approval until ${dateTime(a.expiresAt)}: ${a.plan}`;
}

/**
 * Slack limits (docs/contracts.md §5.3): block_id ≤255 and new on each edit, action_id unique in the block, value ≤2000,
 * button text ≤75, confirm title ≤100, text ≤300, confirm/deny ≤30, one `primary` per set.
 */
function approvalButtons(runId: string, a: IncidentApproval, edition: number): Record<string, unknown> {
  const value = `${runId} ${a.planHash}`;
  const plain = (text: string, max: number) => ({ type: 'plain_text', text: truncate(text, max) });
  const confirm = (title: string, text: string, yes: string, style?: 'danger') => ({
    title: plain(title, 100),
    text: plain(text, 300),
    confirm: plain(yes, 30),
    deny: plain('Back', 30),
    ...(style ? { style } : {}),
  });
  return {
    type: 'actions',
    block_id: truncate(`approval:${a.planHash.slice(0, 32)}:${edition}`, 255),
    elements: [
      {
        type: 'button',
        action_id: 'approve',
        value,
        style: 'primary',
        text: plain('Approve', 75),
        confirm: confirm('Approve this plan?', `Run ${a.plan}`, 'Approve'),
      },
      {
        type: 'button',
        action_id: 'reject',
        value,
        style: 'danger',
        text: plain('Reject', 75),
        confirm: confirm('Reject this plan?', `Do not run ${a.plan}; the run ends without it`, 'Reject', 'danger'),
      },
      {
        type: 'button',
        action_id: 'cancel',
        value,
        text: plain('Cancel run', 75),
        confirm: confirm(
          'Cancel this run?',
          'The run stops now, its step under way interrupted; nothing more is done for it',
          'Cancel run',
        ),
      },
      {
        type: 'button',
        action_id: 'take_over',
        value,
        text: plain('Take over', 75),
        confirm: confirm('Take the incident over?', 'Automation stops here and you handle the incident by hand', 'Take over'),
      },
    ],
  };
}

import { RemediatorError } from '../domain/errors.ts';
import type { DurableEscalator } from '../escalation/durable-escalator.ts';
import type { IncidentReport } from '../escalation/incident.ts';
import { renderCustomerNotice } from '../escalation/render/customer-notice.ts';
import type { Clock } from '../ports/clock.ts';
import type { RunStore } from '../store/run-store.ts';
import type { RunView } from '../store/run-record.ts';
import { runsOfEpisode } from './episode-runs.ts';
import type { NoticeLog, NoticeRecord } from './notice-log.ts';

export interface CustomerNoticeDeps {
  store: RunStore;
  escalator: Pick<DurableEscalator, 'publish'>;
  log: NoticeLog;
  reportFor: (view: RunView) => IncidentReport;
  clock: Clock;
  /** escalation.notice */
  config: { targets: string[]; product?: string; team?: string };
  /** Four eyes (approvals.requireDifferentApprover): whoever wrote the notice's text may not approve it. */
  requireDifferentApprover: boolean;
}

/** What an approver sees: the draft as it would be sent now, who wrote it, where it would go, and the history. */
export interface NoticeView {
  episode: string;
  status: 'pending' | 'sent' | 'rejected';
  draft: string;
  /** The person whose proposed text the draft is; absent: rendered from the incident. */
  draftedBy?: string;
  targets: string[];
  history: NoticeRecord[];
}

/**
 * The customer notice of an incident. The tech lead decides what is said to customers, so nothing is ever sent by
 * itself: the draft is rendered from the incident as it stands (the runbook's template: impact, expected recovery,
 * apology; `renderCustomerNotice`), an approver reads it, and sends exactly the text they approve (edited or not),
 * with a reason, or rejects it. Each answer is a decision naming the approver (`notice_approved`,
 * `notice_rejected`) and is kept for the incident report. A later notice (e.g. "restored") is a new draft and a new
 * approval.
 *
 * Four eyes (approvals.requireDifferentApprover, default true): whoever wrote the text may not approve it. An
 * operator or approver proposes an edited text (`draft`, recorded with their name); another approver approves it.
 * An approver who approves a text they drafted, or sends an edit of their own with the approval, is refused with
 * REM_ERR_SELF_APPROVAL, recorded as `approval_refused`, and nothing is sent. The rendered draft is written by
 * remediator from the incident, so any approver may approve it as it is.
 */
export class CustomerNoticeFlow {
  readonly #d: CustomerNoticeDeps;

  constructor(deps: CustomerNoticeDeps) {
    this.#d = deps;
  }

  async view(episodeKey: string): Promise<NoticeView> {
    const { report } = await this.#latest(episodeKey);
    const history = await this.#d.log.list(episodeKey);
    const last = history.at(-1);
    const proposed = proposal(history);
    // Pending until a person answers (or after a new proposal); without a proposal the draft shows the incident as it
    // stands, for the next notice.
    return {
      episode: episodeKey,
      status: !last || last.status === 'drafted' ? 'pending' : last.status,
      draft: proposed?.text ?? this.#draft(report),
      ...(proposed ? { draftedBy: proposed.by } : {}),
      targets: [...this.#d.config.targets],
      history,
    };
  }

  /** A person proposes the notice's text (an edit of the draft); an approver other than them sends it (four eyes). */
  async propose(episodeKey: string, author: string, reason: string, text: string): Promise<NoticeView> {
    await this.#latest(episodeKey);
    await this.#d.log.add(episodeKey, { status: 'drafted', text, by: author, reason, at: new Date(this.#d.clock.now()).toISOString() });
    return this.view(episodeKey);
  }

  async approve(episodeKey: string, approver: string, reason: string, text: string | undefined, signal?: AbortSignal): Promise<NoticeView> {
    const { view, report } = await this.#latest(episodeKey);
    const proposed = proposal(await this.#d.log.list(episodeKey));
    const shown = proposed?.text ?? this.#draft(report);
    const body = text ?? shown;
    const at = new Date(this.#d.clock.now()).toISOString();
    // Who wrote what would be sent: the approver when they edit it now, the proposer of a draft, else remediator.
    const author = body !== shown ? approver : proposed?.by;
    if (this.#d.requireDifferentApprover && author === approver) {
      const message = `${approver} ${body !== shown ? 'edited' : 'drafted'} this customer notice, so may not approve it; another approver must (approvals.requireDifferentApprover)${body !== shown ? `. Propose the text with POST /v1/incidents/${episodeKey}/notice/draft` : ''}`;
      await this.#d.store.recordDecision({
        at,
        reason: 'approval_refused',
        by: approver,
        runId: view.id,
        playbook: view.playbook,
        ...(view.episodeId ? { episodeId: view.episodeId } : {}),
        message,
      });
      throw new RemediatorError('REM_ERR_SELF_APPROVAL', message);
    }
    await this.#d.escalator.publish(report, body, this.#d.config.targets, signal ? { signal } : {});
    await this.#d.log.add(episodeKey, { status: 'sent', text: body, by: approver, reason, at, targets: [...this.#d.config.targets] });
    await this.#d.store.recordDecision({
      at,
      reason: 'notice_approved',
      by: approver,
      runId: view.id,
      playbook: view.playbook,
      ...(view.episodeId ? { episodeId: view.episodeId } : {}),
      message: `${approver} approved the customer notice${author ? ` (written by ${author})` : ''} for ${this.#d.config.targets.join(', ')}: ${reason}`,
    });
    return this.view(episodeKey);
  }

  async reject(episodeKey: string, approver: string, reason: string): Promise<NoticeView> {
    const { view, report } = await this.#latest(episodeKey);
    const at = new Date(this.#d.clock.now()).toISOString();
    await this.#d.log.add(episodeKey, {
      status: 'rejected',
      text: proposal(await this.#d.log.list(episodeKey))?.text ?? this.#draft(report),
      by: approver,
      reason,
      at,
    });
    await this.#d.store.recordDecision({
      at,
      reason: 'notice_rejected',
      by: approver,
      runId: view.id,
      playbook: view.playbook,
      ...(view.episodeId ? { episodeId: view.episodeId } : {}),
      message: `${approver} rejected the customer notice; nothing was sent: ${reason}`,
    });
    return this.view(episodeKey);
  }

  #draft(report: IncidentReport): string {
    const { eta, ...rest } = report;
    const forCustomers = customerEta(eta);
    const text = renderCustomerNotice(
      { ...rest, ...(forCustomers ? { eta: forCustomers } : {}) },
      {
        ...(this.#d.config.product ? { product: this.#d.config.product } : {}),
        ...(this.#d.config.team ? { team: this.#d.config.team } : {}),
      },
    );
    // No time of issue at the end: the text an approver read is the text that is sent, whenever they approve it.
    return text.replace(/\n[^\n]*$/, '');
  }

  async #latest(episodeKey: string): Promise<{ view: RunView; report: IncidentReport }> {
    const view = (await runsOfEpisode(this.#d.store, episodeKey)).at(-1);
    if (!view) throw new RemediatorError('REM_ERR_NOT_FOUND', `nothing is recorded for episode ${episodeKey}`);
    return { view, report: this.#d.reportFor(view) };
  }
}

/** The text proposed since the last answer, if any: what an approver is asked to send. */
function proposal(history: NoticeRecord[]): NoticeRecord | undefined {
  const last = history.at(-1);
  return last?.status === 'drafted' ? last : undefined;
}

/**
 * The internal ETA (`by <time> at the latest if a remaining rung fixes it (…)`) as customers may read it: the time,
 * rounded up to 5 minutes, without the internals. Undefined when automation has nothing left (the template then
 * promises an update within the hour).
 */
export function customerEta(eta: string | undefined): string | undefined {
  const m = /^by (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z/.exec(eta ?? '');
  if (!m) return undefined;
  const step = 5 * 60_000;
  const at = new Date(Math.ceil(Date.parse(`${m[1]}Z`) / step) * step);
  return `by ${at.toISOString().slice(11, 16)} UTC`;
}

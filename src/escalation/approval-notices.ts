import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Decision } from '../engine/decision.ts';
import { FINAL_STATUSES, type PendingApproval } from '../engine/run-state.ts';
import { RemediatorError } from '../domain/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { RunView } from '../store/run-record.ts';
import type { ApprovalJobData } from './durable-escalator.ts';
import type { EscalationConfig } from './escalation-config.ts';
import type { Escalator } from './escalator.ts';
import type { IncidentReport } from './incident.ts';

export interface ApprovalNoticesDeps {
  escalator: Pick<Escalator, 'trigger'> & {
    scheduleApproval(job: ApprovalJobData, at: number, key: string, options?: { signal?: AbortSignal }): Promise<void>;
  };
  getRun(runId: string): Promise<RunView | undefined>;
  recordDecision(decision: Decision): Promise<void>;
  reportFor(view: RunView): IncidentReport;
  /** Where approvers are told (approvalTargets). Empty: nobody is told, nothing is scheduled. */
  targets: string[];
  /**
   * The durable side of "a notice job for every wait" (RunStore.unannouncedApprovals / approvalAnnounced): the
   * `awaiting_approval` decision enters the run in an index in the same transaction; the entry goes once the notice
   * job is in the queue.
   */
  unannounced(olderThanMs: number, now: number, limit: number): Promise<Array<{ runId: string; at: number }>>;
  announced(runId: string, at: number): Promise<void>;
  /** How long before the window closes the reminder goes (0: no reminder). */
  remindBeforeMs: number;
  clock: Clock;
  log: Logger;
}

/** How long a notice waits for the run's waiting state to be saved after its awaiting_approval decision. */
const SAVE_GRACE_MS = 10_000;
/** How long one attempt of a notice polls for it before the job is retried. */
const POLL_FOR_MS = 2_000;
/** How old an unannounced wait must be before the sweeper adds its notice job (the recording process normally has). */
const ANNOUNCE_GRACE_MS = 10_000;

/**
 * Waiting approvals reach the approvers (issue: "approvals are silent"):
 * - `waiting(decision)`: an `awaiting_approval` decision (the engine records one per new plan) schedules a notice,
 *   durably (a job in the escalation queue);
 * - the notice (`handle`) sends the run's report, with the plan and, on Slack app targets, the buttons, to the
 *   approval targets, records `approval_requested`, and schedules the reminder `remindBefore` the window closes;
 * - the reminder, if that plan is still unanswered, goes to the same targets and records `approval_reminded`.
 * When the window closes unanswered the run escalates, as it always did (approval_expired).
 *
 * Nothing is lost to a crash between the `awaiting_approval` decision and the notice job: the decision and an
 * "unannounced" entry are written together, the entry goes only once the job is in the queue, and the stuck-run
 * sweeper calls `redrive` to add the job of any entry left behind. The job id is the run and the decision's time, so
 * adding it twice adds one job, and a notice already sent (its `approval_requested` recorded) is not sent again.
 */
export function approvalNotices(deps: ApprovalNoticesDeps) {
  const now = () => deps.clock.now();

  /** The run once it is saved as awaiting approval; undefined when it never will be (ended, answered, gone). */
  async function awaiting(runId: string, signal: AbortSignal): Promise<{ view: RunView; pending: PendingApproval } | undefined> {
    const begin = Date.now();
    for (;;) {
      const view = await deps.getRun(runId);
      if (!view) return undefined;
      const pending = view.status === 'awaiting_approval' ? view.state?.approval : undefined;
      if (pending) return { view, pending };
      // The decision is recorded just before the waiting state is saved: wait for it, briefly (a worker that died in
      // between leaves the job to be retried).
      if (FINAL_STATUSES.has(view.status) || Date.parse(lastAwaiting(view) ?? view.createdAt) + SAVE_GRACE_MS <= now()) return undefined;
      if (Date.now() - begin > POLL_FOR_MS)
        throw new RemediatorError('REM_ERR_CONFLICT', `run ${runId} is not saved as awaiting approval yet; the notice is retried`);
      await sleep(50, undefined, { signal });
    }
  }

  async function notice(runId: string, signal: AbortSignal): Promise<void> {
    const found = await awaiting(runId, signal);
    if (!found) return;
    const { view, pending } = found;
    if (view.approvals?.[pending.stepId]?.planHash === pending.planHash) return;
    if (alreadyTold(view)) return;
    const report = deps.reportFor(view);
    const plan = report.approval?.plan ?? pending.stepId;
    await deps.escalator.trigger(report, {
      targets: deps.targets,
      note: `Waiting for approval until ${pending.expiresAt}: ${plan}. Approve or reject here or with POST /v1/runs/${runId}/approve.`,
      signal,
    });
    await decide(
      view,
      'approval_requested',
      `approvers told on ${deps.targets.join(', ')}: step "${pending.stepId}" waits for approval until ${pending.expiresAt}`,
    );
    const remindAt = Date.parse(pending.expiresAt) - deps.remindBeforeMs;
    if (deps.remindBeforeMs > 0 && remindAt > now()) {
      await deps.escalator.scheduleApproval(
        { kind: 'reminder', runId, planHash: pending.planHash },
        remindAt,
        `${runId}-${pending.planHash.slice(0, 16)}`,
        { signal },
      );
    }
  }

  async function reminder(runId: string, planHash: string | undefined, signal: AbortSignal): Promise<void> {
    const view = await deps.getRun(runId);
    const pending = view?.status === 'awaiting_approval' ? view.state?.approval : undefined;
    if (!view || !pending || pending.planHash !== planHash) return;
    if (view.approvals?.[pending.stepId]?.planHash === pending.planHash) return;
    if (Date.parse(pending.expiresAt) <= now()) return;
    const report = deps.reportFor(view);
    await deps.escalator.trigger(report, {
      targets: deps.targets,
      note: `Reminder: the approval of step "${pending.stepId}" closes at ${pending.expiresAt}; unanswered, the run escalates.`,
      signal,
    });
    await decide(
      view,
      'approval_reminded',
      `approvers reminded on ${deps.targets.join(', ')}: step "${pending.stepId}" still waits; its window closes at ${pending.expiresAt}`,
    );
  }

  function decide(view: RunView, reason: 'approval_requested' | 'approval_reminded', message: string): Promise<void> {
    return deps.recordDecision({
      at: new Date(now()).toISOString(),
      reason,
      runId: view.id,
      playbook: view.playbook,
      ...(view.episodeId ? { episodeId: view.episodeId } : {}),
      message,
    });
  }

  /** Adds the notice job of the wait recorded at `at` (idempotent by id), then forgets its unannounced entry. */
  async function announce(runId: string, at: number): Promise<void> {
    await deps.escalator.scheduleApproval({ kind: 'notice', runId }, now(), `${runId}-${at}`);
    await deps.announced(runId, at);
  }

  return {
    /** Told of every decision recorded (RunStore's onDecision); acts on `awaiting_approval` only. Never throws. */
    waiting(decision: Decision): void {
      if (decision.reason !== 'awaiting_approval' || !decision.runId || deps.targets.length === 0) return;
      const runId = decision.runId;
      announce(runId, Date.parse(decision.at)).catch((err: unknown) => {
        deps.log.error(
          { runId, error: (err as Error).message },
          'the approvers could not be told yet that a run waits for approval; the sweeper tries again',
        );
      });
    },
    /**
     * The sweeper's pass: adds the notice job of every wait recorded at least ANNOUNCE_GRACE_MS ago whose job is not
     * confirmed in the queue (the process that recorded it died, or Redis failed, before it added the job). Returns
     * the runs it announced.
     */
    async redrive(limit = 100): Promise<string[]> {
      const done: string[] = [];
      for (const { runId, at } of await deps.unannounced(ANNOUNCE_GRACE_MS, now(), limit)) {
        if (deps.targets.length > 0) await announce(runId, at);
        else await deps.announced(runId, at);
        done.push(runId);
      }
      return done;
    },
    /** The escalator's onApproval. */
    handle(job: ApprovalJobData, signal: AbortSignal): Promise<void> {
      return job.kind === 'notice' ? notice(job.runId, signal) : reminder(job.runId, job.planHash, signal);
    },
  };
}

/** Whether the approvers were already told of the run's latest wait (a notice job added twice sends once). */
function alreadyTold(view: RunView): boolean {
  const reasons = view.decisions.map((d) => d.reason);
  return reasons.lastIndexOf('approval_requested') > reasons.lastIndexOf('awaiting_approval');
}

function lastAwaiting(view: RunView): string | undefined {
  return view.decisions.filter((d) => d.reason === 'awaiting_approval').at(-1)?.at;
}

/** The approval targets: as configured, else every slack-app target and every target whose role is notify. */
export function approvalTargets(config: EscalationConfig | undefined): string[] {
  if (!config) return [];
  if (config.approvals?.targets) return config.approvals.targets;
  return Object.entries(config.targets ?? {})
    .filter(
      ([, c]) => c.type === 'slack-app' || (c.role ?? (c.type === 'pagerduty' || c.type === 'opsgenie' ? 'page' : 'notify')) === 'notify',
    )
    .map(([name]) => name);
}

import { formatDuration } from '../domain/duration.ts';
import { FINAL_STATUSES } from '../engine/run-state.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { Clock } from '../ports/clock.ts';
import type { DurableEscalator } from '../escalation/durable-escalator.ts';
import type { IncidentReport } from '../escalation/incident.ts';
import type { SeverityPolicy } from '../escalation/severity-policy.ts';
import type { RunQueue } from '../queue/run-queue.ts';
import type { RunStore } from '../store/run-store.ts';
import type { RunView } from '../store/run-record.ts';

/** The start of the decision message that marks a run as paged for its resolution time (how a repeat is told). */
export const OVERDUE_MARK = 'resolution time exceeded:';

export interface ResolutionWatchDeps {
  escalator: Pick<DurableEscalator, 'trigger' | 'watchResolution'>;
  store: RunStore;
  policy: SeverityPolicy;
  /** The run's incident report; its `level` is the level whose resolution time applies (one level per incident). */
  reportFor: (view: RunView) => IncidentReport;
  playbook: (name: string) => Playbook | undefined;
  /** To wake a sleeping run that the policy stops, so it ends now rather than at its next poll. */
  queue: Pick<RunQueue, 'wake'>;
  clock: Clock;
}

/**
 * A run that outlives its level's resolution time escalates, once.
 *
 * How it is timed: when a run starts its first rung, `watch` asks the escalator for a delayed BullMQ job at
 * `createdAt + resolution time`, with the run's id as job id. A delayed job rather than a check in the sweeper
 * because BullMQ already gives what this needs: the job is in Redis (it survives restarts), one id means one job
 * however many replicas and rungs ask, it fires at its time rather than on the next sweep, and a worker that dies
 * while handling it has it handed to another (stalled-job recovery). The clock starts at the run's creation: time spent
 * queued or waiting counts, as it does for the people waiting on the fix.
 *
 * What happens then (`overdue`): nothing if the run ended. Otherwise the incident is triggered with the reason (an
 * `escalated` decision whose message starts with OVERDUE_MARK records it), then the level's `overdue` policy applies:
 * `continue` (default) lets the run go on, its further rungs become notes on the incident, and a verified fix
 * resolves it; `stop` cancels the run (by `severity-policy`) and wakes it so it ends at once.
 *
 * Once only: the recorded decision is checked first, and a trigger for an episode whose incident is open goes out as
 * an update, never as a second page; so a retried or re-added job at worst repeats a note.
 */
export function resolutionWatch(deps: ResolutionWatchDeps) {
  return {
    /** Asks for the run's overdue job (idempotent). */
    async watch(view: RunView, signal: AbortSignal): Promise<void> {
      const level = deps.reportFor(view).level;
      await deps.escalator.watchResolution(view.id, Date.parse(view.createdAt) + deps.policy.resolutionDeadline(level), { signal });
    },

    /** The overdue job's handler (DurableEscalator `onOverdue`). */
    async overdue(runId: string, signal: AbortSignal): Promise<void> {
      const view = await deps.store.getRun(runId);
      if (!view || FINAL_STATUSES.has(view.status)) return;
      if (view.decisions.some((d) => d.reason === 'escalated' && d.message.startsWith(OVERDUE_MARK))) return;
      const report = deps.reportFor(view);
      const level = deps.policy.forLevel(report.level);
      const age = deps.clock.now() - Date.parse(view.createdAt);
      if (age < level.resolutionMs) {
        // The level's resolution time changed since the watch began (config reload): come back at the new time.
        await deps.escalator.watchResolution(runId, Date.parse(view.createdAt) + level.resolutionMs, { signal });
        return;
      }
      const then = level.overdue === 'stop' ? 'the run is stopped and left to people' : 'automation keeps trying';
      const reason = `${OVERDUE_MARK} run ${runId} is still working ${formatDuration(age)} after it began; ${report.level} incidents must be resolved within ${formatDuration(level.resolutionMs)}; ${then}`;
      const targets = deps.playbook(view.playbook)?.onExhausted.targets;
      await deps.escalator.trigger({ ...report, status: 'escalated' }, { ...(targets ? { targets } : {}), note: reason, signal });
      await deps.store.recordDecision({
        at: new Date(deps.clock.now()).toISOString(),
        reason: 'escalated',
        playbook: view.playbook,
        runId,
        episodeId: view.episodeId,
        message: reason,
      });
      if (level.overdue === 'stop') {
        await deps.store.requestCancel(runId, 'severity-policy', reason, {
          at: new Date(deps.clock.now()).toISOString(),
          reason: 'cancelled',
          playbook: view.playbook,
          runId,
          episodeId: view.episodeId,
          message: `severity-policy cancelled the run: ${reason}`,
        });
        await deps.queue.wake(runId);
      }
    },
  };
}

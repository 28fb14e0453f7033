import type { RunContext } from '../engine/run-context.ts';
import type { RungRecord, RunState } from '../engine/run-state.ts';
import type { Escalator } from '../escalation/escalator.ts';
import type { IncidentReport } from '../escalation/incident.ts';
import type { RunStore } from '../store/run-store.ts';
import type { RunView } from '../store/run-record.ts';

/** The line a person reads on the incident when a rung starts or ends: `Trying rung 2 of 3 "rollback".` */
export function rungNote(ctx: RunContext, rung: RungRecord, phase: 'started' | 'ended'): string {
  const rungs = ctx.playbook.rungs;
  const index = rungs.findIndex((r) => r.name === rung.name);
  const place = index >= 0 ? ` ${index + 1} of ${rungs.length}` : '';
  if (phase === 'started') return `Trying rung${place} "${rung.name}" (run ${ctx.run.id}, playbook ${ctx.run.playbook}).`;
  return `Rung${place} "${rung.name}" ${rung.outcome}${rung.reason ? `: ${rung.reason}` : ''}.`;
}

/**
 * The executor's `onRung` hook for the incident lifecycle: once the run's episode has an open incident (an `escalate`
 * step paged early, an earlier run of the same episode escalated, or the run went past its resolution time), every
 * rung the run starts and every outcome goes to that same incident as a note (PagerDuty: a `trigger` with the same
 * dedup_key and fresh custom_details; Opsgenie: a note on the alias; Slack: a follow-up message; webhook:
 * `remediation.updated`). While no incident is open nothing is sent: the escalator queues updates only where one is.
 */
export function episodeNotes(deps: {
  escalator: Escalator;
  store: RunStore;
  reportFor: (view: RunView) => IncidentReport;
  /** Also called on every rung start, alongside the note: arms the run's resolution-time watch (idempotent). */
  watch?: (view: RunView, signal: AbortSignal) => Promise<void>;
}) {
  return async (ctx: RunContext, state: RunState, rung: RungRecord, phase: 'started' | 'ended', signal: AbortSignal): Promise<void> => {
    const view = await deps.store.getRun(ctx.run.id);
    if (!view) return;
    // A start is told before the state showing it is saved: report from the state the engine holds.
    const report = deps.reportFor({ ...view, status: state.status, state });
    // The watch and the note do not depend on each other: sent together, they cost the step one round trip, not two.
    await Promise.all([
      phase === 'started' ? deps.watch?.(view, signal) : undefined,
      deps.escalator.update(report, rungNote(ctx, rung, phase), { signal }),
    ]);
  };
}

/**
 * The note for the end of a run that neither fixed things nor escalated (cancelled by an operator or by the severity
 * policy, failed, completed without verification, skipped): the open incident learns that automation stopped.
 * Undefined for runs whose end the incident already hears about (a verified fix resolves, an escalation triggers).
 */
export function runEndNote(view: RunView): string | undefined {
  if (view.status === 'succeeded' || view.status === 'escalated') return undefined;
  const outcome = view.state?.outcome ?? view.status;
  return `Run ${view.id} ended ${view.status}: ${outcome}. Automation has stopped; the incident stays open.`;
}

import type { Playbook } from '../domain/playbook.ts';
import type { DurableEscalator, WarRoomDue } from '../escalation/durable-escalator.ts';
import type { IncidentReport } from '../escalation/incident.ts';
import type { SeverityPolicy } from '../escalation/severity-policy.ts';
import { formatDuration } from '../domain/duration.ts';
import type { Clock } from '../ports/clock.ts';
import type { RunStore } from '../store/run-store.ts';
import type { RunView } from '../store/run-record.ts';
import { runsOfEpisode } from './episode-runs.ts';
import type { HumanTakeovers } from './human-takeover.ts';
import { etaText, remainingRungs } from './remaining-time.ts';

export interface WarRoomDeps {
  escalator: Pick<DurableEscalator, 'update' | 'openTargets'>;
  store: RunStore;
  policy: SeverityPolicy;
  takeovers: HumanTakeovers;
  reportFor: (view: RunView) => IncidentReport;
  playbook: (name: string) => Playbook | undefined;
  clock: Clock;
  /** Whether the episode's customer notice still waits for an approver (absent: no customer notices). */
  noticePending?: (episodeKey: string) => Promise<boolean>;
  /** Where people read and approve the notice (server.publicUrl), for the reminder line. */
  publicUrl?: string;
}

/**
 * The war-room cadence: every `updateEvery` of the level (P0/P1: 15 min by default) while the incident is open, one
 * status update goes through the escalator to every target where the incident is open (PagerDuty and Opsgenie notes,
 * notify targets; any target that takes updates). The cadence ends when the incident is no longer open anywhere or
 * people resolved it.
 */
export function warRoom(deps: WarRoomDeps) {
  return async function due(job: WarRoomDue, signal: AbortSignal): Promise<boolean> {
    if ((await deps.takeovers.get(job.episodeKey)).resolve) return false;
    if ((await deps.escalator.openTargets(job.episodeKey)).length === 0) return false;
    const runs = await runsOfEpisode(deps.store, job.episodeKey);
    const latest = runs.at(-1) ?? (await deps.store.getRun(job.runId));
    if (!latest) return false;
    const report = deps.reportFor(latest);
    const human = await deps.takeovers.get(job.episodeKey);
    const note = warRoomNote(report, latest, {
      ...job,
      every: deps.policy.forLevel(job.level).updateEveryMs ?? 0,
      playbook: deps.playbook(latest.playbook),
      now: deps.clock.now(),
      ackBy: human.ack?.person,
    });
    // The notice is never sent by itself, so the war room is reminded that one waits for an approver.
    const reminder = (await deps.noticePending?.(job.episodeKey))
      ? `\nCustomer notice: waiting for an approver (${deps.publicUrl ? `${deps.publicUrl.replace(/\/+$/, '')}` : ''}/v1/incidents/${job.episodeKey}/notice).`
      : '';
    await deps.escalator.update(report, note + reminder, { signal });
    return true;
  };
}

/** The update's text: status, what was tried (✓/✗), next step, ETA (and where the ETA comes from). */
export function warRoomNote(
  report: IncidentReport,
  view: RunView,
  o: { sequence: number; level: string; every: number; playbook: Playbook | undefined; now: number; ackBy?: string | undefined },
): string {
  const tried = report.rungs.filter((r) => r.outcome !== 'pending');
  const triedText =
    tried.length === 0
      ? 'nothing yet'
      : tried
          .map(
            (r) => `${r.outcome === 'succeeded' ? '✓' : r.outcome === 'running' ? '…' : '✗'} ${r.name}${r.reason ? ` (${r.reason})` : ''}`,
          )
          .join('; ');
  const remaining = remainingRungs(view, o.playbook);
  const next =
    remaining.names.length > 0
      ? `automation: rung "${remaining.names[0]}"`
      : `people: automation has nothing left to try${o.ackBy ? ` (${o.ackBy} acknowledged)` : ''}`;
  return [
    `War-room update ${o.sequence} (${o.level}, every ${formatDuration(o.every)}): status ${report.status}${o.ackBy ? `, acknowledged by ${o.ackBy}` : ''}.`,
    `Tried: ${triedText}.`,
    `Next: ${next}.`,
    `ETA: ${etaText(remaining, o.now)}.`,
  ].join('\n');
}

import type { Logger } from 'pino';
import { FINAL_STATUSES } from '../engine/run-state.ts';
import type { Decision } from '../engine/decision.ts';
import type { HumanEvent } from '../escalation/inbound/human-event.ts';
import type { Clock } from '../ports/clock.ts';
import type { RunQueue } from '../queue/run-queue.ts';
import type { RunStore } from '../store/run-store.ts';
import type { RunView } from '../store/run-record.ts';
import { runsOfEpisode } from './episode-runs.ts';
import type { HumanTakeovers } from './human-takeover.ts';

export interface HumanResponseDeps {
  store: RunStore;
  queue: Pick<RunQueue, 'wake'>;
  takeovers: HumanTakeovers;
  /** Forgets the episode's open incidents once people resolved it (DurableEscalator.closedByPeople); absent without escalation. */
  closedByPeople?: (episodeKey: string, signal: AbortSignal) => Promise<void>;
  clock: Clock;
  /** `stop`: an acknowledgement cancels the episode's active runs; `continue-notes`: they go on. */
  onHumanAck: 'stop' | 'continue-notes';
  log: Logger;
}

/** What became of an inbound event: acted on (and which runs it touched), or a repeat of one already acted on. */
export interface HumanResponseOutcome {
  outcome: 'acted' | 'repeated';
  episodeKey: string;
  runs: string[];
}

const SOURCE_NAME: Readonly<Record<HumanEvent['source'], string>> = { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie', slack: 'Slack' };

/**
 * People taking an incident over or closing it, applied to the episode's runs: acknowledgements and resolves made at
 * a paging provider, and Slack's Take over button. One vocabulary for all of them: a person taking over is
 * `human_ack` (whatever the source, named in the message), a person closing it is `human_resolved`.
 *
 * - Acknowledge: a human has taken over. Each active run records `human_ack` naming the person. It stops when the
 *   event asks to (`stop`: Slack's Take over) or `onHumanAck` is `stop`: the episode is marked taken over by that
 *   person (so the safety guard refuses any later mutation of the episode), and each active run is cancelled (by
 *   that person) and woken; the worker holding a run interrupts its step in flight (`step_interrupted`), so it
 *   mutates nothing more. With `continue-notes` a
 *   provider's acknowledgement lets them go on, and their rungs keep arriving on the incident as notes.
 * - Resolve: people closed the incident. remediator forgets the open incident first (nothing more is sent to it),
 *   then each active run records `human_resolved` and is cancelled: the remaining rungs do not run.
 * - An episode with no active run still gets the decision on its record, for the incident report.
 *
 * - Note (PagerDuty's `incident.annotated`): recorded as `human_note` naming the person, with the note's text (bounded,
 *   see noteText), on the episode and on its latest run (its active one when it has one), so it shows on that run's
 *   timeline, in the console and in the incident report. It changes nothing: a note is never read as an instruction.
 *   A redelivered note (same event id) is recorded once.
 *
 * Only the first event of each kind for an episode acts (HumanTakeovers); a redelivery is answered `repeated`. An
 * acknowledgement that stops after one that did not (a Slack Take over after a PagerDuty acknowledge with
 * `continue-notes`) is a new kind, and acts.
 */
export function humanResponse(deps: HumanResponseDeps) {
  return async function apply(event: HumanEvent, signal: AbortSignal): Promise<HumanResponseOutcome> {
    const at = new Date(deps.clock.now()).toISOString();
    if (event.kind === 'note') return note(deps, event, at);
    const kind = event.kind === 'ack' ? 'ack' : 'resolve';
    const stop = kind === 'resolve' || deps.onHumanAck === 'stop' || event.stop === true;
    const mark = { person: event.person, source: event.source, at };
    const first = await deps.takeovers.mark(event.episodeKey, kind, mark);
    // The stopping mark is what the guard reads; the plain one is what the response tiers read.
    const acts = kind === 'ack' && stop ? await deps.takeovers.mark(event.episodeKey, 'takeover', mark) : first;
    if (!acts) return { outcome: 'repeated', episodeKey: event.episodeKey, runs: [] };
    if (kind === 'resolve') await deps.closedByPeople?.(event.episodeKey, signal);

    const where = SOURCE_NAME[event.source];
    const runs = (await runsOfEpisode(deps.store, event.episodeKey)).filter((r) => !FINAL_STATUSES.has(r.status));
    const did = event.source === 'slack' ? `took the incident over in ${where}` : `acknowledged the incident in ${where}`;
    const message =
      kind === 'ack'
        ? `${event.person} ${did}: a human has taken over; ${stop ? 'automation stops now (the step under way is interrupted)' : 'automation goes on and reports its rungs as notes (escalation.inbound.onHumanAck: continue-notes)'}`
        : `${event.person} resolved the incident in ${where}: the remaining rungs are cancelled`;
    const reason = kind === 'ack' ? 'human_ack' : 'human_resolved';
    if (runs.length === 0) {
      await deps.store.recordDecision({ at, reason, by: event.person, episodeId: event.episodeKey, message });
    }
    for (const run of runs) {
      await deps.store.recordDecision({ ...decisionOf(run, at), reason, by: event.person, message });
      if (!stop) continue;
      const why =
        kind === 'ack' ? (event.source === 'slack' ? `taken over in ${where}` : `acknowledged in ${where}`) : `resolved in ${where}`;
      await deps.store.requestCancel(run.id, event.person, why, {
        ...decisionOf(run, at),
        runId: run.id,
        reason: 'cancelled',
        by: event.person,
        message: `${event.person} ${why}: the run stops`,
      });
      await deps.queue.wake(run.id);
    }
    deps.log.info(
      { episodeKey: event.episodeKey, source: event.source, kind, person: event.person, runs: runs.map((r) => r.id), stop },
      `incident ${kind === 'ack' ? 'acknowledged' : 'resolved'} by a person`,
    );
    return { outcome: 'acted', episodeKey: event.episodeKey, runs: runs.map((r) => r.id) };
  };
}

async function note(deps: HumanResponseDeps, event: HumanEvent, at: string): Promise<HumanResponseOutcome> {
  if (event.eventId && !(await deps.takeovers.firstNote(event.episodeKey, event.eventId)))
    return { outcome: 'repeated', episodeKey: event.episodeKey, runs: [] };
  const runs = await runsOfEpisode(deps.store, event.episodeKey);
  const run = runs.findLast((r) => !FINAL_STATUSES.has(r.status)) ?? runs.at(-1);
  await deps.store.recordDecision({
    ...(run ? decisionOf(run, at) : { at, episodeId: event.episodeKey }),
    episodeId: event.episodeKey,
    reason: 'human_note',
    by: event.person,
    message: `${event.person} added a note in ${SOURCE_NAME[event.source]} (recorded as written; automation does not act on notes): “${event.text ?? ''}”`,
  });
  deps.log.info({ episodeKey: event.episodeKey, source: event.source, person: event.person, run: run?.id }, 'note added by a person');
  return { outcome: 'acted', episodeKey: event.episodeKey, runs: run ? [run.id] : [] };
}

function decisionOf(run: RunView, at: string): Pick<Decision, 'at' | 'runId' | 'playbook' | 'episodeId'> {
  return { at, runId: run.id, playbook: run.playbook, ...(run.episodeId ? { episodeId: run.episodeId } : {}) };
}

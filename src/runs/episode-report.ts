import type { Decision } from '../engine/decision.ts';
import type { IncidentReport } from '../escalation/incident.ts';
import type { Clock } from '../ports/clock.ts';
import type { RunStore } from '../store/run-store.ts';
import type { RunView } from '../store/run-record.ts';
import { runsOfEpisode } from './episode-runs.ts';
import type { HumanTakeovers } from './human-takeover.ts';
import { renderPostIncidentReport, type PostIncidentInput } from './post-incident-report.ts';

export interface EpisodeReportDeps {
  store: RunStore;
  takeovers: HumanTakeovers;
  reportFor: (view: RunView) => IncidentReport;
  clock: Clock;
  /** The state of the episode's customer notice, when notices are enabled. */
  notice?: (episodeKey: string) => Promise<PostIncidentInput['notice'] | undefined>;
}

/**
 * Gathers everything about an incident (every run, the episode's and the runs' decisions, what people did, the
 * customer notice) and renders the post-incident report. Undefined when nothing is known about the episode.
 */
export function episodeReport(deps: EpisodeReportDeps) {
  return async function report(episodeKey: string): Promise<string | undefined> {
    const views = await runsOfEpisode(deps.store, episodeKey);
    const episodeDecisions = await deps.store.episodeDecisions(episodeKey);
    if (views.length === 0 && episodeDecisions.length === 0) return undefined;
    const seen = new Set<string>();
    const decisions: Decision[] = [];
    for (const d of [...episodeDecisions, ...views.flatMap((v) => v.decisions)]) {
      const key = JSON.stringify([d.at, d.reason, d.runId ?? '', d.message]);
      if (seen.has(key)) continue;
      seen.add(key);
      decisions.push(d);
    }
    const notice = await deps.notice?.(episodeKey);
    return renderPostIncidentReport({
      episodeKey,
      runs: views.map((view) => ({ view, report: deps.reportFor(view) })),
      decisions,
      human: await deps.takeovers.get(episodeKey),
      ...(notice ? { notice } : {}),
      now: new Date(deps.clock.now()).toISOString(),
    });
  };
}

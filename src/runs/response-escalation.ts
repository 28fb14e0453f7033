import { formatDuration } from '../domain/duration.ts';
import type { DurableEscalator, ResponseDue } from '../escalation/durable-escalator.ts';
import type { IncidentReport } from '../escalation/incident.ts';
import type { SeverityPolicy } from '../escalation/severity-policy.ts';
import type { Clock } from '../ports/clock.ts';
import type { RunStore } from '../store/run-store.ts';
import type { RunView } from '../store/run-record.ts';
import type { HumanTakeovers } from './human-takeover.ts';

export interface ResponseEscalationDeps {
  escalator: Pick<DurableEscalator, 'trigger' | 'openTargets' | 'targets'>;
  store: RunStore;
  policy: SeverityPolicy;
  takeovers: HumanTakeovers;
  reportFor: (view: RunView) => IncidentReport;
  clock: Clock;
}

/**
 * The handler of a response-time tier's delayed job (DurableEscalator schedules one per tier when an incident opens).
 *
 * The tier goes when the incident is still open at some target and nobody resolved it; a paging tier also needs that
 * nobody acknowledged it (a notify tier, e.g. the business owner of a P0, is told either way). It is sent as a trigger
 * to the tier's targets (a target where the incident is already open gets it as an update) and recorded as a
 * `response_escalated` decision on the run. A tier that does not go records nothing, except a default tier whose
 * targets are not configured (P0's business owner without a `business-owner` target): it is recorded as
 * `response_tier_skipped`, saying what to configure, so the gap shows on the incident.
 */
export function responseEscalation(deps: ResponseEscalationDeps) {
  return async function due(job: ResponseDue, signal: AbortSignal): Promise<void> {
    const tier = deps.policy.forLevel(job.level).tiers[job.tier];
    if (!tier) return; // the config changed since the incident opened
    const human = await deps.takeovers.get(job.episodeKey);
    if (human.resolve) return;
    if (human.ack && !tier.notify) return;
    if ((await deps.escalator.openTargets(job.episodeKey)).length === 0) return;
    const view = await deps.store.getRun(job.runId);
    if (!view) return;
    const missing = tier.targets.filter((n) => !deps.escalator.targets.includes(n));
    if (missing.length > 0) {
      await deps.store.recordDecision({
        at: new Date(deps.clock.now()).toISOString(),
        reason: 'response_tier_skipped',
        runId: view.id,
        playbook: view.playbook,
        ...(view.episodeId ? { episodeId: view.episodeId } : {}),
        message: `${job.level} incident open for ${formatDuration(tier.afterMs)}: ${missing.join(', ')} should be informed now (${tier.byDefault ? 'default ' : ''}notify tier ${job.tier + 1}), but no such escalation target is configured; add escalation.targets.${missing[0]} or set escalation.policy.levels.${job.level}.tiers`,
      });
      return;
    }
    const report = deps.reportFor(view);
    const response = deps.policy.responseTime(job.level);
    const note = tier.notify
      ? `${job.level} incident open for ${formatDuration(tier.afterMs)}: informing ${tier.targets.join(', ')} (notify tier ${job.tier + 1})${human.ack ? `; ${human.ack.person} is on it` : ''}.`
      : `Not acknowledged within ${formatDuration(tier.afterMs)} (${job.level} response time ${response === null ? 'business hours' : formatDuration(response)}): escalating to tier ${job.tier + 1} (${tier.targets.join(', ')}).`;
    await deps.escalator.trigger({ ...report, level: job.level }, { targets: tier.targets, note, signal, tier: true });
    await deps.store.recordDecision({
      at: new Date(deps.clock.now()).toISOString(),
      reason: 'response_escalated',
      runId: view.id,
      playbook: view.playbook,
      ...(view.episodeId ? { episodeId: view.episodeId } : {}),
      message: note,
    });
  };
}

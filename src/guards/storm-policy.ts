import { formatDuration } from '../domain/duration.ts';
import type { PauseRecord } from './pause-policy.ts';

/**
 * The storm breaker: when many distinct targets need automatic mutations at once, the cause is almost never the
 * services themselves (the runbook's mode B: several services down = look at nodes, storage, the network), and
 * restarting them all makes it worse. Past the threshold, automatic mutations pause fleet-wide and one page goes
 * out. Counting is done atomically in Redis (storm-breaker.ts); these functions are its rule, stated plainly.
 */
export interface StormSettings {
  /** More than this many distinct targets within the window trips the breaker. */
  targets: number;
  windowMs: number;
  /** 0 = the pause lasts until an operator lifts it. */
  pauseForMs: number;
}

/** Distinct targets that needed a mutation in the window ending at `now` (an entry exactly `windowMs` old is out). */
export function distinctTargets(seen: ReadonlyArray<{ target: string; at: number }>, now: number, windowMs: number): number {
  return new Set(seen.filter((s) => s.at > now - windowMs && s.at <= now).map((s) => s.target)).size;
}

export function trips(count: number, settings: StormSettings): boolean {
  return count > settings.targets;
}

/** The fleet-wide pause the breaker sets when it trips. */
export function stormPause(settings: StormSettings, now: number): PauseRecord {
  const untilMs = settings.pauseForMs > 0 ? now + settings.pauseForMs : undefined;
  return {
    scope: 'global',
    reason: `storm breaker: more than ${settings.targets} distinct targets needed automatic mutations within ${formatDuration(settings.windowMs)}; that looks like an infrastructure problem, not the services`,
    code: 'storm_paused',
    by: 'storm-breaker',
    since: new Date(now).toISOString(),
    ...(untilMs === undefined ? {} : { until: new Date(untilMs).toISOString(), untilMs }),
  };
}

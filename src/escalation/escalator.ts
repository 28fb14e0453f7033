import type { RunInfo } from '../domain/run-info.ts';
import type { IncidentReport, Level } from './incident.ts';
import type { EscalationAction } from './targets/paging-target.ts';

/**
 * The escalation port: what the engine, the guards and the `escalate` step call to page people.
 *
 * Contract:
 * - Every call resolves once the events are durably enqueued in Redis, not when they are delivered. Delivery
 *   (retries, `Retry-After`, rate limits, dead letter) happens behind it; a caller never waits for a provider.
 * - One incident per episode (`report.episodeKey`) and target. A repeated `trigger` for an episode that is already
 *   open at a target goes there as an update, never as a second page. `resolve` goes only to the targets a trigger
 *   went to, and is delivered after everything enqueued before it for that episode and target.
 * - Calls fail with a RemediatorError: REM_ERR_BAD_REQUEST (invalid report, unknown target name),
 *   REM_ERR_STORE_UNAVAILABLE (Redis did not take the events), or the abort reason of `signal`.
 *   No message ever contains a secret.
 */
export interface Escalator {
  /** Names of the configured targets. */
  readonly targets: string[];

  /**
   * Opens (or updates) the incident for the report's episode. Targets: `options.targets` when given, else what the
   * severity policy says for `report.level` (P3 by default: record only, nothing sent).
   */
  trigger(report: IncidentReport, options?: { targets?: string[]; note?: string; signal?: AbortSignal }): Promise<EscalationReceipt>;

  /** Adds a line to the open incident at every target where it is open (a rung finished, a gate failed). */
  update(report: IncidentReport, note: string, options?: { signal?: AbortSignal }): Promise<EscalationReceipt>;

  /** Resolves the incident where it was opened. Call only when the episode is verified healthy. */
  resolve(report: IncidentReport, options?: { signal?: AbortSignal }): Promise<EscalationReceipt>;

  /**
   * Triggers for a run, from a step that has only `ctx.run`: the escalator asks the report builder the engine
   * installed for the run's report (falling back to a minimal report built from the run's alert), applies `level`,
   * and adds `summary` as the escalation's note. A run still remediating is told as escalated (a human is needed),
   * unless `recovered`: the run verified its fix and tells it (a summary, not a hand-over).
   */
  escalateRun(
    run: RunInfo,
    options?: { level?: Level; targets?: string[]; summary?: string; recovered?: boolean; signal?: AbortSignal },
  ): Promise<EscalationReceipt>;
}

/** What was enqueued where, and what was not and why. Safe to store on the run record (no secrets). */
export interface EscalationReceipt {
  episodeKey: string;
  level: Level;
  enqueued: Array<{ target: string; action: EscalationAction; deliveryId: string }>;
  skipped: Array<{ target: string; reason: string }>;
}

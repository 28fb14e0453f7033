import type { Logger } from 'pino';
import type { WebhookPayload } from './alertmanager-payload.ts';
import { episodeId, toAlertView } from './episode.ts';
import type { PlaybookCatalog } from '../playbooks/playbook-catalog.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { RunStore, FiringClaim, FiringClaimResult } from '../store/run-store.ts';
import type { RunQueue } from '../queue/run-queue.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Clock } from '../ports/clock.ts';
import type { AlertView, TargetRef } from '../engine/step-definition.ts';
import type { Decision } from '../engine/decision.ts';
import type { RunRecord } from '../store/run-record.ts';
import { newRunId } from '../store/run-id.ts';
import { render } from '../engine/template.ts';

export interface IngestDeps {
  store: RunStore;
  queue: RunQueue;
  catalog: PlaybookCatalog;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
  /** runs.dryRun from config: every run is a dry run. */
  dryRun: boolean;
}

export interface AlertSummary {
  fingerprint: string;
  status: 'firing' | 'resolved';
  startsAt: string;
  episode: string;
  /** What happened to this alert as a whole. */
  decision: 'started' | 'deduplicated' | 'unmatched' | 'resolved';
  runs: Array<{ playbook: string; runId: string; decision: 'started' | 'deduplicated' }>;
}

/**
 * Splits a webhook into alerts and records each one durably before the caller answers: episodes, runs and
 * decisions in Redis, and a queued job per new run. Decisions are per alert (`alerts[].status`), never per group.
 * The firing alerts of a notification are recorded together, in one Redis round trip, and their new runs' jobs
 * queued in one more; a repeat costs one round trip and bumps its episode's counter.
 * Any Redis failure propagates as REM_ERR_STORE_UNAVAILABLE so the route answers 503 and Alertmanager retries;
 * every write is idempotent, so the retry completes what a failed attempt started without doubling anything.
 */
export async function ingestWebhook(payload: WebhookPayload, deps: IngestDeps): Promise<AlertSummary[]> {
  const nowMs = deps.clock.now();
  const now = new Date(nowMs).toISOString();
  const alerts = payload.alerts.map((raw) => toAlertView(raw, payload));
  const out: AlertSummary[] = new Array(alerts.length);
  const claims: FiringClaim[] = [];
  const claimed: number[] = [];
  for (let i = 0; i < alerts.length; i++) {
    const alert = alerts[i]!;
    deps.metrics.alertsReceived.inc({ status: alert.status });
    if (alert.status !== 'firing') continue;
    const ep = episodeId(alert.fingerprint, alert.startsAt);
    const runs = deps.catalog.match(alert).map((pb) => {
      const record = newRecord(pb, alert, ep, now, nowMs, deps);
      const started: Decision = { at: now, reason: 'started', playbook: pb.name, runId: record.id, episodeId: ep, message: `${alertName(alert)} started ${pb.name}${record.dryRun ? ' (dry run)' : ''}` };
      return { record, started };
    });
    claims.push({ episodeId: ep, alert, runs, unmatched: { at: now, reason: 'unmatched', episodeId: ep, message: `no playbook matches ${alertName(alert)}` } });
    claimed.push(i);
  }
  const results = await deps.store.ingestFiring(claims, now);
  // The jobs only after their runs are stored (the sweeper re-queues a run whose job was never added).
  await deps.queue.enqueueMany(results.flat().filter((r) => r.enqueue).map((r) => r.runId));
  for (let c = 0; c < claims.length; c++) out[claimed[c]!] = firingSummary(claims[c]!, results[c]!, deps);
  for (let i = 0; i < alerts.length; i++) if (!out[i]) out[i] = await ingestResolved(alerts[i]!, deps);
  return out;
}

function firingSummary(claim: FiringClaim, results: FiringClaimResult[], deps: IngestDeps): AlertSummary {
  const { alert, episodeId: ep } = claim;
  const summary: AlertSummary = { fingerprint: alert.fingerprint, status: 'firing', startsAt: alert.startsAt, episode: ep, decision: 'unmatched', runs: [] };
  if (claim.runs.length === 0) {
    deps.metrics.decisions.inc({ reason: 'unmatched', playbook: '' });
    return summary;
  }
  for (let r = 0; r < results.length; r++) {
    const playbook = claim.runs[r]!.record.playbook;
    const { created, runId } = results[r]!;
    const decision = created ? 'started' : 'deduplicated';
    (created ? deps.metrics.episodesStarted : deps.metrics.episodesDeduplicated).inc({ playbook });
    deps.metrics.decisions.inc({ reason: decision, playbook });
    summary.runs.push({ playbook, runId, decision });
  }
  summary.decision = summary.runs.some((r) => r.decision === 'started') ? 'started' : 'deduplicated';
  return summary;
}

async function ingestResolved(alert: AlertView, deps: IngestDeps): Promise<AlertSummary> {
  const ep = episodeId(alert.fingerprint, alert.startsAt);
  const now = new Date(deps.clock.now()).toISOString();
  const runIds = await deps.store.resolveEpisode(ep, alert, now);
  const summary: AlertSummary = { fingerprint: alert.fingerprint, status: 'resolved', startsAt: alert.startsAt, episode: ep, decision: 'resolved', runs: [] };
  for (const runId of runIds) {
    // Recorded, not acted on: a resolve is not proof of health (Alertmanager also resolves when Prometheus stops).
    await record(deps, { at: now, reason: 'resolved', runId, episodeId: ep, message: `Alertmanager reports ${alertName(alert)} resolved${alert.endsAt ? ` at ${alert.endsAt}` : ''}` });
    await deps.queue.wake(runId);
  }
  if (runIds.length === 0) await record(deps, { at: now, reason: 'resolved', episodeId: ep, message: `${alertName(alert)} resolved; no run belonged to it` });
  return summary;
}

function newRecord(pb: Playbook, alert: AlertView, ep: string, now: string, nowMs: number, deps: IngestDeps): RunRecord {
  return {
    id: newRunId(nowMs),
    playbook: pb.name,
    createdAt: now,
    trigger: 'alert',
    episodeId: ep,
    alert,
    params: pb.params,
    dryRun: deps.dryRun || pb.dryRun,
    target: renderTarget(pb, alert, pb.params),
  };
}

/** The playbook's target for this alert, or undefined when the alert lacks a label it names. */
export function renderTarget(pb: Playbook, alert: AlertView, params: Record<string, unknown>): TargetRef | undefined {
  if (!pb.target) return undefined;
  try {
    const t = render(pb.target, { alert, labels: alert.labels, annotations: alert.annotations, params }) as Record<string, unknown>;
    const namespace = t.namespace === undefined ? {} : { namespace: String(t.namespace) };
    return { ...namespace, kind: String(t.kind ?? 'Deployment'), name: String(t.name) };
  } catch {
    return undefined;
  }
}

/** Records a decision (the store counts it). */
async function record(deps: IngestDeps, d: Decision): Promise<void> {
  await deps.store.recordDecision(d);
}

function alertName(a: AlertView): string {
  const name = a.labels.alertname ?? 'alert';
  const where = [a.labels.namespace, a.labels.deployment ?? a.labels.service ?? a.labels.instance].filter(Boolean).join('/');
  return where ? `${name} (${where})` : name;
}

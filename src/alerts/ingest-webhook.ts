import type { Logger } from 'pino';
import type { WebhookPayload } from './alertmanager-payload.ts';
import { episodeId, toAlertView } from './episode.ts';
import type { PlaybookCatalog } from '../playbooks/playbook-catalog.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { RunStore } from '../store/run-store.ts';
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
 * Any Redis failure propagates as REM_ERR_STORE_UNAVAILABLE so the route answers 503 and Alertmanager retries;
 * every write is idempotent, so the retry completes what a failed attempt started without doubling anything.
 */
export async function ingestWebhook(payload: WebhookPayload, deps: IngestDeps): Promise<AlertSummary[]> {
  const out: AlertSummary[] = [];
  for (const raw of payload.alerts) {
    const alert = toAlertView(raw, payload);
    deps.metrics.alertsReceived.inc({ status: alert.status });
    out.push(alert.status === 'firing' ? await ingestFiring(alert, deps) : await ingestResolved(alert, deps));
  }
  return out;
}

async function ingestFiring(alert: AlertView, deps: IngestDeps): Promise<AlertSummary> {
  const ep = episodeId(alert.fingerprint, alert.startsAt);
  const now = new Date(deps.clock.now()).toISOString();
  const summary: AlertSummary = { fingerprint: alert.fingerprint, status: 'firing', startsAt: alert.startsAt, episode: ep, decision: 'unmatched', runs: [] };
  const playbooks = deps.catalog.match(alert);
  if (playbooks.length === 0) {
    await deps.store.touchEpisode(ep, alert, now);
    await record(deps, { at: now, reason: 'unmatched', episodeId: ep, message: `no playbook matches ${alertName(alert)}` });
    return summary;
  }
  for (const pb of playbooks) {
    const runRecord = newRecord(pb, alert, ep, now, deps);
    const claim = await deps.store.claimRun(ep, alert, runRecord);
    if (claim.created) {
      await deps.queue.enqueue(claim.runId);
      deps.metrics.episodesStarted.inc({ playbook: pb.name });
      await record(deps, { at: now, reason: 'started', playbook: pb.name, runId: claim.runId, episodeId: ep, message: `${alertName(alert)} started ${pb.name}${runRecord.dryRun ? ' (dry run)' : ''}` });
      summary.runs.push({ playbook: pb.name, runId: claim.runId, decision: 'started' });
    } else {
      // A repeat: repeat_interval, a 5xx retry or an HA twin. If the first attempt stored the run but failed before
      // its job was queued, queue it now (enqueue is idempotent per run id).
      if ((await deps.store.getStatus(claim.runId)) === 'queued') await deps.queue.enqueue(claim.runId);
      deps.metrics.episodesDeduplicated.inc({ playbook: pb.name });
      await record(deps, { at: now, reason: 'deduplicated', playbook: pb.name, runId: claim.runId, episodeId: ep, message: `repeat of episode ${ep}; run ${claim.runId} already handles it` });
      summary.runs.push({ playbook: pb.name, runId: claim.runId, decision: 'deduplicated' });
    }
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

function newRecord(pb: Playbook, alert: AlertView, ep: string, now: string, deps: IngestDeps): RunRecord {
  return {
    id: newRunId(deps.clock.now()),
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
    const namespace = t['namespace'] === undefined ? {} : { namespace: String(t['namespace']) };
    return { ...namespace, kind: String(t['kind'] ?? 'Deployment'), name: String(t['name']) };
  } catch {
    return undefined;
  }
}

/** Records a decision (the store counts it). */
async function record(deps: IngestDeps, d: Decision): Promise<void> {
  await deps.store.recordDecision(d);
}

function alertName(a: AlertView): string {
  const name = a.labels['alertname'] ?? 'alert';
  const where = [a.labels['namespace'], a.labels['deployment'] ?? a.labels['service'] ?? a.labels['instance']].filter(Boolean).join('/');
  return where ? `${name} (${where})` : name;
}

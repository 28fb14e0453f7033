import type { PlaybookCatalog } from '../playbooks/playbook-catalog.ts';
import type { RunStore } from '../store/run-store.ts';
import type { RunQueue } from '../queue/run-queue.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RunRecord, RunView } from '../store/run-record.ts';
import type { AlertView } from '../engine/step-definition.ts';
import { FINAL_STATUSES } from '../engine/run-state.ts';
import { RemediatorError } from '../domain/errors.ts';
import { newRunId } from '../store/run-id.ts';
import { renderTarget } from '../alerts/ingest-webhook.ts';
import type { Decision } from '../engine/decision.ts';
import { runEpisodeId } from '../alerts/episode.ts';
import type { HumanEvent } from '../escalation/inbound/human-event.ts';
import type { HumanResponseOutcome } from './human-response.ts';

export interface ManualRunRequest {
  operator: string;
  reason: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  params?: Record<string, unknown>;
  dryRun?: boolean;
}

export interface RunCommandsDeps {
  catalog: PlaybookCatalog;
  store: RunStore;
  queue: RunQueue;
  clock: Clock;
  metrics: Metrics;
  dryRun: boolean;
  /** Four eyes: the operator who started or retried a run may not answer its approvals (config default true). */
  requireDifferentApprover: boolean;
  /**
   * A person taking the incident over (humanResponse, src/runs/human-response.ts): the same path as a PagerDuty or
   * Opsgenie acknowledgement, so the episode is marked taken over and the safety guard refuses its later mutations.
   */
  humanResponse: (event: HumanEvent, signal: AbortSignal) => Promise<HumanResponseOutcome>;
}

/**
 * What operators do to runs over the API: start one by hand, retry one, cancel one, answer its approval. Each is
 * recorded as a decision naming who made it (`by`).
 */
export class RunCommands {
  readonly #d: RunCommandsDeps;

  constructor(deps: RunCommandsDeps) {
    this.#d = deps;
  }

  async startManual(playbookName: string, req: ManualRunRequest): Promise<RunView> {
    const pb = this.#d.catalog.get(playbookName);
    if (!pb) throw new RemediatorError('REM_ERR_NOT_FOUND', `no playbook named "${playbookName}"`);
    const unknown = Object.keys(req.params ?? {}).filter((k) => !(k in pb.params));
    if (unknown.length) throw new RemediatorError('REM_ERR_BAD_REQUEST', `playbook "${pb.name}" declares no param(s) ${unknown.join(', ')} (declared: ${Object.keys(pb.params).join(', ') || 'none'})`);
    const now = this.#d.clock.now();
    const labels = { alertname: `manual:${pb.name}`, ...req.labels };
    const alert: AlertView = {
      status: 'firing',
      labels,
      annotations: { summary: req.reason, ...req.annotations },
      startsAt: new Date(now).toISOString(),
      fingerprint: 'manual',
    };
    const params = { ...pb.params, ...req.params };
    const record: RunRecord = {
      id: newRunId(now),
      playbook: pb.name,
      createdAt: new Date(now).toISOString(),
      trigger: 'manual',
      alert,
      params,
      dryRun: this.#d.dryRun || pb.dryRun || req.dryRun === true,
      target: renderTarget(pb, alert, params),
      operator: req.operator,
      reason: req.reason,
    };
    return this.#create(record, { reason: 'manual', by: req.operator, message: `${req.operator} started ${pb.name} by hand: ${req.reason}` });
  }

  async retry(runId: string, operator: string, reason: string): Promise<RunView> {
    const old = await this.#get(runId);
    if (!FINAL_STATUSES.has(old.status)) throw new RemediatorError('REM_ERR_CONFLICT', `run ${runId} is still ${old.status}; cancel it first or wait for it to end`);
    if (!this.#d.catalog.get(old.playbook)) throw new RemediatorError('REM_ERR_NOT_FOUND', `playbook "${old.playbook}" is no longer loaded`);
    const now = this.#d.clock.now();
    const record: RunRecord = {
      id: newRunId(now),
      playbook: old.playbook,
      createdAt: new Date(now).toISOString(),
      trigger: 'retry',
      episodeId: old.episodeId,
      alert: old.alert,
      params: old.params,
      dryRun: old.dryRun,
      target: old.target,
      operator,
      reason,
      retryOf: old.id,
    };
    return this.#create(record, { reason: 'retried', by: operator, message: `${operator} retried run ${old.id}: ${reason}` });
  }

  async cancel(runId: string, operator: string, reason: string): Promise<RunView> {
    const run = await this.#get(runId);
    if (FINAL_STATUSES.has(run.status)) throw new RemediatorError('REM_ERR_CONFLICT', `run ${runId} already ended (${run.status})`);
    await this.#d.store.requestCancel(runId, operator, reason, { at: this.#now(), reason: 'cancelled', by: operator, runId, playbook: run.playbook, episodeId: run.episodeId, message: `${operator} cancelled the run: ${reason}` });
    // A queued or waiting run notices at once; a running one before its next step.
    await this.#d.queue.wake(runId);
    return this.#get(runId);
  }

  /**
   * A person takes the incident over (Slack's Take over): automation stops, whatever escalation.inbound.onHumanAck
   * says. It goes the way of a PagerDuty/Opsgenie acknowledgement (humanResponse): the run's episode is marked taken
   * over by them, every active run of the episode records `human_ack` naming them and is cancelled before its next
   * step, and the safety guard refuses any later automatic mutation of the episode. An episode already taken over is
   * refused with REM_ERR_CONFLICT, and nothing changes.
   */
  async takeOver(runId: string, operator: string, signal: AbortSignal): Promise<RunView> {
    const run = await this.#get(runId);
    if (FINAL_STATUSES.has(run.status)) throw new RemediatorError('REM_ERR_CONFLICT', `run ${runId} already ended (${run.status})`);
    const done = await this.#d.humanResponse({ kind: 'ack', episodeKey: runEpisodeId(run), person: operator, source: 'slack', stop: true }, signal);
    if (done.outcome === 'repeated') throw new RemediatorError('REM_ERR_CONFLICT', `the incident of run ${runId} was already taken over; automation already stopped`);
    return this.#get(runId);
  }

  /**
   * Approves or rejects the plan a run is waiting on. The answer binds to that exact plan (its hash); with
   * `planHash` (a Slack button names the plan it was shown with) a newer plan is refused with REM_ERR_PLAN_CHANGED.
   */
  async answerApproval(runId: string, verdict: 'approved' | 'rejected', operator: string, reason: string, options: { planHash?: string } = {}): Promise<RunView> {
    const run = await this.#get(runId);
    const pending = run.state?.approval;
    if (run.status !== 'awaiting_approval' || !pending) throw new RemediatorError('REM_ERR_CONFLICT', `run ${runId} is not waiting for an approval (it is ${run.status})`);
    if (options.planHash !== undefined && options.planHash !== pending.planHash) throw new RemediatorError('REM_ERR_PLAN_CHANGED', `the plan of run ${runId} changed since this message was sent; answer the plan it waits on now (step "${pending.stepId}")`);
    if (this.#d.requireDifferentApprover && run.operator === operator) {
      const message = `${operator} ${run.trigger === 'retry' ? 'retried' : 'started'} this run, so may not ${verdict === 'approved' ? 'approve' : 'reject'} the plan of step "${pending.stepId}"; another approver must (approvals.requireDifferentApprover)`;
      await this.#decide({ reason: 'approval_refused', by: operator, runId, playbook: run.playbook, episodeId: run.episodeId, message });
      throw new RemediatorError('REM_ERR_SELF_APPROVAL', message);
    }
    if (Date.parse(pending.expiresAt) <= this.#d.clock.now()) throw new RemediatorError('REM_ERR_APPROVAL_EXPIRED', `the approval window of step "${pending.stepId}" closed at ${pending.expiresAt}`);
    await this.#d.store.recordApproval(runId, { stepId: pending.stepId, planHash: pending.planHash, verdict, by: operator, reason, at: new Date(this.#d.clock.now()).toISOString() });
    await this.#decide({ reason: verdict === 'approved' ? 'approved' : 'rejected', by: operator, runId, playbook: run.playbook, episodeId: run.episodeId, message: `${operator} ${verdict} the plan of step "${pending.stepId}": ${reason}` });
    await this.#d.queue.wake(runId);
    return this.#get(runId);
  }

  async #create(record: RunRecord, decision: Pick<Decision, 'reason' | 'by' | 'message'>): Promise<RunView> {
    await this.#d.store.createRun(record);
    await this.#d.queue.enqueue(record.id);
    await this.#decide({ ...decision, runId: record.id, playbook: record.playbook, episodeId: record.episodeId });
    return this.#get(record.id);
  }

  async #get(runId: string): Promise<RunView> {
    const run = await this.#d.store.getRun(runId);
    if (!run) throw new RemediatorError('REM_ERR_NOT_FOUND', `no run with id ${runId}`);
    return run;
  }

  /** Records a decision (the store counts it). */
  async #decide(d: Omit<Decision, 'at'>): Promise<void> {
    await this.#d.store.recordDecision({ at: this.#now(), ...d });
  }

  #now(): string {
    return new Date(this.#d.clock.now()).toISOString();
  }
}

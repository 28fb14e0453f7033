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
import type { Cluster } from '../ports/cluster.ts';
import type { RunState } from '../engine/run-state.ts';
import {
  changeFields,
  describeConflicts,
  observeTargets,
  planRevert,
  revertPlanHash,
  REVERTABLE_ACTIONS,
  type RevertChange,
  type RevertPlan,
} from '../kube/revert-plan.ts';
import { revertPlaybookName } from '../playbooks/revert-playbook.ts';
import { targetKey } from '../engine/step-definition.ts';
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
  /**
   * The cluster, to show a revert's plan against the objects as they are now. Absent in a process without a
   * Kubernetes client (role receiver): the plan then lists the recorded changes only, and the revert run's step checks
   * the objects before writing.
   */
  kube?: Cluster;
  /** remediator's field manager: its own entries in managedFields are not "someone else". */
  fieldManager?: string;
}

export interface RevertRequest {
  operator: string;
  reason: string;
  /** Only show the plan. */
  dryRun?: boolean;
  /** Revert only if the plan is still this one (the `planHash` a dry run answered). */
  planHash?: string;
}

/** What a revert would do: the plan, its hash, and whether the objects were read for it. */
export interface RevertPlanView {
  plan: RevertPlan & { changes: number; notReverted: Array<{ action: string; target: string }> };
  planHash: string;
  checkedAgainstCluster: boolean;
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
    // The built-in revert playbooks run only through POST /v1/runs/:id/revert, with the plan it checked.
    if (!pb || !this.#d.catalog.list().includes(pb)) throw new RemediatorError('REM_ERR_NOT_FOUND', `no playbook named "${playbookName}"`);
    const unknown = Object.keys(req.params ?? {}).filter((k) => !(k in pb.params));
    if (unknown.length)
      throw new RemediatorError(
        'REM_ERR_BAD_REQUEST',
        `playbook "${pb.name}" declares no param(s) ${unknown.join(', ')} (declared: ${Object.keys(pb.params).join(', ') || 'none'})`,
      );
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
    return this.#create(record, {
      reason: 'manual',
      by: req.operator,
      message: `${req.operator} started ${pb.name} by hand: ${req.reason}`,
    });
  }

  async retry(runId: string, operator: string, reason: string): Promise<RunView> {
    const old = await this.#get(runId);
    if (!FINAL_STATUSES.has(old.status))
      throw new RemediatorError('REM_ERR_CONFLICT', `run ${runId} is still ${old.status}; cancel it first or wait for it to end`);
    if (!this.#d.catalog.get(old.playbook))
      throw new RemediatorError('REM_ERR_NOT_FOUND', `playbook "${old.playbook}" is no longer loaded`);
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
    await this.#d.store.requestCancel(runId, operator, reason, {
      at: this.#now(),
      reason: 'cancelled',
      by: operator,
      runId,
      playbook: run.playbook,
      episodeId: run.episodeId,
      message: `${operator} cancelled the run: ${reason}`,
    });
    // A queued or waiting run notices when woken; a running one at once: the worker holding it hears of the cancel
    // (RunStore.requestCancel announces it) and interrupts the step in flight.
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
    const done = await this.#d.humanResponse(
      { kind: 'ack', episodeKey: runEpisodeId(run), person: operator, source: 'slack', stop: true },
      signal,
    );
    if (done.outcome === 'repeated')
      throw new RemediatorError('REM_ERR_CONFLICT', `the incident of run ${runId} was already taken over; automation already stopped`);
    return this.#get(runId);
  }

  /**
   * Approves or rejects the plan a run is waiting on. The answer binds to that exact plan (its hash); with
   * `planHash` (a Slack button names the plan it was shown with) a newer plan is refused with REM_ERR_PLAN_CHANGED.
   */
  async answerApproval(
    runId: string,
    verdict: 'approved' | 'rejected',
    operator: string,
    reason: string,
    options: { planHash?: string } = {},
  ): Promise<RunView> {
    const run = await this.#get(runId);
    const pending = run.state?.approval;
    if (run.status !== 'awaiting_approval' || !pending)
      throw new RemediatorError('REM_ERR_CONFLICT', `run ${runId} is not waiting for an approval (it is ${run.status})`);
    if (options.planHash !== undefined && options.planHash !== pending.planHash)
      throw new RemediatorError(
        'REM_ERR_PLAN_CHANGED',
        `the plan of run ${runId} changed since this message was sent; answer the plan it waits on now (step "${pending.stepId}")`,
      );
    if (this.#d.requireDifferentApprover && run.operator === operator) {
      const message = `${operator} ${run.trigger === 'retry' ? 'retried' : 'started'} this run, so may not ${verdict === 'approved' ? 'approve' : 'reject'} the plan of step "${pending.stepId}"; another approver must (approvals.requireDifferentApprover)`;
      await this.#decide({ reason: 'approval_refused', by: operator, runId, playbook: run.playbook, episodeId: run.episodeId, message });
      throw new RemediatorError('REM_ERR_SELF_APPROVAL', message);
    }
    if (Date.parse(pending.expiresAt) <= this.#d.clock.now())
      throw new RemediatorError(
        'REM_ERR_APPROVAL_EXPIRED',
        `the approval window of step "${pending.stepId}" closed at ${pending.expiresAt}`,
      );
    await this.#d.store.recordApproval(runId, {
      stepId: pending.stepId,
      planHash: pending.planHash,
      verdict,
      by: operator,
      reason,
      at: new Date(this.#d.clock.now()).toISOString(),
    });
    await this.#decide({
      reason: verdict === 'approved' ? 'approved' : 'rejected',
      by: operator,
      runId,
      playbook: run.playbook,
      episodeId: run.episodeId,
      message: `${operator} ${verdict} the plan of step "${pending.stepId}": ${reason}`,
    });
    await this.#d.queue.wake(runId);
    return this.#get(runId);
  }

  /**
   * Reverts a finished run: a new run (trigger `revert`, playbook remediator.revert) that puts back the changes the run
   * recorded, after checking that nobody changed those objects since. With `dryRun`, only the plan. A plan with
   * conflicts is refused (409 REM_ERR_REVERT_CONFLICT naming each object) and recorded as `revert_refused` on the run.
   */
  async revert(runId: string, req: RevertRequest): Promise<{ plan: RevertPlanView } | { run: RunView; plan: RevertPlanView }> {
    const old = await this.#get(runId);
    if (!FINAL_STATUSES.has(old.status))
      throw new RemediatorError('REM_ERR_CONFLICT', `run ${runId} is still ${old.status}; only a finished run can be reverted`);
    const changes = revertChanges(old.state);
    const notReverted = (old.state?.changes ?? [])
      .filter((c) => !REVERTABLE_ACTIONS.has(c.action))
      .map((c) => ({ action: c.action, target: targetKey(c.target) }));
    if (changes.length === 0 && req.dryRun) {
      const empty: RevertPlan = { of: runId, targets: [], conflicts: [], pending: false };
      return { plan: { plan: { ...empty, changes: 0, notReverted }, planHash: revertPlanHash(empty), checkedAgainstCluster: false } };
    }
    if (changes.length === 0) {
      throw new RemediatorError(
        'REM_ERR_CONFLICT',
        `run ${runId} recorded no change a revert can put back (env, resources, ConfigMap keys, Service selectors, replicas)${notReverted.length ? `; it recorded ${notReverted.map((c) => `${c.action} of ${c.target}`).join(', ')}` : ''}`,
      );
    }
    const kube = this.#d.kube;
    const fieldManager = this.#d.fieldManager ?? 'remediator';
    const plan = kube
      ? planRevert(runId, changes, await observeTargets(kube, changes, AbortSignal.timeout(10_000)), { fieldManager })
      : recordedPlan(runId, changes);
    const view: RevertPlanView = {
      plan: { ...plan, changes: changes.length, notReverted },
      planHash: revertPlanHash(plan),
      checkedAgainstCluster: kube !== undefined,
    };
    if (req.dryRun) return { plan: view };
    if (plan.conflicts.length > 0) {
      const message = `${req.operator} asked to revert run ${runId}, refused: changed since by someone else: ${describeConflicts(plan.conflicts)}`;
      await this.#decide({ reason: 'revert_refused', by: req.operator, runId, playbook: old.playbook, episodeId: old.episodeId, message });
      throw new RemediatorError(
        'REM_ERR_REVERT_CONFLICT',
        `run ${runId} cannot be reverted: changed since by someone else: ${describeConflicts(plan.conflicts)}`,
        {
          details: { conflicts: plan.conflicts.map((c) => ({ target: targetKey(c.target), why: c.why })) },
        },
      );
    }
    if (req.planHash !== undefined && req.planHash !== view.planHash) {
      throw new RemediatorError(
        'REM_ERR_PLAN_CHANGED',
        `the revert plan of run ${runId} changed since it was shown (planHash ${req.planHash.slice(0, 12)}…, now ${view.planHash.slice(0, 12)}…); ask for it again with dryRun=true`,
        { details: { planHash: view.planHash } },
      );
    }
    if (!plan.pending)
      throw new RemediatorError('REM_ERR_CONFLICT', `everything run ${runId} changed already holds its earlier value; nothing to revert`);
    const now = this.#d.clock.now();
    const record: RunRecord = {
      id: newRunId(now),
      // GitOps-owned objects are treated as the run's playbook treated them (refused unless it allowed or suspended).
      playbook: revertPlaybookName(this.#d.catalog.get(old.playbook)?.gitops ?? 'refuse'),
      createdAt: new Date(now).toISOString(),
      trigger: 'revert',
      alert: {
        status: 'firing',
        labels: { alertname: `revert:${old.playbook}` },
        annotations: { summary: req.reason },
        startsAt: new Date(now).toISOString(),
        fingerprint: 'revert',
      },
      params: { revertOf: runId, changes, planHash: view.planHash },
      dryRun: false,
      ...(old.target ? { target: old.target } : {}),
      operator: req.operator,
      reason: req.reason,
      revertOf: runId,
    };
    const run = await this.#create(record, {
      reason: 'revert_requested',
      by: req.operator,
      message: `${req.operator} asked to revert run ${runId} (${old.playbook}): ${req.reason}`,
    });
    await this.#decide({
      reason: 'revert_requested',
      by: req.operator,
      runId,
      playbook: old.playbook,
      episodeId: old.episodeId,
      message: `${req.operator} asked to revert this run, as run ${record.id}: ${req.reason}`,
    });
    return { run, plan: view };
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

/** The changes of a run a revert puts back, oldest first, with the step that made each and when it ended. */
function revertChanges(state: RunState | undefined): RevertChange[] {
  if (!state) return [];
  const ended = new Map(state.steps.map((s) => [s.id, s.endedAt ?? s.startedAt]));
  return state.changes
    .filter((c) => REVERTABLE_ACTIONS.has(c.action))
    .map((c) => {
      const step = (c as RevertChange).step;
      const at = step === undefined ? state.endedAt : (ended.get(step) ?? state.endedAt);
      return { ...c, ...(step === undefined ? {} : { step }), ...(at === undefined ? {} : { at }) };
    });
}

/** The plan from the record alone (no cluster to read): every recorded field back to its old value. */
function recordedPlan(of: string, changes: readonly RevertChange[]): RevertPlan {
  const targets = new Map<string, RevertPlan['targets'][number]>();
  for (const c of changes) {
    const t = targets.get(targetKey(c.target)) ?? { target: c.target, revert: [], alreadyReverted: [] };
    for (const f of changeFields(c)) {
      const seen = t.revert.find((r) => r.field === f.field);
      if (seen) continue;
      t.revert.push({ field: f.field, now: f.after, to: f.before });
    }
    targets.set(targetKey(c.target), t);
  }
  return { of, targets: [...targets.values()], conflicts: [], pending: targets.size > 0 };
}

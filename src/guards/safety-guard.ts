import type { Logger } from 'pino';
import type { DecisionIo, GuardVerdict, MutationGuard, MutationRequest, Refusal, RunStartVerdict } from '../engine/mutation-guard.ts';
import type { RunContext } from '../engine/run-context.ts';
import type { RunState } from '../engine/run-state.ts';
import { describeTarget, targetKey, type TargetRef } from '../engine/step-definition.ts';
import type { DecisionReason } from '../engine/decision.ts';
import type { Clock } from '../ports/clock.ts';
import { formatDuration } from '../domain/duration.ts';
import { withLinkedSignal } from '../domain/linked-signal.ts';
import type { GuardSettings } from './guards-config.ts';
import { applicablePause, describePause } from './pause-policy.ts';
import type { PauseRegistry } from './pause-registry.ts';
import { openWindow } from './maintenance-policy.ts';
import { configScopeRefusal, gitopsOwner, objectScopeRefusal, suspendable, type GitopsController } from './scope-policy.ts';
import type { GitopsSuspender } from './gitops-suspender.ts';
import { readMarks } from './object-marks.ts';
import { ineffectiveMessage, ineffectiveVerdict } from './ineffective-policy.ts';
import type { FixMemoryStore } from './fix-memory.ts';
import { budgetLimits, cooldownMessage, exhaustedMessage } from './budget-policy.ts';
import type { TargetLock } from './target-lock.ts';
import type { StormBreaker } from './storm-breaker.ts';
import type { Handover } from './handover.ts';
import { runEpisodeId } from '../alerts/episode.ts';

/** What the guard uses, built by the composition root (src/main.ts); the lock is the one the run closer releases. */
export interface SafetyGuardDeps {
  lock: TargetLock;
  storm: StormBreaker;
  fixes: FixMemoryStore;
  handover: Handover;
  clock: Clock;
  pauses: PauseRegistry;
  log: Logger;
  /**
   * Who has taken the run's incident over (Slack's Take over; a PagerDuty/Opsgenie acknowledgement with
   * `onHumanAck: stop`; a resolve), or undefined (src/runs/human-takeover.ts). Absent: no escalation configured.
   */
  takenOver?: (episodeKey: string) => Promise<string | undefined>;
  /** `spec.gitops: suspend`: pauses and resumes GitOps controllers' sync (absent without Kubernetes). */
  gitops?: GitopsSuspender;
}

/** How long a label read for a scope check may take (within the run's own signal). */
const KUBE_READ_TIMEOUT_MS = 10_000;

/**
 * The guard layer every mutating step passes through, in a fixed order: cheap checks first, and nothing is
 * consumed (budget, lock) for a run another check refuses.
 *
 * 0. a person took the incident over (Slack's Take over, a PagerDuty/Opsgenie acknowledge) → `human_ack`: taking over also cancels the episode's
 *    runs, interrupting their steps in flight; this check closes the gap of a mutation already under way to the guard, and keeps
 *    any later automatic run of the episode from acting;
 * 1. pauses: an operator's pause (global / namespace / playbook) → `paused`, the storm breaker's → `storm_paused`;
 * 2. maintenance windows → `maintenance`;
 * 3. scope: namespace and kind lists, then the object's `remediator.io/disabled` label and GitOps ownership
 *    → `out_of_scope` (with `spec.gitops: suspend`, an admitted mutation first pauses the owner's sync, resumed in
 *    finishRun: src/guards/gitops-suspender.ts);
 * 4. ineffectiveness (when the run starts): a fix that did not hold moves the run one rung up → note `ineffective`,
 *    or, with no rung left, hands over → `ineffective`;
 * 5. the storm counter (at a mutation, counting the run's target): the mutation that takes the fleet past the threshold pauses everything
 *    and pages → `storm_paused`. It counts after scope, so objects remediator would never touch do not count;
 * 6. budget and cooldown (of the run's target, like the storm counter), then the per-object lock with its fencing
 *    token, in one atomic step → `budget_exhausted`, `cooldown`, `locked`.
 *
 * The object's labels are read through the decision's services (`kube` absent: only the config lists apply), so
 * the action that follows starts from the same read.
 *
 * Who is exempt: manual runs skip 0, 1, 2, 4, 5 and the budget (an operator asked for exactly this run) but never scope
 * or the lock. Dry runs are checked for scope only and take no lock and no budget (a `dry_run` note says so once).
 * Budget exhaustion and ineffectiveness page once per budget window for a playbook and target; later refusals of
 * the same kind are recorded and skip the run without paging again.
 */
export class SafetyGuard implements MutationGuard {
  readonly #s: GuardSettings;
  readonly #d: SafetyGuardDeps;
  readonly #lock: TargetLock;
  readonly #storm: StormBreaker;
  readonly #fixes: FixMemoryStore;
  readonly #handover: Handover;

  constructor(settings: GuardSettings, deps: SafetyGuardDeps) {
    this.#s = settings;
    this.#d = deps;
    this.#lock = deps.lock;
    this.#storm = deps.storm;
    this.#fixes = deps.fixes;
    this.#handover = deps.handover;
  }

  async startRun(ctx: RunContext, state: RunState, io: DecisionIo): Promise<RunStartVerdict> {
    if (!ctx.playbook.mutating) return { state };
    const now = this.#d.clock.now();
    const notes: NonNullable<RunStartVerdict['notes']> = [];
    if (ctx.run.dryRun && (await this.#lock.noteOnce(ctx.run.id, 'dry_run'))) {
      notes.push({
        reason: 'dry_run',
        message: 'dry run: every mutation is sent with dryRun=All and recorded as a plan; no lock is taken and no budget is used',
      });
    }
    const target = automatic(ctx) && ctx.target ? targetKey(ctx.target) : undefined;
    // The fix memory is read in the same round trip as the prechecks' Redis reads, and looked at only once they passed.
    const [early, memory] = await Promise.all([
      this.#precheck(ctx, io, ctx.target, ctx.target?.namespace, now),
      target === undefined ? undefined : this.#fixes.recall(ctx.playbook.name, target),
    ]);
    if (early) return { state, notes, refusal: early };
    if (target === undefined) return { state, notes };

    const verdict = ineffectiveVerdict(memory, now, this.#s.ineffectiveWindowMs, ctx.playbook.rungs.length);
    if (verdict.kind === 'none' || !memory) return { state, notes };
    const message = ineffectiveMessage(
      memory,
      now,
      ctx.playbook.rungs.map((r) => r.name),
      verdict,
    );
    if (verdict.kind === 'climb') {
      return {
        state: { ...state, cursor: { rung: verdict.rung, step: 0 }, attempt: 0 },
        notes: [...notes, { reason: 'ineffective', message }],
      };
    }
    return { state, notes, refusal: await this.#handOver(ctx, target, 'ineffective', message, now) };
  }

  async admit(req: MutationRequest): Promise<GuardVerdict> {
    const { ctx, target } = req;
    const now = this.#d.clock.now();
    const seen: { controller?: GitopsController } = {};
    const refusal =
      (await this.#precheck(ctx, req, target, target.namespace, now, seen)) ??
      (ctx.run.dryRun ? undefined : await this.#claim(ctx, target, now));
    if (refusal) return { admit: false, refusal };
    // spec.gitops: suspend, once the mutation is admitted: the owner's sync pauses before the object changes.
    if (seen.controller && !ctx.run.dryRun) {
      if (!this.#d.gitops)
        return {
          admit: false,
          refusal: {
            reason: 'out_of_scope',
            message: `${describeTarget(target)} is managed by GitOps and its sync cannot be suspended here (no Kubernetes client)`,
            then: 'skip-run',
          },
        };
      await this.#d.gitops.suspend(ctx.run.id, seen.controller, req.signal);
    }
    return { admit: true };
  }

  async finishRun(ctx: RunContext, state: RunState): Promise<void> {
    // Never throws: a sync it could not resume is left to the stuck-run sweeper.
    if (ctx.playbook.gitops === 'suspend') await this.#d.gitops?.resumeRun(ctx.run.id);
    const held = await this.#lock.release(ctx.run.id);
    const fixed = state.status === 'succeeded' || state.status === 'completed';
    if (fixed && held.length > 0 && ctx.target && this.#s.ineffectiveWindowMs > 0) {
      await this.#fixes.remember(
        ctx.playbook.name,
        targetKey(ctx.target),
        { rung: state.cursor.rung, at: this.#d.clock.now(), runId: ctx.run.id },
        this.#s.ineffectiveWindowMs,
      );
    }
  }

  /** Steps 1–3: pauses, maintenance, scope. `target` may be unknown at the start of a run without spec.target. */
  async #precheck(
    ctx: RunContext,
    io: DecisionIo,
    target: TargetRef | undefined,
    namespace: string | undefined,
    now: number,
    seen: { controller?: GitopsController } = {},
  ): Promise<Refusal | undefined> {
    const playbook = ctx.playbook.name;
    if (automatic(ctx)) {
      // Both are read in one round trip (the connection pipelines commands sent together), then judged in order.
      const [person, pauses] = await Promise.all([this.#d.takenOver?.(runEpisodeId(ctx.run)), this.#d.pauses.active(now)]);
      if (person)
        return {
          reason: 'human_ack',
          message: `${person} has taken this incident over: automation changes nothing more`,
          then: 'skip-run',
        };
      const pause = applicablePause(pauses, now, { playbook, namespace });
      if (pause) return { reason: pause.code, message: describePause(pause), then: 'skip-run' };
      const open = openWindow(this.#s.maintenance, now, { playbook, namespace });
      if (open) {
        return {
          reason: 'maintenance',
          message: `maintenance window "${open.window.name}" is open until ${new Date(open.closesAt).toISOString()}: automatic mutations are suppressed`,
          then: 'skip-run',
        };
      }
    }
    if (!target) return undefined;
    const listed = configScopeRefusal(target, this.#s.scope);
    if (listed) return { reason: 'out_of_scope', message: listed, then: 'skip-run' };
    const kube = io.services.kube;
    if (!kube) return undefined;
    const read = await withLinkedSignal([io.signal], { timeoutMs: KUBE_READ_TIMEOUT_MS }, (signal) => readMarks(kube, target, signal));
    if (read.kind === 'unreadable') {
      // The run stopping (shutdown, cancellation) is not an unreadable object: the executor repeats the step later.
      io.signal.throwIfAborted();
      return {
        reason: 'out_of_scope',
        message: `cannot read ${describeTarget(target)} to check its labels (${read.why}); asking again`,
        then: 'wait',
        retryAfterMs: this.#s.lockRetryMs,
      };
    }
    if (read.kind !== 'found') return undefined;
    const marked = objectScopeRefusal(target, read.marks, ctx.playbook.gitops);
    if (marked) return { reason: 'out_of_scope', message: marked, then: 'skip-run' };
    const owned = ctx.playbook.gitops === 'suspend' ? gitopsOwner(read.marks) : undefined;
    if (owned && suspendable(owned)) seen.controller = owned.controller;
    return undefined;
  }

  /** Steps 5–6: the storm counter, then budget, cooldown and the lock in one atomic step. */
  async #claim(ctx: RunContext, target: TargetRef, now: number): Promise<Refusal | undefined> {
    const key = targetKey(target);
    if (automatic(ctx)) {
      // The storm counts what needed fixing (the run's target), not every object a ladder touches: one P0 playbook
      // that patches a ConfigMap, scales a backup and restarts a collector is one target in trouble, not four.
      const storm = await this.#storm.record(ctx.target ? targetKey(ctx.target) : key, now);
      if (storm.kind === 'tripped') {
        this.#d.log.warn({ target: key, count: storm.count }, 'storm breaker tripped: automatic mutations paused fleet-wide');
        return {
          reason: 'storm_paused',
          message: `${storm.count} distinct targets needed automatic mutations within ${formatDuration(this.#s.storm.windowMs)} (more than ${this.#s.storm.targets}): automatic mutations are paused fleet-wide until an operator lifts the pause${storm.pause.until ? ` or ${storm.pause.until}` : ''}`,
          then: 'escalate',
        };
      }
      if (storm.kind === 'paused') return { reason: 'storm_paused', message: describePause(storm.pause), then: 'skip-run' };
    }
    const limits = budgetLimits(this.#s.budget, ctx.playbook.budget);
    // Budget and cooldown belong to the run's target, like the storm counter: N runs per service in trouble, however
    // many objects each run's rung touches. The lock stays per object (it orders writes).
    const budgetKey = ctx.target ? targetKey(ctx.target) : key;
    const claim = await this.#lock.claim({
      runId: ctx.run.id,
      playbook: ctx.playbook.name,
      target: key,
      budgetTarget: budgetKey,
      now,
      ttlMs: this.#s.lockTtlMs,
      limits,
      countBudget: !ctx.run.manual,
      waits: ctx.playbook.concurrency !== 'skip',
    });
    switch (claim.kind) {
      case 'acquired':
      case 'renewed':
      case 'reacquired':
        return undefined;
      case 'locked':
        return ctx.playbook.concurrency === 'skip'
          ? {
              reason: 'locked',
              message: `run ${claim.holder} is acting on ${key}; this playbook does not wait (spec.concurrency: skip)`,
              then: 'skip-run',
            }
          : {
              reason: 'locked',
              message: `run ${claim.holder} is acting on ${key}; waiting for it to finish`,
              then: 'wait',
              retryAfterMs: this.#s.lockRetryMs,
            };
      case 'lost':
        return {
          reason: 'locked',
          message: `this run's lock on ${key} expired and ${claim.holder ? `run ${claim.holder}` : 'another run'} was granted the target since; stopping before changing it again`,
          then: 'escalate',
        };
      case 'cooldown':
        return { reason: 'cooldown', message: cooldownMessage(budgetKey, limits, claim.until), then: 'skip-run' };
      case 'exhausted':
        return this.#handOver(
          ctx,
          budgetKey,
          'budget_exhausted',
          exhaustedMessage(budgetKey, ctx.playbook.name, limits, claim.freesAt),
          now,
        );
    }
  }

  /** Pages for the first refusal of a playbook+target within the budget window; later ones only skip. */
  async #handOver(ctx: RunContext, target: string, reason: DecisionReason, message: string, now: number): Promise<Refusal> {
    const windowMs = budgetLimits(this.#s.budget, ctx.playbook.budget).windowMs;
    if (await this.#handover.once(ctx.playbook.name, target, now, windowMs)) return { reason, message, then: 'escalate' };
    return { reason, message: `${message} (a human was already paged for ${target} within ${formatDuration(windowMs)})`, then: 'skip-run' };
  }
}

function automatic(ctx: RunContext): boolean {
  return !ctx.run.manual && !ctx.run.dryRun;
}

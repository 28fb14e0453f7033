/**
 * The one place Redis key names are built. Every key starts with the configured prefix so several installations can
 * share a Redis. Ids are built by their owners (episodeId, run ids) without ':'.
 */
export class Keys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /**
   * Hash: fingerprint, startsAt, labels, status, firstSeen, lastSeen, received (deliveries of the episode: 1 + its
   * repeats), resolvedAt, run:<playbook> → run id.
   */
  episode(id: string): string {
    return `${this.prefix}:episode:${id}`;
  }
  episodeDecisions(id: string): string {
    return `${this.prefix}:episode:${id}:decisions`;
  }
  /** Hash: record (JSON, written once), status, state (JSON, written by the worker), cancel, resolvedAt, updatedAt. */
  run(id: string): string {
    return `${this.prefix}:run:${id}`;
  }
  runDecisions(id: string): string {
    return `${this.prefix}:run:${id}:decisions`;
  }
  /** Sorted set of run ids by creation time (ms). */
  runs(): string {
    return `${this.prefix}:runs`;
  }
  /** String `<runId>|<fencing token>`, PX lock TTL: the one run that may mutate this target (`ns/Kind/name`). */
  guardLock(target: string): string {
    return `${this.prefix}:guard:lock:${target}`;
  }
  /**
   * Sorted set of run ids waiting for the target's lock, scored by when each first found it held. The release that
   * frees the lock takes the whole set and wakes those runs (TargetLock.release).
   */
  guardLockWaiters(target: string): string {
    return `${this.prefix}:guard:waiters:${target}`;
  }
  /** Counter: the fencing token of the target's latest lock grant. */
  guardFence(target: string): string {
    return `${this.prefix}:guard:fence:${target}`;
  }
  /** Hash: target → the fencing token this run was granted; `dryRunNoted`. Deleted when the run ends. */
  guardRun(runId: string): string {
    return `${this.prefix}:guard:run:${runId}`;
  }
  /** Sorted set of run ids counted against the budget of (playbook, target), scored by time (ms). */
  guardBudget(playbook: string, target: string): string {
    return `${this.prefix}:guard:budget:${playbook}:${target}`;
  }
  /** String `<ms>|<runId>`: the last mutating run started on the target (cooldown). */
  guardLastStart(target: string): string {
    return `${this.prefix}:guard:last:${target}`;
  }
  /** String: ms until which (playbook, target) has been handed to a human and further pages are suppressed. */
  /** Set of run ids that suspended a GitOps controller's sync (`Kind/namespace/name`) and have not resumed it. */
  gitopsHolders(controller: string): string {
    return `${this.prefix}:guard:gitops:holders:${controller}`;
  }
  /** String (JSON): the controller's sync setting before the first holder suspended it, to put back after the last. */
  gitopsSaved(controller: string): string {
    return `${this.prefix}:guard:gitops:saved:${controller}`;
  }
  /** Set of the controllers a run suspended. */
  gitopsRun(runId: string): string {
    return `${this.prefix}:guard:gitops:run:${runId}`;
  }
  /** Set of every controller suspended now: what the stuck-run sweeper looks at after a crash. */
  gitopsSuspended(): string {
    return `${this.prefix}:guard:gitops:suspended`;
  }
  guardHandedOver(playbook: string, target: string): string {
    return `${this.prefix}:guard:handover:${playbook}:${target}`;
  }
  /** Hash: rung, at, runId of the last successful run of (playbook, target), for ineffectiveness detection. */
  guardFix(playbook: string, target: string): string {
    return `${this.prefix}:guard:fix:${playbook}:${target}`;
  }
  /** Sorted set of targets that needed an automatic mutation, scored by the last time (ms): the storm counter. */
  guardStorm(): string {
    return `${this.prefix}:guard:storm`;
  }
  /**
   * The correlation of a fleet playbook in one namespace (src/guards/fleet-correlator.ts): `members` is a sorted set
   * of the services that went down, by the last time (ms); `open` the fleet run that handles them (JSON, PX the
   * window); `singles` a hash service → the ids of its own runs (JSON), so opening the fleet can absorb them;
   * `absorbed` a hash alert episode → the fleet that took it, so its repeats go to the same fleet run.
   */
  fleet(playbook: string, namespace: string, part: 'members' | 'open' | 'singles' | 'absorbed'): string {
    return `${this.prefix}:fleet:${playbook}:${namespace}:${part}`;
  }
  /** Hash: `global` / `namespace:<ns>` / `playbook:<name>` → pause record (JSON). */
  guardPauses(): string {
    return `${this.prefix}:guard:pauses`;
  }
  /** List of pause events (set, lifted, tripped), newest first, capped. */
  guardPauseLog(): string {
    return `${this.prefix}:guard:pause-log`;
  }
  /** Sorted set of live run ids scored by their deadline (ms): what the stuck-run sweeper closes when overdue. */
  runDeadlines(): string {
    return `${this.prefix}:run-deadlines`;
  }
  /**
   * Sorted set of ended runs whose closing work (the final decision, the page of an escalated run, the after-run
   * hooks) is not confirmed done, scored by the time (ms) it was last started: the sweeper redoes what a crash cut.
   */
  runClosings(): string {
    return `${this.prefix}:run-closings`;
  }
  /**
   * Sorted set of runs whose latest `awaiting_approval` decision has no approval-notice job confirmed in the queue
   * yet, scored by that decision's time (ms), written with the decision itself: the sweeper adds the notice job of a
   * run a crash left here (src/escalation/approval-notices.ts).
   */
  approvalsUnannounced(): string {
    return `${this.prefix}:approvals-unannounced`;
  }
  /** Sorted set of runs recorded but not yet claimed by a worker, by creation time (ms): the sweeper re-queues them. */
  runsQueued(): string {
    return `${this.prefix}:runs-queued`;
  }
  /**
   * The hash BullMQ keeps for the job of a run (its QueueKeys layout: `<prefix>:<queue>:<jobId>`, with the same
   * prefix): the ingest script looks at whether a queued run still needs its job.
   */
  runJob(runId: string): string {
    return `${this.prefix}:${this.runQueue()}:${runId}`;
  }
  /** Pub/sub channel of run changes (`<runId>` or `<runId> <status>`): what the console's live updates listen to. */
  runEvents(): string {
    return `${this.prefix}:run-events`;
  }
  /**
   * Pub/sub channel of stop requests (`<runId>`), published with every cancel request: a worker holding the run aborts
   * its step in flight (src/queue/run-stop-signals.ts). The request itself is the run's `cancel` field.
   */
  /**
   * String, short TTL: a wake for this run that found its job held by a worker, left for that worker to find once it
   * has put the job to sleep (RunWakes).
   */
  runWake(id: string): string {
    return `${this.prefix}:run:${id}:wake`;
  }
  runStops(): string {
    return `${this.prefix}:run-stops`;
  }
  /** String: one console sign-in session (JSON), expiring with it. */
  consoleSession(id: string): string {
    return `${this.prefix}:console:session:${id}`;
  }
  /** The BullMQ queue names (BullMQ adds its own prefix segment). */
  runQueue(): string {
    return 'runs';
  }
}

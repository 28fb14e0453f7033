import { randomUUID } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import type { Job, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { RemediatorError, isRemediatorError } from '../domain/errors.ts';
import type { RunInfo } from '../domain/run-info.ts';
import { silentLogger } from '../observability/logger.ts';
import type { HttpClient } from '../ports/http-client.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import type { DurabilityBarrier } from '../store/durability-barrier.ts';
import type { RedisClient, RedisConnector } from '../store/redis-connection.ts';
import type { QueueFactory } from '../queue/queue-factory.ts';
import { bullmqClients, disconnectClosed, endStrandedClients, strandedClients } from '../queue/stranded-clients.ts';
import { DeadLetterStore, type DeadLetter } from './delivery-dead-letter.ts';
import { chainIdFor, deliveryKeys } from './delivery-keys.ts';
import { DeliveryLedger } from './delivery-ledger.ts';
import { DeliveryStatusStore, type DeliveryState } from './delivery-status.ts';
import { pumpChain, type PumpJobData } from './delivery-pump.ts';
import type { DeliveryObserver } from './delivery-observer.ts';
import { SlidingWindowLimiter } from './delivery-rate-limiter.ts';
import { deliverySettings, resolveSecret, type DeliverySettings, type EscalationConfig } from './escalation-config.ts';
import type { EscalationReceipt, Escalator } from './escalator.ts';
import { IncidentReportSchema, minimalReport, type IncidentReport, type Level } from './incident.ts';
import { createRedactor, type Redactor } from './redact.ts';
import type { SeverityPolicy } from './severity-policy.ts';
import type { TargetFactory } from './targets/index.ts';
import { SlackThreadStore } from './slack-thread-store.ts';
import { RedisTargetMemory } from './target-memory.ts';
import type { DeliveryItem, EscalationAction, PagingTarget } from './targets/paging-target.ts';

export interface DurableEscalatorOptions {
  /**
   * Connects to the Redis holding the delivery queue, the chains, open incidents and dead letters (any topology).
   * On Cluster, `config.delivery.prefix` must already be hash-tagged (RedisConnector.prefix).
   */
  redis: RedisConnector;
  /** Builds the delivery queue and its worker. */
  queues: QueueFactory;
  config: EscalationConfig;
  /** HTTP port for the providers. */
  http: HttpClient;
  /** Which targets a level pages by default; the same policy the resolution watch uses. */
  policy: SeverityPolicy;
  logger?: Logger;
  /**
   * The clock the times given to `watchResolution` and `scheduleApproval` are read on (the engine's, src/ports/clock.ts;
   * default the system clock): a job's delay is its time minus this clock's now, so a controlled clock times them too.
   */
  clock?: Clock;
  /**
   * Run the delivery worker in this process (default true). A process that only enqueues (the HTTP edge) passes
   * false; events then wait in Redis for a process that delivers.
   */
  deliver?: boolean;
  /**
   * How the engine turns a run into its full report (rungs, timeline, snapshot); used by `escalateRun`. Without it,
   * `escalateRun` sends `minimalReport(run)`: the alert and the run, no ladder.
   */
  buildReport?: (run: RunInfo, signal: AbortSignal) => Promise<IncidentReport>;
  /**
   * Called once per run watched with `watchResolution` when its resolution time has come (src/runs/resolution-watch.ts
   * decides what that means). Runs in the delivery worker, so only where `deliver` is true; a failure is retried
   * like a pump (attempts with backoff).
   */
  onOverdue?: (runId: string, signal: AbortSignal) => Promise<void>;
  /**
   * Called for each approval job added with `scheduleApproval` when its time comes (src/escalation/approval-notices.ts
   * decides what to send). Runs in the delivery worker; a failure is retried like a pump (attempts with backoff), so a
   * job may throw to wait for the run's state to be saved.
   */
  onApproval?: (job: ApprovalJobData, signal: AbortSignal) => Promise<void>;
  /**
   * Called when a response-time tier of an incident is due (see `trigger`): src/runs/response-escalation.ts decides
   * whether it still goes (nobody acknowledged, the incident is still open). Runs in the delivery worker; a failure is
   * retried like a pump.
   */
  onResponseDue?: (due: ResponseDue, signal: AbortSignal) => Promise<void>;
  /**
   * Called every `updateEvery` of the level while an incident opened by a trigger is open (war-room cadence,
   * src/runs/war-room.ts). It returns whether the cadence goes on (false: the incident is over, stop scheduling).
   */
  onWarRoom?: (due: WarRoomDue, signal: AbortSignal) => Promise<boolean>;
  /**
   * The channel run changes are announced on (Keys.runEvents(), the console's live updates); a page's delivery state
   * changing is announced as a change of its run. It must be on the same Redis as `redis`. Default: not announced.
   */
  runEvents?: string;
  /** Told of every delivery attempt and dead letter, e.g. the metrics (default: nobody). */
  observer?: DeliveryObserver;
  /** Where `env:NAME` secrets are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Builds the configured paging targets (src/escalation/targets/index.ts `createTargets` in the composition root).
   * Injected like the connections and queues: the escalator builds no adapter itself.
   */
  targetFactory: TargetFactory;
  /** Per-command timeout of the enqueueing connection (default 2s). */
  commandTimeout?: string | number;
  /** How long `start` waits for Redis before failing with REM_ERR_STORE_UNAVAILABLE (default 10 s). */
  startTimeoutMs?: number;
  /**
   * Builds the WAIT barrier on the escalator's connection (`slotKey`: a key of the delivery prefix, for Cluster), so a
   * delivered event's pop reaches a replica before the next event goes out (delivery-pump.ts). Default: none, for a
   * standalone Redis.
   */
  durability?: (redis: RedisClient, slotKey: string) => DurabilityBarrier;
  /**
   * The delivery worker's BullMQ job lock (default 30 s) and how often it looks for jobs whose lock lapsed (default
   * 30 s). Together they bound how long a chain waits when its pump was lost: its worker died, or a Redis failover
   * dropped the reply that handed the pump to a worker, leaving it active with nobody running it.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** A delayed job that tells `onOverdue` a run reached its level's resolution time (see watchResolution). */
const OVERDUE_JOB = 'overdue';
interface OverdueJobData {
  runId: string;
}

/** A delayed job about a run waiting for approval: tell the approvers (`notice`) or remind them (`reminder`). */
const APPROVAL_JOB = 'approval';
export interface ApprovalJobData {
  kind: 'notice' | 'reminder';
  runId: string;
  /** The plan the reminder is about (a newer plan gets its own notice). */
  planHash?: string;
}

/** A delayed job: a response-time tier of an incident is due. */
const RESPONSE_JOB = 'response';
export interface ResponseDue {
  episodeKey: string;
  /** The run whose trigger opened the incident (its report is what the tier sends). */
  runId: string;
  level: Level;
  /** Index into the level's `tiers`. */
  tier: number;
}

/** A delayed job: the incident's next war-room update is due. */
const WAR_ROOM_JOB = 'war-room';
export interface WarRoomDue {
  episodeKey: string;
  runId: string;
  level: Level;
  /** 1 for the first update after the incident opened, then 2, 3, … */
  sequence: number;
}

type TimerJobData = PumpJobData | OverdueJobData | ApprovalJobData | ResponseDue | WarRoomDue;

const PUMP_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: 1000,
  // Attempts count only real failures of the pump itself (Redis trouble); provider failures are retried inside the
  // chain with their own backoff and never fail the job.
  attempts: 8,
  backoff: { type: 'exponential' as const, delay: 1000 },
};

/**
 * The Escalator backed by Redis and BullMQ: events are rendered and appended to one ordered chain per (episode,
 * target) in a Lua script that also keeps the record of open incidents, then a pump job for the chain is added
 * (deduplicated per chain). Workers drain chains with retries, `Retry-After`, PagerDuty's per-key rate limit and a
 * dead letter (see delivery-pump.ts).
 */
export class DurableEscalator implements Escalator {
  readonly targets: string[];
  readonly policy: SeverityPolicy;
  readonly settings: DeliverySettings;
  readonly #targets: Map<string, PagingTarget>;
  readonly #redis: RedisClient;
  #closing = false;
  readonly #queue: Queue<TimerJobData>;
  readonly #ledger: DeliveryLedger;
  readonly #dead: DeadLetterStore;
  readonly #status: DeliveryStatusStore;
  readonly #log: Logger;
  readonly #redact: Redactor;
  readonly #buildReport: DurableEscalatorOptions['buildReport'];
  readonly #clock: Clock;
  #worker: Worker<TimerJobData> | undefined;

  private constructor(options: DurableEscalatorOptions) {
    this.policy = options.policy;
    this.settings = deliverySettings(options.config.delivery);
    this.#log = (options.logger ?? silentLogger()).child({ component: 'escalation' });
    this.#buildReport = options.buildReport;
    this.#clock = options.clock ?? systemClock;
    // Enqueueing fails fast when Redis is away (the caller gets REM_ERR_STORE_UNAVAILABLE and may retry); the worker's
    // blocking connection waits for Redis forever (docs/contracts.md §4.1).
    this.#redis = options.redis.command(options.commandTimeout ?? '2s', { shouldRetry: () => !this.#closing });
    const keys = deliveryKeys(this.settings.prefix);
    // What targets remember per incident (a Statuspage incident id, a Slack thread): one store, one key scheme.
    const memory = new RedisTargetMemory(this.#redis, keys, { ttlMs: this.settings.openIncidentTtlMs });
    const threads = new SlackThreadStore(memory);
    let signing: string[];
    try {
      this.#targets = options.targetFactory(options.config.targets ?? {}, options.env, { threads });
      // Signing secrets are not sent anywhere, but are secrets all the same.
      signing = Object.entries(options.config.targets ?? {}).flatMap(([name, c]) =>
        c.type === 'slack-app' && c.signingSecret
          ? [resolveSecret(c.signingSecret, `escalation.targets.${name}.signingSecret`, options.env)]
          : [],
      );
    } catch (err) {
      // A missing `env:` secret: nothing else was opened yet.
      this.#redis.disconnect();
      throw err;
    }
    this.targets = [...this.#targets.keys()];
    this.#redact = createRedactor([...[...this.#targets.values()].flatMap((t) => t.secrets), ...signing]);
    this.#ledger = new DeliveryLedger(this.#redis, keys, { openIncidentTtlMs: this.settings.openIncidentTtlMs });
    this.#dead = new DeadLetterStore(this.#redis, keys, { keep: this.settings.deadLetterKeep });
    this.#status = new DeliveryStatusStore(this.#redis, keys, {
      ttlMs: this.settings.openIncidentTtlMs,
      ...(options.runEvents ? { runEvents: options.runEvents } : {}),
    });
    // No version check on this fail-fast connection: BullMQ would keep one timed-out INFO as the queue's error for good
    // (src/queue/bullmq-run-queue.ts); the worker's connection below does the check.
    this.#queue = options.queues.queue<TimerJobData>(this.settings.queue, {
      connection: this.#redis,
      prefix: this.settings.prefix,
      skipVersionCheck: true,
    });
    this.#queue.on('error', (err) => this.#log.warn({ error: this.#redact(err.message) }, 'escalation queue error'));

    if (options.deliver !== false) {
      const limiter = new SlidingWindowLimiter(this.#redis, keys);
      const deps = {
        ledger: this.#ledger,
        deadLetters: this.#dead,
        limiter,
        targets: this.#targets,
        http: options.http,
        settings: this.settings,
        log: this.#log,
        redact: this.#redact,
        observer: options.observer,
        memory,
        status: this.#status,
        ...(options.durability ? { durability: options.durability(this.#redis, keys.chains()) } : {}),
      };
      const { onOverdue, onApproval, onResponseDue, onWarRoom } = options;
      this.#worker = options.queues.worker<TimerJobData>(
        this.settings.queue,
        async (job, token, signal) => {
          const abort = signal ?? new AbortController().signal;
          if (job.name === OVERDUE_JOB) return onOverdue?.((job.data as OverdueJobData).runId, abort);
          if (job.name === APPROVAL_JOB) return onApproval?.(job.data as ApprovalJobData, abort);
          if (job.name === RESPONSE_JOB) return onResponseDue?.(job.data as ResponseDue, abort);
          if (job.name === WAR_ROOM_JOB) {
            const due = job.data as WarRoomDue;
            if (onWarRoom && (await onWarRoom(due, abort))) await this.#scheduleWarRoom({ ...due, sequence: due.sequence + 1 });
            return undefined;
          }
          return pumpChain(job as Job<PumpJobData>, token, signal, deps);
        },
        {
          connection: options.redis.worker({ shouldRetry: () => !this.#closing }),
          prefix: this.settings.prefix,
          concurrency: this.settings.concurrency,
          // A pump whose worker died (or whose last state a Redis failover lost) is taken up again by BullMQ's stalled
          // check, rather than failed at its second stall: its chain is its state, and a failed pump would leave the
          // chain's events unsent until a restart.
          maxStalledCount: 20,
          lockDuration: options.lockDurationMs ?? 30_000,
          stalledInterval: options.stalledIntervalMs ?? 30_000,
        },
      );
      this.#worker.on('error', (err) => this.#log.error({ error: this.#redact(err.message) }, 'escalation worker error'));
      this.#worker.on('failed', (job, err) =>
        this.#log.error({ job: job?.name, data: job?.data, error: this.#redact(err.message) }, 'escalation job failed; it is retried'),
      );
    }
  }

  /** Connects, and gives every chain that still holds events a pump again (one may have been lost in a crash). */
  static async start(options: DurableEscalatorOptions): Promise<DurableEscalator> {
    const e = new DurableEscalator(options);
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = (async () => {
        await e.#queue.waitUntilReady();
        if (e.#worker) await e.#worker.waitUntilReady();
        for (const chainId of await e.#ledger.chainsWithEvents()) await e.#addPump(chainId);
      })();
      ready.catch(() => undefined);
      await Promise.race([
        ready,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } catch (err) {
      await e.#abandon();
      throw new RemediatorError(
        'REM_ERR_STORE_UNAVAILABLE',
        `escalation cannot reach Redis: ${e.#redact(String((err as Error)?.message ?? err))}`,
      );
    } finally {
      clearTimeout(timer);
    }
    return e;
  }

  /**
   * Besides the Escalator contract: when this trigger opened the incident at some target (a first page, not an update),
   * the level's response-time tiers and its war-room cadence are scheduled as delayed jobs whose ids are the
   * episode's, so triggering again schedules nothing twice. `tier` marks a trigger sent by a tier (it schedules none).
   */
  async trigger(
    report: IncidentReport,
    options: { targets?: string[]; note?: string; signal?: AbortSignal; tier?: boolean } = {},
  ): Promise<EscalationReceipt> {
    this.#check(report);
    const { names, skipped } = this.#select(report.level, options.targets);
    const receipt: EscalationReceipt = { episodeKey: report.episodeKey, level: report.level, enqueued: [], skipped };
    await this.#guard(options.signal, async () => {
      for (const name of names) {
        const target = this.#targets.get(name)!;
        const chainId = chainIdFor(report.episodeKey, name);
        const again = options.note ?? `Escalated again: ${report.alert.summary}`;
        const trigger = this.#item(target, 'trigger', report, options.note);
        const update = this.#item(target, 'update', report, again);
        const action = await this.#ledger.enqueueTrigger(chainId, trigger, update);
        await this.#queued(action === 'trigger' ? trigger : update);
        await this.#addPump(chainId);
        receipt.enqueued.push({ target: name, action, deliveryId: action === 'trigger' ? trigger.id : update.id });
      }
      if (!options.tier && receipt.enqueued.some((e) => e.action === 'trigger')) await this.#scheduleFollowUps(report);
    });
    this.#log.info({ episodeKey: report.episodeKey, level: report.level, enqueued: receipt.enqueued, skipped }, 'escalation triggered');
    return receipt;
  }

  async update(report: IncidentReport, note: string, options: { signal?: AbortSignal } = {}): Promise<EscalationReceipt> {
    return this.#toOpenTargets(report, 'update', note, options.signal);
  }

  async resolve(report: IncidentReport, options: { signal?: AbortSignal } = {}): Promise<EscalationReceipt> {
    return this.#toOpenTargets(report, 'resolve', undefined, options.signal);
  }

  /** Update and resolve: to every target where the episode's incident is open, decided per target in Lua. */
  async #toOpenTargets(
    report: IncidentReport,
    action: 'update' | 'resolve',
    note: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<EscalationReceipt> {
    this.#check(report);
    const receipt: EscalationReceipt = { episodeKey: report.episodeKey, level: report.level, enqueued: [], skipped: [] };
    await this.#guard(signal, async () => {
      for (const name of await this.#ledger.openTargets(report.episodeKey)) {
        const target = this.#targets.get(name);
        if (!target) {
          receipt.skipped.push({ target: name, reason: 'no longer configured' });
          continue;
        }
        const item = this.#item(target, action, report, note);
        const chainId = chainIdFor(report.episodeKey, name);
        const queued =
          action === 'update' ? await this.#ledger.enqueueUpdate(chainId, item) : await this.#ledger.enqueueResolve(chainId, item);
        if (!queued) {
          receipt.skipped.push({ target: name, reason: 'incident was resolved meanwhile' });
          continue;
        }
        await this.#queued(item);
        await this.#addPump(chainId);
        receipt.enqueued.push({ target: name, action, deliveryId: item.id });
      }
    });
    if (receipt.enqueued.length === 0 && receipt.skipped.length === 0)
      receipt.skipped.push({ target: '*', reason: 'no open incident for this episode' });
    // Updates are offered for every rung of every run; only those that went somewhere are worth an info line.
    const level = receipt.enqueued.length > 0 ? 'info' : 'debug';
    this.#log[level](
      { episodeKey: report.episodeKey, action, enqueued: receipt.enqueued },
      `escalation ${action === 'update' ? 'updated' : 'resolved'}`,
    );
    return receipt;
  }

  async escalateRun(
    run: RunInfo,
    options: { level?: Level; targets?: string[]; summary?: string; recovered?: boolean; signal?: AbortSignal } = {},
  ): Promise<EscalationReceipt> {
    const signal = options.signal ?? new AbortController().signal;
    const base = this.#buildReport
      ? await this.#buildReport(run, signal)
      : minimalReport(run, { level: this.policy.levelFor(run.alert.labels) });
    const report: IncidentReport = {
      ...base,
      level: options.level ?? base.level,
      status: base.status === 'remediating' ? (options.recovered ? 'recovered' : 'escalated') : base.status,
    };
    return this.trigger(report, {
      ...(options.targets ? { targets: options.targets } : {}),
      ...(options.summary ? { note: options.summary } : {}),
      signal,
    });
  }

  /**
   * Calls `onOverdue(runId)` at `at` (ms), once: a delayed job whose id is the run's and the time's, so watching a run
   * again (every replica, every rung, after a restart) adds nothing while the job waits, and the job survives restarts
   * in Redis. A job that already ran is gone; `onOverdue` must itself tell whether it acted already.
   */
  async watchResolution(runId: string, at: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#guard(options.signal, async () => {
      await this.#queue.add(
        OVERDUE_JOB,
        { runId },
        {
          ...PUMP_JOB_OPTIONS,
          jobId: `overdue-${runId.replaceAll(':', '-')}-${Math.round(at)}`,
          delay: Math.max(0, at - this.#clock.now()),
        },
      );
    });
  }

  /**
   * Calls `onApproval(job)` at `at` (ms), once per `key`: the job survives restarts in Redis, and adding it again
   * with the same key while it waits adds nothing.
   */
  async scheduleApproval(job: ApprovalJobData, at: number, key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#guard(options.signal, async () => {
      await this.#queue.add(APPROVAL_JOB, job, {
        ...PUMP_JOB_OPTIONS,
        jobId: `approval-${job.kind}-${key}`.replaceAll(':', '-'),
        delay: Math.max(0, at - this.#clock.now()),
      });
    });
  }

  /**
   * Sends an approved customer notice to `targets`: a target where the episode has no open incident gets it opened
   * first (its trigger, which for a customer-facing target is neutral text), then the notice goes as an update,
   * rendered by the target's `renderNotice` when it has one. Only for text a person approved.
   */
  async publish(
    report: IncidentReport,
    text: string,
    targets: string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<EscalationReceipt> {
    this.#check(report);
    const { names } = this.#select(report.level, targets);
    const receipt: EscalationReceipt = { episodeKey: report.episodeKey, level: report.level, enqueued: [], skipped: [] };
    await this.#guard(options.signal, async () => {
      const open = new Set(await this.#ledger.openTargets(report.episodeKey));
      for (const name of names) {
        const target = this.#targets.get(name)!;
        const chainId = chainIdFor(report.episodeKey, name);
        if (!open.has(name)) {
          const trigger = this.#item(target, 'trigger', report);
          if ((await this.#ledger.enqueueTrigger(chainId, trigger, this.#item(target, 'update', report))) === 'trigger') {
            await this.#queued(trigger);
            receipt.enqueued.push({ target: name, action: 'trigger', deliveryId: trigger.id });
          }
        }
        const notice: DeliveryItem = {
          ...this.#item(target, 'update', report, text),
          ...(target.renderNotice ? { body: target.renderNotice(report, text) } : {}),
        };
        if (!(await this.#ledger.enqueueUpdate(chainId, notice))) {
          receipt.skipped.push({ target: name, reason: 'incident was resolved meanwhile' });
          continue;
        }
        await this.#queued(notice);
        await this.#addPump(chainId);
        receipt.enqueued.push({ target: name, action: 'update', deliveryId: notice.id });
      }
    });
    this.#log.info({ episodeKey: report.episodeKey, enqueued: receipt.enqueued, skipped: receipt.skipped }, 'customer notice published');
    return receipt;
  }

  /** Targets where the episode's incident is open (triggered and not resolved). */
  openTargets(episodeKey: string): Promise<string[]> {
    return this.#ledger.openTargets(episodeKey);
  }

  /**
   * A person resolved the incident at a provider: forget that it is open everywhere, so no later update or resolve is
   * sent for it (a PagerDuty v2 event after a resolve would open a new alert). Events already queued still go.
   */
  async closedByPeople(episodeKey: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#guard(options.signal, () => this.#ledger.forgetEpisode(episodeKey));
  }

  async #scheduleFollowUps(report: IncidentReport): Promise<void> {
    const level = this.policy.forLevel(report.level);
    const base = { episodeKey: report.episodeKey, runId: report.run.id, level: report.level };
    const id = chainIdFor(report.episodeKey, '*');
    for (const [tier, t] of level.tiers.entries()) {
      await this.#queue.add(RESPONSE_JOB, { ...base, tier } satisfies ResponseDue, {
        ...PUMP_JOB_OPTIONS,
        jobId: `response-${id}-${tier}`,
        delay: t.afterMs,
      });
    }
    if (level.updateEveryMs !== null) await this.#scheduleWarRoom({ ...base, sequence: 1 });
  }

  async #scheduleWarRoom(due: WarRoomDue): Promise<void> {
    const every = this.policy.forLevel(due.level).updateEveryMs;
    if (every === null) return;
    const id = chainIdFor(due.episodeKey, '*');
    await this.#queue.add(WAR_ROOM_JOB, due, { ...PUMP_JOB_OPTIONS, jobId: `war-room-${id}-${due.sequence}`, delay: every });
  }

  /** Where each event of an episode stands at its target (queued, sent, retrying, failed, dead-lettered), oldest first. */
  deliveries(episodeKey: string): Promise<DeliveryState[]> {
    return this.#status.list(episodeKey);
  }

  /**
   * Records a queued event for people. The event is already durably queued: a failure here is logged, not thrown, so
   * a caller never queues it twice.
   */
  async #queued(item: DeliveryItem): Promise<void> {
    try {
      await this.#status.record(item, { state: 'queued', at: item.enqueuedAt, attempts: 0 });
    } catch (err) {
      this.#log.warn({ error: this.#redact((err as Error).message), deliveryId: item.id }, 'could not record the queued delivery');
    }
  }

  /** Events that will not be delivered, newest first (see DeadLetter). */
  deadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.#dead.list(limit);
  }

  /**
   * Stops taking new deliveries, waits for the ones in flight (each bounded by the request timeout), disconnects.
   * When that takes longer than `timeoutMs` (default: request timeout + 5 s), it forces the worker closed: an event
   * cut mid-send stays at the head of its chain and is sent again later.
   *
   * With Redis gone, close still returns within about `timeoutMs` and leaves no timer or socket behind: retries stop
   * once closing, and connections stuck waiting to reconnect are ended first (src/queue/stranded-clients.ts explains
   * why BullMQ alone would never finish closing them).
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing = true;
    const timeoutMs = options.timeoutMs ?? this.settings.timeoutMs + 5000;
    const clients = [this.#redis, ...bullmqClients(this.#worker), ...bullmqClients(this.#queue)];
    // Taken before the close starts, and ended while it runs (stranded-clients.ts says why in that order).
    const stranded = strandedClients(clients);
    const graceful = (async () => {
      await this.#worker?.close();
      await this.#queue.close();
    })().then(
      () => true,
      () => false,
    );
    await endStrandedClients(stranded);
    if (!(await within(graceful, timeoutMs))) {
      // Redis went away during the close (or a delivery hangs): end what waits to reconnect, force the worker.
      await endStrandedClients(clients);
      await within(Promise.allSettled([this.#worker?.close(true), this.#queue.close(), graceful]), 2000);
    }
    disconnectClosed(clients);
  }

  /** Start-up failed: nothing is in flight, so end the connections first; a graceful close would wait for Redis. */
  async #abandon(): Promise<void> {
    this.#closing = true;
    this.#redis.disconnect();
    const stranded = strandedClients([...bullmqClients(this.#worker), ...bullmqClients(this.#queue)]);
    const closed = Promise.allSettled([this.#worker?.close(true), this.#queue.close()]);
    await endStrandedClients(stranded);
    await within(closed, 2000);
  }

  #check(report: IncidentReport): void {
    if (Value.Check(IncidentReportSchema, report)) return;
    const first = [...Value.Errors(IncidentReportSchema, report)].slice(0, 3).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new RemediatorError('REM_ERR_BAD_REQUEST', `invalid incident report: ${first.join('; ')}`);
  }

  /** The targets for a trigger: the ones asked for, else the severity policy's for the level. */
  #select(level: Level, asked: string[] | undefined): { names: string[]; skipped: EscalationReceipt['skipped'] } {
    if (asked) {
      const unknown = asked.filter((n) => !this.#targets.has(n));
      if (unknown.length > 0) {
        throw new RemediatorError(
          'REM_ERR_BAD_REQUEST',
          `unknown escalation target(s): ${unknown.join(', ')} (configured: ${this.targets.join(', ') || 'none'})`,
        );
      }
      return { names: [...new Set(asked)], skipped: [] };
    }
    const p = this.policy.forLevel(level);
    if (p.targets) {
      return {
        names: p.targets.filter((n) => this.#targets.has(n)),
        skipped: p.targets
          .filter((n) => !this.#targets.has(n))
          .map((n) => ({ target: n, reason: 'named by the severity policy but not configured' })),
      };
    }
    const names = [...this.#targets.values()]
      .filter((t) => (p.page && t.role === 'page') || (p.notify && t.role === 'notify'))
      .map((t) => t.name);
    return {
      names,
      skipped: names.length === 0 ? [{ target: '*', reason: `level ${level}: record only (no target for this level)` }] : [],
    };
  }

  #item(target: PagingTarget, action: EscalationAction, report: IncidentReport, note?: string): DeliveryItem {
    return {
      id: randomUUID(),
      target: target.name,
      type: target.type,
      action,
      episodeKey: report.episodeKey,
      level: report.level,
      body: target.render(action, report, note),
      enqueuedAt: new Date().toISOString(),
      runId: report.run.id,
    };
  }

  #addPump(chainId: string): Promise<unknown> {
    return this.#queue.add('pump', { chainId }, { ...PUMP_JOB_OPTIONS, deduplication: { id: chainId, keepLastIfActive: true } });
  }

  /** Runs Redis work under the caller's signal; Redis failures become REM_ERR_STORE_UNAVAILABLE, redacted. */
  async #guard(signal: AbortSignal | undefined, work: () => Promise<void>): Promise<void> {
    signal?.throwIfAborted();
    const run = work().catch((err: unknown) => {
      if (isRemediatorError(err)) throw err;
      throw new RemediatorError(
        'REM_ERR_STORE_UNAVAILABLE',
        `escalation could not be enqueued: ${this.#redact(String((err as Error)?.message ?? err))}`,
      );
    });
    if (!signal) return run;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([run, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      run.catch(() => undefined);
    }
  }
}

/** Resolves with the work's result, or with false when it takes longer than `ms` (the work goes on unobserved). */
async function within<T>(work: Promise<T>, ms: number): Promise<T | false> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

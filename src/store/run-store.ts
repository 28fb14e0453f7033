import { readFileSync } from 'node:fs';
import type { ChainableCommander, Result } from 'ioredis';
import type { RedisClient } from './redis-connection.ts';
import { Keys } from './keys.ts';
import { storeCall } from './store-call.ts';
import type { RunRecord, RunView } from './run-record.ts';
import type { ApprovalDecision, RunState, RunStatus } from '../engine/run-state.ts';
import { FINAL_STATUSES } from '../engine/run-state.ts';
import type { Decision } from '../engine/decision.ts';
import type { AlertView } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';

// The Lua scripts this file defines with `defineCommand`, as methods on the client (ioredis adds them at run time).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    remIngestFiring(...keysThenArgs: Array<string | number>): Result<Array<number | string>, Context>;
    remDecideFinal(...keysThenArgs: Array<string | number>): Result<number, Context>;
    remAbsorbQueued(...keysThenArgs: Array<string | number>): Result<number, Context>;
    remListRuns(...keysThenArgs: Array<string | number>): Result<string[], Context>;
    remCountRuns(...keysThenArgs: Array<string | number>): Result<Array<string | number>, Context>;
    remApprovalAnnounced(...keysThenArgs: Array<string | number>): Result<number, Context>;
  }
}

const DECISIONS_KEPT = 200;

/**
 * Repeats of an episode (HA twins, retries, repeat_interval re-sends) stored as `deduplicated` decisions; later ones
 * only bump the episode's `received` counter and `lastSeen`, so an alert storm does not grow Redis per delivery.
 */
export const REPEATS_RECORDED = 5;

// The ingest script calls the fleet count's function, `correlate` (src/store/lua/fleet-correlate.lua), defined first.
const INGEST_FIRING = [
  readFileSync(new URL('./lua/fleet-correlate.lua', import.meta.url), 'utf8'),
  readFileSync(new URL('./lua/ingest-firing.lua', import.meta.url), 'utf8'),
].join('\n');
const LIST_RUNS = readFileSync(new URL('./lua/list-runs.lua', import.meta.url), 'utf8');
const COUNT_RUNS = readFileSync(new URL('./lua/count-runs.lua', import.meta.url), 'utf8');

/** Most index entries one page request looks at: a rare filter answers a partial page with a cursor, never a long scan. */
const LIST_SCAN_BOUND = 20_000;

/**
 * KEYS: run hash, run decisions[, episode decisions]. ARGV: at, decision JSON, kept, episode TTL (s), '1' to append
 * the decision or '0' to only mark it recorded.
 */
const DECIDE_FINAL = `
if redis.call('HSETNX', KEYS[1], 'finalDecisionAt', ARGV[1]) == 0 then return 0 end
if ARGV[5] == '0' then return 1 end
local kept = tonumber(ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -kept, -1)
if KEYS[3] then
  redis.call('RPUSH', KEYS[3], ARGV[2])
  redis.call('LTRIM', KEYS[3], -kept, -1)
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[4]))
end
return 1
`;

/** KEYS: the unannounced-approvals index. ARGV: run id, decision time (ms). Removes the entry only for that decision. */
const ANNOUNCED = `
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/** A run whose approval notice may not be in the queue: its id and the time (ms) of its `awaiting_approval` decision. */
export interface UnannouncedApproval {
  runId: string;
  at: number;
}

export interface ClaimResult {
  created: boolean;
  runId: string;
}

/** The run a playbook would start for an alert: stored only if its episode has no run of that playbook yet. */
export interface CandidateRun {
  /** Its record's alert is the claim's `alert`, added by the store when it stores the run. */
  record: Omit<RunRecord, 'alert'>;
  started: Decision;
}

/** A run this process saw stored for the episode (KnownEpisodes): a repeat claims it by id, without a candidate. */
export interface KnownRun {
  known: { runId: string; playbook: string };
}

/**
 * One firing alert of a notification, with the run each matched playbook would start: every one a candidate, or
 * every one known (then the store takes the claims only if every such episode still has exactly those runs; else it
 * writes nothing and answers the episodes that do not, `unknown`).
 */
export interface FiringClaim {
  episodeId: string;
  alert: AlertView;
  /** Recorded when no playbook takes the alert (`runs` empty). */
  unmatched: Decision;
  runs: CandidateRun[] | KnownRun[];
}

/** What RunStore.ingestFiring returns. */
export interface FiringIngest {
  /** Per claim, one per run of `claims[i].runs`, in order. */
  runs: FiringClaimResult[][];
  /** The values of the `readAfter` keys once the runs were stored ('' when absent), in order. */
  readAfter: string[];
  /**
   * The episodes of known claims that no longer have those runs (expired, lost). When present, nothing was written
   * and `runs` is empty: claim the notification again with candidates for them.
   */
  unknown?: string[];
  /**
   * Present when a fleet count opened or joined a fleet, or found an episode a fleet took before: the counts were made
   * (their replies, in order, as src/store/lua/fleet-correlate.lua returns them) but none of the claims was written,
   * as they were built on the counts taking nothing. `runs` is empty: record the claims the verdicts call for, with
   * no counts.
   */
  fleetVerdicts?: string[][];
}

/**
 * One fleet count (src/store/lua/fleet-correlate.lua) for the ingest script to make before it records the claims:
 * its four keys, then its arguments (src/guards/fleet-correlator.ts builds them).
 */
export interface FleetCount {
  keys: readonly string[];
  args: ReadonlyArray<string | number>;
}

export interface FiringClaimResult extends ClaimResult {
  /** The run is queued without a job (new, or an earlier attempt failed before queuing it): queue it now. */
  enqueue: boolean;
}

export interface RunFilter {
  playbook?: string;
  status?: RunStatus;
  /** `namespace/kind/name`, `namespace/name` or a name. */
  target?: string;
  /** Created at or after (ms). */
  since?: number;
  /** Created at or before (ms). */
  until?: number;
  limit: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
}

/** Where a run stands, without its record and decisions: what `settleRuns` reads on every look. */
export interface RunProgress {
  status: RunStatus;
  finalDecisionAt?: string;
  /**
   * `state.wakeAt`: when a waiting run is due again. Every save of the state also writes it to a field of its own
   * (`wakeAt`), so a look reads a few bytes, not the state (tens of KB once gates have polled).
   */
  wakeAt?: number;
}

export interface RunStoreOptions {
  /** How long episodes and their decisions are kept. */
  retentionMs: number;
  /**
   * Called once for each decision this store appends, after Redis took it (default: nothing). Every decision goes
   * through this store, so this is the one place they are counted (`remediator_decisions_total`): a decision only
   * marked recorded (`recordFinalDecision` with `markOnly`, or a closing already recorded) is not called.
   */
  onDecision?(decision: Decision): void;
}

/** KEYS: run hash, run decisions, episode decisions (the run decisions again when none). ARGV: cancel JSON, decision JSON, kept, episode TTL (0: none). */
const ABSORB_QUEUED = `
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' or redis.call('HEXISTS', KEYS[1], 'cancel') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'cancel', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
if tonumber(ARGV[4]) > 0 then
  redis.call('RPUSH', KEYS[3], ARGV[2])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[3]), -1)
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
return 1
`;

/** Episodes, runs and decisions in Redis. Every method throws REM_ERR_STORE_UNAVAILABLE when Redis fails. */
export class RunStore {
  readonly keys: Keys;
  readonly #redis: RedisClient;
  readonly #retentionSeconds: number;
  readonly #onDecision: (decision: Decision) => void;
  /** The ingest script's arguments that never change (ARGV 3–13 of src/store/lua/ingest-firing.lua), built once. */
  readonly #ingestConstants: ReadonlyArray<string | number>;

  constructor(redis: RedisClient, prefix: string, options: RunStoreOptions) {
    this.#redis = redis;
    this.keys = new Keys(prefix);
    this.#retentionSeconds = Math.ceil(options.retentionMs / 1000);
    this.#onDecision = options.onDecision ?? (() => undefined);
    const runPrefix = this.keys.run('');
    const episodePrefix = this.keys.episode('');
    this.#ingestConstants = [
      this.#retentionSeconds,
      DECISIONS_KEPT,
      REPEATS_RECORDED,
      this.keys.runs(),
      this.keys.runsQueued(),
      runPrefix,
      this.keys.runDecisions('').slice(runPrefix.length),
      this.keys.runJob(''),
      this.keys.runEvents(),
      episodePrefix,
      this.keys.episodeDecisions('').slice(episodePrefix.length),
    ];
    redis.defineCommand('remDecideFinal', { lua: DECIDE_FINAL });
    redis.defineCommand('remApprovalAnnounced', { numberOfKeys: 1, lua: ANNOUNCED });
    // One declared key, the run index, routes the script to the node that owns the installation's slot on Cluster (every
    // key shares its hash tag); the script reads its keys from ARGV, where the run index is repeated.
    redis.defineCommand('remIngestFiring', { numberOfKeys: 1, lua: INGEST_FIRING });
    redis.defineCommand('remListRuns', { numberOfKeys: 1, lua: LIST_RUNS });
    redis.defineCommand('remCountRuns', { numberOfKeys: 1, lua: COUNT_RUNS });
    redis.defineCommand('remAbsorbQueued', { numberOfKeys: 3, lua: ABSORB_QUEUED });
  }

  /**
   * Absorbs a run into another one (a fleet run) if it has not started: in one step, only while its status is still
   * `queued`, it is asked to stop (a cancel by `by`, which the worker honours before any step) and the `absorbed`
   * decision is recorded on it and its episode. A run a worker already started is left alone. True when absorbed.
   */
  async absorbQueued(runId: string, by: string, decision: Decision & { runId: string; reason: 'absorbed' }): Promise<boolean> {
    const cancel = JSON.stringify({ by, reason: decision.message, at: decision.at });
    const episodeDecisions = decision.episodeId ? this.keys.episodeDecisions(decision.episodeId) : '';
    const done = await storeCall(() =>
      this.#redis.remAbsorbQueued(
        this.keys.run(runId),
        this.keys.runDecisions(runId),
        episodeDecisions || this.keys.runDecisions(runId),
        cancel,
        JSON.stringify(decision),
        DECISIONS_KEPT,
        episodeDecisions ? this.#retentionSeconds : 0,
      ),
    );
    if (done === 1) this.#onDecision(decision);
    return done === 1;
  }

  /**
   * Records the firing alerts of one notification in one round trip (src/store/lua/ingest-firing.lua): episodes,
   * repeat counters, new runs with their `started` decisions (announced on the run-events channel), and which runs
   * need their job queued. `readAfter`: string keys read in the same step, after the runs are stored (the fleets'
   * open markers, src/guards/fleet-correlator.ts), so a webhook needs no second round trip to look at them.
   * `fleetCounts`: made first, in the same step; the claims are written only if no count takes any of their alerts
   * (see FiringIngest.fleetVerdicts).
   */
  async ingestFiring(
    claims: FiringClaim[],
    now: string,
    readAfter: readonly string[] = [],
    fleetCounts: readonly FleetCount[] = [],
  ): Promise<FiringIngest> {
    if (claims.length === 0 && fleetCounts.length === 0) return { runs: [], readAfter: [] };
    const args: Array<string | number> = [
      now,
      Date.parse(now),
      ...this.#ingestConstants,
      readAfter.length,
      ...readAfter,
      fleetCounts.length,
    ];
    for (const f of fleetCounts) args.push(...f.keys, f.args.length, ...f.args);
    for (const c of claims) {
      const known = c.runs.length > 0 && 'known' in c.runs[0]!;
      args.push(
        c.episodeId,
        c.alert.fingerprint,
        c.alert.startsAt,
        known ? '' : JSON.stringify(c.alert.labels),
        c.runs.length === 0 || known ? '' : JSON.stringify(c.alert),
        c.runs.length,
        c.runs.length === 0 ? JSON.stringify(c.unmatched) : '',
      );
      for (const r of c.runs) {
        if ('known' in r) args.push(r.known.playbook, r.known.runId, '', '');
        else args.push(r.record.playbook, r.record.id, JSON.stringify(r.record), JSON.stringify(r.started));
      }
    }
    const flat = (await storeCall(() => this.#redis.remIngestFiring(this.keys.runs(), ...args))) ?? [];
    if (flat[0] === -1) return { runs: [], readAfter: [], unknown: flat.slice(1).map(String) };
    if (flat[0] === -2) {
      const fleetVerdicts: string[][] = [];
      for (let v = 1; v < flat.length; v += 4) fleetVerdicts.push(flat.slice(v, v + 4).map(String));
      return { runs: [], readAfter: [], fleetVerdicts };
    }
    let k = 0;
    const runs = claims.map((c) =>
      c.runs.map(() => {
        const result = { created: flat[k] === 1, runId: String(flat[k + 1]), enqueue: flat[k + 2] === 1 };
        k += 3;
        return result;
      }),
    );
    return { runs, readAfter: flat.slice(k).map(String) };
  }

  async ping(): Promise<void> {
    await storeCall(() => this.#redis.ping());
  }

  /** Records a delivery of an episode without claiming a run (a resolved alert). */
  async touchEpisode(episodeId: string, alert: AlertView, now: string): Promise<void> {
    const key = this.keys.episode(episodeId);
    await storeCall(() =>
      this.#redis
        .multi()
        .hsetnx(key, 'fingerprint', alert.fingerprint)
        .hsetnx(key, 'startsAt', alert.startsAt)
        .hsetnx(key, 'labels', JSON.stringify(alert.labels))
        .hsetnx(key, 'firstSeen', now)
        .hsetnx(key, 'status', alert.status)
        .hset(key, 'lastSeen', now)
        .hincrby(key, 'received', 1)
        .expire(key, this.#retentionSeconds)
        .exec(),
    );
  }

  /** Marks the episode resolved and returns the ids of its runs (so they can be told). */
  async resolveEpisode(episodeId: string, alert: AlertView, now: string): Promise<string[]> {
    const key = this.keys.episode(episodeId);
    await this.touchEpisode(episodeId, alert, now);
    const [, , fields] = (await storeCall(() =>
      this.#redis
        .multi()
        .hset(key, 'status', 'resolved')
        .hsetnx(key, 'resolvedAt', alert.endsAt ?? now)
        .hgetall(key)
        .exec(),
    )) as Array<[Error | null, unknown]>;
    const all = (fields?.[1] ?? {}) as Record<string, string>;
    const runIds = Object.entries(all)
      .filter(([k]) => k.startsWith('run:'))
      .map(([, v]) => v);
    if (runIds.length > 0) {
      const m = this.#redis.multi();
      for (const id of runIds) m.hsetnx(this.keys.run(id), 'alertResolvedAt', alert.endsAt ?? now);
      await storeCall(() => m.exec());
    }
    return runIds;
  }

  async getEpisode(episodeId: string): Promise<Record<string, string> | undefined> {
    const h = await storeCall(() => this.#redis.hgetall(this.keys.episode(episodeId)));
    return Object.keys(h).length ? h : undefined;
  }

  /** Creates a run that belongs to no alert episode (manual runs, retries). */
  async createRun(record: RunRecord): Promise<void> {
    await storeCall(() =>
      this.#redis
        .multi()
        .hset(this.keys.run(record.id), 'record', JSON.stringify(record), 'status', 'queued', 'updatedAt', record.createdAt)
        .zadd(this.keys.runs(), Date.parse(record.createdAt), record.id)
        .zadd(this.keys.runsQueued(), Date.parse(record.createdAt), record.id)
        .publish(this.keys.runEvents(), `${record.id} queued`)
        .exec(),
    );
  }

  /** Appends a decision to its run and its episode, and counts it (`onDecision`). */
  async recordDecision(decision: Decision): Promise<void> {
    const m = this.#redis.multi();
    if (!this.#appendDecision(m, decision)) return;
    await storeCall(() => m.exec());
    this.#onDecision(decision);
  }

  /**
   * Queues the appends on `m`; false when the decision names neither a run nor an episode (nowhere to keep it). An
   * `awaiting_approval` decision also enters the run in the unannounced-approvals index, in the same transaction, so
   * a process that dies before adding the approvers' notice job leaves it for the sweeper.
   */
  #appendDecision(m: ChainableCommander, decision: Decision): boolean {
    const json = JSON.stringify(decision);
    if (decision.runId)
      m.rpush(this.keys.runDecisions(decision.runId), json).ltrim(this.keys.runDecisions(decision.runId), -DECISIONS_KEPT, -1);
    if (decision.runId && decision.reason === 'awaiting_approval')
      m.zadd(this.keys.approvalsUnannounced(), Date.parse(decision.at), decision.runId);
    if (decision.episodeId) {
      m.rpush(this.keys.episodeDecisions(decision.episodeId), json)
        .ltrim(this.keys.episodeDecisions(decision.episodeId), -DECISIONS_KEPT, -1)
        .expire(this.keys.episodeDecisions(decision.episodeId), this.#retentionSeconds);
    }
    return Boolean(decision.runId || decision.episodeId);
  }

  async episodeDecisions(episodeId: string): Promise<Decision[]> {
    return (await storeCall(() => this.#redis.lrange(this.keys.episodeDecisions(episodeId), 0, -1))).map((s) => JSON.parse(s) as Decision);
  }

  /** The run's cancel request, if one was made (what `requestCancel` wrote). */
  async getCancel(id: string): Promise<{ by: string; reason: string; at: string } | undefined> {
    const raw = await storeCall(() => this.#redis.hget(this.keys.run(id), 'cancel'));
    return raw ? (JSON.parse(raw) as { by: string; reason: string; at: string }) : undefined;
  }

  async getStatus(id: string): Promise<RunStatus | undefined> {
    return ((await storeCall(() => this.#redis.hget(this.keys.run(id), 'status'))) ?? undefined) as RunStatus | undefined;
  }

  /** A run's status, closing decision time and wake-up time, or undefined for an unknown run. */
  async getProgress(id: string): Promise<RunProgress | undefined> {
    const [status, finalDecisionAt, wakeAt] = await storeCall(() =>
      this.#redis.hmget(this.keys.run(id), 'status', 'finalDecisionAt', 'wakeAt'),
    );
    if (!status) return undefined;
    return {
      status: status as RunStatus,
      ...(finalDecisionAt ? { finalDecisionAt } : {}),
      ...(wakeAt ? { wakeAt: Number(wakeAt) } : {}),
    };
  }

  async getRun(id: string): Promise<RunView | undefined> {
    const [h, decisions] = await storeCall(() =>
      Promise.all([this.#redis.hgetall(this.keys.run(id)), this.#redis.lrange(this.keys.runDecisions(id), 0, -1)]),
    );
    if (!h.record) return undefined;
    return toView(h, decisions);
  }

  /**
   * Saves the engine state and what is derived from it, `status` and `wakeAt` (the worker is the only writer of these
   * fields; RunFence.save is its fenced form).
   */
  async saveState(id: string, state: RunState): Promise<void> {
    const key = this.keys.run(id);
    const m = this.#redis.multi().hset(key, 'state', JSON.stringify(state), 'status', state.status, 'updatedAt', new Date().toISOString());
    if (state.wakeAt === undefined) m.hdel(key, 'wakeAt');
    else m.hset(key, 'wakeAt', state.wakeAt);
    await storeCall(() => m.exec());
  }

  /** Stores an operator's answer to a plan; the worker reads it when the run wakes. */
  async recordApproval(id: string, decision: ApprovalDecision): Promise<void> {
    const key = this.keys.run(id);
    const current = JSON.parse((await storeCall(() => this.#redis.hget(key, 'approvals'))) ?? '{}') as Record<string, ApprovalDecision>;
    current[decision.stepId] = decision;
    await storeCall(() => this.#redis.hset(key, 'approvals', JSON.stringify(current)));
  }

  /**
   * Asks a run to stop and records the `cancelled` decision in the same transaction: the cancel request is the
   * decision, so closing the run as cancelled later only marks it recorded (RunCloser.finish). The same transaction,
   * after the request is written, tells the workers (`Keys.runStops`: the one holding the run interrupts its step in
   * flight) and the consoles (`Keys.runEvents`).
   */
  async requestCancel(id: string, by: string, reason: string, decision: Decision & { runId: string; reason: 'cancelled' }): Promise<void> {
    const m = this.#redis.multi().hset(this.keys.run(id), 'cancel', JSON.stringify({ by, reason, at: decision.at }));
    this.#appendDecision(m, decision);
    m.publish(this.keys.runStops(), id).publish(this.keys.runEvents(), id);
    await storeCall(() => m.exec());
    this.#onDecision(decision);
  }

  /** The ids of the newest `limit` runs, newest first: their records are not read. */
  async newestRunIds(limit: number): Promise<string[]> {
    return storeCall(() => this.#redis.zrevrange(this.keys.runs(), 0, limit - 1));
  }

  /**
   * A page of runs, newest first, filtered in Redis (src/store/lua/list-runs.lua). At most LIST_SCAN_BOUND index
   * entries are looked at per page: a filter that matches little answers a short page with a `next` cursor.
   */
  async listRuns(filter: RunFilter): Promise<{ runs: RunView[]; next?: string }> {
    const from = filter.cursor
      ? decodeCursor(filter.cursor)
      : { score: filter.until === undefined ? '+inf' : String(filter.until), id: '' };
    const lower = filter.since === undefined ? '-inf' : String(filter.since);
    const flat = await storeCall(() =>
      this.#redis.remListRuns(
        this.keys.runs(),
        this.keys.run(''),
        from.score,
        from.id,
        lower,
        filter.limit,
        LIST_SCAN_BOUND,
        filter.status ?? '',
        filter.playbook ?? '',
        filter.target ?? '',
      ),
    );
    const sep = flat.length - 3;
    const ids = flat.slice(0, sep);
    const [nextScore, nextId] = [flat[sep + 1]!, flat[sep + 2]!];
    const m = this.#redis.multi();
    for (const id of ids) m.hgetall(this.keys.run(id));
    const rows = ids.length === 0 ? [] : ((await storeCall(() => m.exec())) ?? []).map(([, v]) => v as Record<string, string>);
    const runs = rows.filter((row) => row?.record).map((row) => toView(row, []));
    return { runs, next: nextScore ? encodeCursor(nextScore, nextId) : undefined };
  }

  /** How many runs created in the window (ms, inclusive; default all) have each status; one round trip. */
  async countRuns(window: { since?: number; until?: number } = {}): Promise<Partial<Record<RunStatus, number>>> {
    const flat = await storeCall(() =>
      this.#redis.remCountRuns(
        this.keys.runs(),
        this.keys.run(''),
        window.since === undefined ? '-inf' : String(window.since),
        window.until === undefined ? '+inf' : String(window.until),
      ),
    );
    const out: Partial<Record<RunStatus, number>> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as RunStatus] = Number(flat[i + 1]);
    return out;
  }

  /**
   * Runs counted against the budget of (playbook, target) since `sinceMs` (the guards' index, written by the target
   * lock): what the console shows as the budget used.
   */
  async budgetUsed(playbook: string, target: string, sinceMs: number): Promise<number> {
    return storeCall(() => this.#redis.zcount(this.keys.guardBudget(playbook, target), `(${sinceMs}`, '+inf'));
  }

  /** Removes finished runs beyond the retention bounds. Returns how many were removed. */
  async trim(maxRecords: number, maxAgeMs: number, now = Date.now()): Promise<number> {
    const total = await storeCall(() => this.#redis.zcard(this.keys.runs()));
    const candidates = new Set<string>();
    if (total > maxRecords)
      for (const id of await storeCall(() => this.#redis.zrange(this.keys.runs(), 0, String(total - maxRecords - 1)))) candidates.add(id);
    for (const id of await storeCall(() => this.#redis.zrangebyscore(this.keys.runs(), '-inf', String(now - maxAgeMs), 'LIMIT', 0, 500)))
      candidates.add(id);
    // Waits nobody announces (no approval targets) are forgotten with the runs of their age.
    await storeCall(() => this.#redis.zremrangebyscore(this.keys.approvalsUnannounced(), '-inf', String(now - maxAgeMs)));
    let removed = 0;
    for (const id of candidates) {
      const status = (await this.getStatus(id)) as RunStatus | undefined;
      if (status && !FINAL_STATUSES.has(status)) continue; // never drop a live run
      await storeCall(() => this.#redis.multi().del(this.keys.run(id), this.keys.runDecisions(id)).zrem(this.keys.runs(), id).exec());
      removed++;
    }
    return removed;
  }

  /**
   * Runs still queued (recorded, never claimed by a worker) created at least `olderThanMs` ago, oldest first, at most
   * `limit`: the sweeper queues their jobs again. Read from the queued index (a worker's claim and a final save take a
   * run out of it), so a backlog of finished runs cannot hide them; entries whose run ended or is gone are dropped.
   */
  async queuedRuns(olderThanMs: number, now = Date.now(), limit = 200): Promise<string[]> {
    const index = this.keys.runsQueued();
    const ids = await storeCall(() => this.#redis.zrangebyscore(index, '-inf', String(now - olderThanMs), 'LIMIT', 0, limit));
    if (ids.length === 0) return [];
    const m = this.#redis.multi();
    for (const id of ids) m.hget(this.keys.run(id), 'status');
    const statuses = ((await storeCall(() => m.exec())) ?? []).map(([, v]) => v as string | null);
    const stale = ids.filter((_, i) => statuses[i] !== 'queued');
    if (stale.length > 0) await storeCall(() => this.#redis.zrem(index, ...stale));
    return ids.filter((_, i) => statuses[i] === 'queued');
  }

  /**
   * Runs whose `awaiting_approval` decision was recorded at least `olderThanMs` before `now` (ms, the Clock's) and whose
   * notice job is not confirmed in the queue (`approvalAnnounced`), oldest first, at most `limit`. Entries of runs
   * that ended or are gone are dropped.
   */
  async unannouncedApprovals(olderThanMs: number, now: number, limit = 100): Promise<UnannouncedApproval[]> {
    const index = this.keys.approvalsUnannounced();
    const flat = await storeCall(() =>
      this.#redis.zrangebyscore(index, '-inf', String(now - olderThanMs), 'WITHSCORES', 'LIMIT', 0, limit),
    );
    const found: UnannouncedApproval[] = [];
    for (let i = 0; i < flat.length; i += 2) found.push({ runId: flat[i]!, at: Number(flat[i + 1]) });
    if (found.length === 0) return [];
    const m = this.#redis.multi();
    for (const f of found) m.hget(this.keys.run(f.runId), 'status');
    const statuses = ((await storeCall(() => m.exec())) ?? []).map(([, v]) => v as string | null);
    const live = (i: number) => statuses[i] !== null && !FINAL_STATUSES.has(statuses[i] as RunStatus);
    const stale = found.filter((_, i) => !live(i));
    for (const f of stale) await this.approvalAnnounced(f.runId, f.at);
    return found.filter((_, i) => live(i));
  }

  /** The notice job of the run's `awaiting_approval` decision at `at` (ms) is in the queue: forget the entry (a newer one stays). */
  async approvalAnnounced(runId: string, at: number): Promise<void> {
    await storeCall(() => this.#redis.remApprovalAnnounced(this.keys.approvalsUnannounced(), runId, String(at)));
  }

  /** Marks that the page of an escalated run was handed to the escalator (the closing work checks it; see RunCloser). */
  async markEscalationEnqueued(id: string, at: string): Promise<void> {
    await storeCall(() => this.#redis.hset(this.keys.run(id), 'escalationEnqueuedAt', at));
  }

  /**
   * Records the decision that closes a run, once: it is written only with the run's `finalDecisionAt` mark, in one
   * script, so closing work redone after a crash (or by a sweeper racing the worker) never records it twice.
   * `markOnly`: the decision was already recorded when it happened (an escalation); only the mark is set.
   * True when this call recorded it.
   */
  async recordFinalDecision(decision: Decision & { runId: string }, options: { markOnly?: boolean } = {}): Promise<boolean> {
    const episode = decision.episodeId ? this.keys.episodeDecisions(decision.episodeId) : '';
    const keys = [this.keys.run(decision.runId), this.keys.runDecisions(decision.runId), ...(episode ? [episode] : [])];
    const written = await storeCall(() =>
      this.#redis.remDecideFinal(
        keys.length,
        ...keys,
        decision.at,
        JSON.stringify(decision),
        DECISIONS_KEPT,
        this.#retentionSeconds,
        options.markOnly ? '0' : '1',
      ),
    );
    if (written === 1 && !options.markOnly) this.#onDecision(decision);
    return written === 1;
  }
}

function toView(h: Record<string, string>, decisions: string[]): RunView {
  const record = JSON.parse(h.record!) as RunRecord;
  // A fleet run's services grow while it runs (src/guards/fleet-correlator.ts); the run reads the current list.
  if (h.fleetServices) record.params = { ...record.params, services: JSON.parse(h.fleetServices) as string[] };
  return {
    ...record,
    status: (h.status ?? 'queued') as RunStatus,
    updatedAt: h.updatedAt ?? record.createdAt,
    state: h.state ? (JSON.parse(h.state) as RunState) : undefined,
    cancel: h.cancel ? JSON.parse(h.cancel) : undefined,
    approvals: h.approvals ? JSON.parse(h.approvals) : undefined,
    alertResolvedAt: h.alertResolvedAt,
    escalationEnqueuedAt: h.escalationEnqueuedAt,
    finalDecisionAt: h.finalDecisionAt,
    decisions: decisions.map((d) => JSON.parse(d) as Decision),
  };
}

function encodeCursor(score: string, id: string): string {
  return Buffer.from(`${score}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { score: string; id: string } {
  const m = /^(\d+)\|([A-Za-z0-9_-]+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new RemediatorError('REM_ERR_BAD_REQUEST', 'invalid cursor');
  return { score: m[1]!, id: m[2]! };
}

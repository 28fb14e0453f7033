import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import type { BudgetLimits } from './budget-policy.ts';
import { storeCall } from '../store/store-call.ts';
import type { Result } from 'ioredis';

// The Lua scripts this file defines with `defineCommand`, as methods on the client (ioredis adds them at run time).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    remGuardClaim(...keysThenArgs: Array<string | number>): Result<[string, string], Context>;
    remGuardRelease(...keysThenArgs: Array<string | number>): Result<string[], Context>;
    remGuardRenew(...keysThenArgs: Array<string | number>): Result<number, Context>;
  }
}

/**
 * The per-target lock with fencing, and the budget it is granted against, in one Lua script: one mutating run per
 * object across every replica, and a run counts against the budget (of its own target, see `budgetTarget`) exactly
 * when it is first granted a lock, so a run refused for any reason consumes nothing and two workers can never both
 * take the last unit.
 *
 * The lock value is `<runId>|<token>`, where the token is the target's fencing counter (INCR) at the grant. The
 * run's guard memory (a hash per run) keeps the token it was granted. Every later admit of that run re-checks, in
 * the same atomic step, that the lock still carries exactly that run and token and renews its TTL; a run whose lock
 * expired gets it back only if nobody was granted the target since (the fencing counter still equals its token),
 * otherwise it has lost the target and must not write.
 *
 * A run refused because the target is locked joins the target's waiters, and leaves them when it is granted the lock;
 * the release wakes every waiter at once (see RELEASE), so a waiting run does not poll.
 *
 * KEYS: lock, fence, run memory, budget zset, last start, waiters zset. ARGV: runId, memory field, now, lock TTL,
 * budget runs, budget window, cooldown, memory TTL, count budget (1/0), fence TTL, last-start TTL, waits (1/0).
 */
const CLAIM = `
local lock, fence, mem, budget, last, waiters = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local runId, field, nowArg = ARGV[1], ARGV[2], ARGV[3]
local now, ttl, limit, window, cooldown = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local memTtl, useBudget, fenceTtl, lastTtl = tonumber(ARGV[8]), ARGV[9] == '1', tonumber(ARGV[10]), tonumber(ARGV[11])
local waits = ARGV[12] == '1'
local held = redis.call('GET', lock)
local mine = redis.call('HGET', mem, field)
if mine then
  if held == runId .. '|' .. mine then
    redis.call('PEXPIRE', lock, ttl)
    redis.call('PEXPIRE', mem, memTtl)
    return {'renewed', mine}
  end
  if not held and redis.call('GET', fence) == mine then
    redis.call('SET', lock, runId .. '|' .. mine, 'PX', ttl)
    redis.call('PEXPIRE', mem, memTtl)
    return {'reacquired', mine}
  end
  return {'lost', held or ''}
end
if useBudget then
  redis.call('ZREMRANGEBYSCORE', budget, '-inf', now - window)
  if not redis.call('ZSCORE', budget, runId) then
    if cooldown > 0 then
      local l = redis.call('GET', last)
      if l then
        local sep = string.find(l, '|', 1, true)
        local at = tonumber(string.sub(l, 1, sep - 1))
        if string.sub(l, sep + 1) ~= runId and now - at < cooldown then return {'cooldown', tostring(at + cooldown)} end
      end
    end
    if redis.call('ZCARD', budget) >= limit then
      local oldest = redis.call('ZRANGE', budget, 0, 0, 'WITHSCORES')
      return {'exhausted', tostring(tonumber(oldest[2]) + window)}
    end
  end
end
if held then
  if waits then
    redis.call('ZADD', waiters, 'NX', nowArg, runId)
    redis.call('PEXPIRE', waiters, memTtl)
  end
  return {'locked', held}
end
redis.call('ZREM', waiters, runId)
local token = redis.call('INCR', fence)
redis.call('PEXPIRE', fence, fenceTtl)
redis.call('SET', lock, runId .. '|' .. token, 'PX', ttl)
redis.call('HSET', mem, field, token)
redis.call('PEXPIRE', mem, memTtl)
if useBudget then
  redis.call('ZADD', budget, nowArg, runId)
  redis.call('PEXPIRE', budget, window)
  redis.call('SET', last, nowArg .. '|' .. runId, 'PX', lastTtl)
end
return {'acquired', tostring(token)}
`;

/**
 * Deletes a lock only if it still carries this run and token (never someone else's). When the target is free after
 * it (released now, or expired), takes its waiters, oldest first, for the caller to wake: they ask for the lock again
 * and those that lose it wait again. KEYS: lock, waiters zset. ARGV: `<runId>|<token>`.
 */
const RELEASE = `
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then redis.call('DEL', KEYS[1]) elseif held then return {} end
local waiting = redis.call('ZRANGE', KEYS[2], 0, -1)
redis.call('DEL', KEYS[2])
return waiting
`;

/**
 * Extends a lock to `ttl` ms if it still carries this run and token, and the run's guard memory to at least `memTtl`.
 * A lock that expired or went to another run is left alone: renewal never resurrects or steals a lock, it only keeps
 * a live holder's lock from running out. KEYS: lock, run memory. ARGV: `<runId>|<token>`, ttl, memTtl.
 */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3])) end
return 1
`;

export type ClaimResult =
  | { kind: 'acquired' | 'renewed' | 'reacquired'; token: number }
  /** Another run holds the target; `holder` is its run id. */
  | { kind: 'locked'; holder: string }
  /** This run held the target, but another run was granted it since: this run must not write. */
  | { kind: 'lost'; holder?: string }
  | { kind: 'exhausted'; freesAt: number }
  | { kind: 'cooldown'; until: number };

export interface ClaimRequest {
  runId: string;
  playbook: string;
  /** `ns/Kind/name`: the object to lock. */
  target: string;
  /**
   * `ns/Kind/name` the budget and cooldown are kept for (default `target`): the run's own target, so a ladder whose
   * rungs touch a ConfigMap, a Service and a backup Deployment for one service in trouble counts one run against
   * that service's budget, not one per object.
   */
  budgetTarget?: string;
  now: number;
  ttlMs: number;
  limits: BudgetLimits;
  /** Manual runs take the lock but neither use nor check the budget. */
  countBudget: boolean;
  /** The run waits for a locked target (spec.concurrency: wait), so it joins the target's waiters. Default true. */
  waits?: boolean;
}

const FIELD = 'lock:';
/** The fencing counter outlives every lock and every run memory, so a token can never come round again. */
const FENCE_TTL_MS = 30 * 86_400_000;
/** The last start on a target is kept this long; cooldowns longer than this are not supported. */
const LAST_START_TTL_MS = 86_400_000;

export interface TargetLockOptions {
  /**
   * Wakes runs that waited for a lock this run released (oldest first), so they ask again at once instead of after
   * `guards.lock.retryAfter`. Built by the composition root on the run queue; errors are its to report: a waiter whose
   * wake is lost still asks again after its retry time. Absent: waiters only ask again after their retry time.
   */
  wake?: (runIds: string[]) => Promise<void>;
}

export class TargetLock {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #wake: TargetLockOptions['wake'];

  constructor(redis: RedisClient, keys: Keys, options: TargetLockOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#wake = options.wake;
    redis.defineCommand('remGuardClaim', { numberOfKeys: 6, lua: CLAIM });
    redis.defineCommand('remGuardRelease', { numberOfKeys: 2, lua: RELEASE });
    redis.defineCommand('remGuardRenew', { numberOfKeys: 2, lua: RENEW });
  }

  /**
   * Keeps the run's locks for `ttlMs` more (only those it still holds); returns how many. The worker calls it while a
   * step of the run executes (a heartbeat) and when the run goes to sleep until a later time (then `ttlMs` covers the
   * sleep plus the usual TTL): a sleeping run's job waits in Redis with no process holding it, yet the run is alive.
   * A holder that dies stops renewing, so its lock still expires at most `ttlMs` after the last renewal.
   */
  async renew(runId: string, ttlMs: number): Promise<number> {
    const memKey = this.#keys.guardRun(runId);
    const mem = await storeCall(() => this.#redis.hgetall(memKey));
    const ttl = Math.max(1, Math.ceil(ttlMs));
    let renewed = 0;
    for (const [field, token] of Object.entries(mem)) {
      if (!field.startsWith(FIELD)) continue;
      const lock = this.#keys.guardLock(field.slice(FIELD.length));
      renewed += await storeCall(() => this.#redis.remGuardRenew(lock, memKey, `${runId}|${token}`, ttl, Math.max(ttl * 4, 86_400_000)));
    }
    return renewed;
  }

  /** Grants, renews or refuses the target to the run; a grant counts the run against the budget. */
  async claim(r: ClaimRequest): Promise<ClaimResult> {
    const k = this.#keys;
    const memTtl = Math.max(r.ttlMs * 4, 86_400_000);
    const [kind, value] = await storeCall(() =>
      this.#redis.remGuardClaim(
        k.guardLock(r.target),
        k.guardFence(r.target),
        k.guardRun(r.runId),
        k.guardBudget(r.playbook, r.budgetTarget ?? r.target),
        k.guardLastStart(r.budgetTarget ?? r.target),
        k.guardLockWaiters(r.target),
        r.runId,
        FIELD + r.target,
        r.now,
        r.ttlMs,
        r.limits.runs,
        r.limits.windowMs,
        r.limits.cooldownMs,
        memTtl,
        r.countBudget ? 1 : 0,
        FENCE_TTL_MS,
        Math.max(LAST_START_TTL_MS, r.limits.cooldownMs),
        r.waits === false ? 0 : 1,
      ),
    );
    switch (kind) {
      case 'acquired':
      case 'renewed':
      case 'reacquired':
        return { kind, token: Number(value) };
      case 'locked':
        return { kind, holder: value.split('|')[0]! };
      case 'lost':
        return value ? { kind, holder: value.split('|')[0]! } : { kind };
      case 'exhausted':
        return { kind, freesAt: Number(value) };
      default:
        return { kind: 'cooldown', until: Number(value) };
    }
  }

  /**
   * Releases every lock the run was granted (only those it still holds), forgets it, and wakes the runs that waited
   * for those targets; returns the targets.
   */
  async release(runId: string): Promise<string[]> {
    const k = this.#keys;
    const memKey = k.guardRun(runId);
    const mem = await storeCall(() => this.#redis.hgetall(memKey));
    const targets: string[] = [];
    const waiting: string[] = [];
    for (const [field, token] of Object.entries(mem)) {
      if (!field.startsWith(FIELD)) continue;
      const target = field.slice(FIELD.length);
      targets.push(target);
      const lock = k.guardLock(target);
      waiting.push(...(await storeCall(() => this.#redis.remGuardRelease(lock, k.guardLockWaiters(target), `${runId}|${token}`))));
    }
    await storeCall(() => this.#redis.del(memKey));
    if (waiting.length > 0 && this.#wake) await this.#wake([...new Set(waiting)]);
    return targets;
  }

  /** The run holding the target and its token, if any (for operators and tests). */
  async holder(target: string): Promise<{ runId: string; token: number } | undefined> {
    const v = await storeCall(() => this.#redis.get(this.#keys.guardLock(target)));
    if (!v) return undefined;
    const [runId, token] = v.split('|');
    return { runId: runId!, token: Number(token) };
  }

  /** Records a note on the run's guard memory once; true the first time (e.g. the dry-run note). */
  async noteOnce(runId: string, note: string): Promise<boolean> {
    const key = this.#keys.guardRun(runId);
    const [[, set]] = (await storeCall(() => this.#redis.multi().hsetnx(key, `noted:${note}`, '1').pexpire(key, 86_400_000).exec())) as [
      [unknown, number],
    ];
    return set === 1;
  }
}

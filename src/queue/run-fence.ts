import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import { FINAL_STATUSES, type RunState } from '../engine/run-state.ts';
import { storeCall } from '../store/store-call.ts';
import type { Result } from 'ioredis';

// The Lua scripts this file defines with `defineCommand`, as methods on the client (ioredis adds them at run time).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    remRunClaim(...keysThenArgs: Array<string | number>): Result<'claimed' | 'closed' | 'missing', Context>;
    remRunSave(...keysThenArgs: Array<string | number>): Result<SaveResult, Context>;
    remTakeClosings(...keysThenArgs: Array<string | number>): Result<string[], Context>;
  }
}

/**
 * Who may write a run's state, and the index of live runs by deadline.
 *
 * Why: BullMQ gives a job to another worker once the first one's job lock expired. The first one is usually dead
 * (SIGKILL), but it may also be alive and merely cut off from Redis or stalled for longer than `lockDuration`; it
 * then keeps running the run next to the new worker. And the sweeper may close an overdue run that a worker picks up
 * at the same moment. So every processing of a run job claims the run with its BullMQ job token, and a save carries
 * that token: it is refused when another processing claimed the run since (`superseded`) or when the run has ended
 * (`closed`, e.g. by the sweeper). Check and write are one Lua script, so two writers can never both end a run.
 *
 * It writes the fields RunStore.saveState writes (`state`, `status`, `updatedAt`, `wakeAt`) plus `owner` on the run
 * hash, and keeps three indexes in the same scripts:
 * - the deadline index (run ids scored by deadline, ms): every run a worker has claimed and not ended;
 * - the queued index (RunStore.queuedRuns): a claim takes the run out of it;
 * - the closings index (run ids scored by when their closing work started, ms): the save that ends a run puts it
 *   there in the same step, and RunCloser takes it out once the final decision, the page of an escalated run and
 *   the after-run hooks are done. A crash between the two leaves the entry, and the sweeper redoes the work. So a
 *   run can never end without its page being enqueued.
 * The stuck-run sweeper reads all three.
 */
export type SaveResult = 'saved' | 'closed' | 'superseded';

const FINAL_LUA = `local final = {${[...FINAL_STATUSES].map((s) => `['${s}'] = true`).join(', ')}}`;

/** KEYS: run hash, deadline index, queued index. ARGV: owner, run id, deadline (ms). */
const CLAIM = `${FINAL_LUA}
redis.call('ZREM', KEYS[3], ARGV[2])
if redis.call('HEXISTS', KEYS[1], 'record') == 0 then return 'missing' end
local status = redis.call('HGET', KEYS[1], 'status')
if status and final[status] then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 'closed'
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
return 'claimed'
`;

/**
 * KEYS: run hash, deadline index, queued index, closings index.
 * ARGV: owner ('' = whoever owns it), run id, state JSON, status, updatedAt, now (ms), run-events channel, wakeAt (ms, ''
 * = none: the field is removed).
 * A save is announced on the channel (`<runId> <status>`) for the console's live views (src/store/run-events.ts).
 */
const SAVE = `${FINAL_LUA}
local status = redis.call('HGET', KEYS[1], 'status')
if status and final[status] then return 'closed' end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 'superseded' end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'status', ARGV[4], 'updatedAt', ARGV[5])
if ARGV[8] == '' then redis.call('HDEL', KEYS[1], 'wakeAt') else redis.call('HSET', KEYS[1], 'wakeAt', ARGV[8]) end
if final[ARGV[4]] then
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[2])
end
redis.call('PUBLISH', ARGV[7], ARGV[2] .. ' ' .. ARGV[4])
return 'saved'
`;

/**
 * Takes up to ARGV[3] closings started at or before ARGV[1] (ms) and restamps them with ARGV[2] (now), so a
 * concurrent sweeper leaves them alone for another grace period. KEYS: closings index.
 */
const TAKE_CLOSINGS = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return ids
`;

/** Thrown by a worker's persist when the run was closed or taken over meanwhile: stop, write nothing more. */
export class RunSupersededError extends Error {
  readonly why: 'closed' | 'superseded';
  constructor(why: 'closed' | 'superseded') {
    super(
      why === 'closed'
        ? 'the run was closed meanwhile (its deadline passed, or another worker ended it)'
        : 'another worker took the run over',
    );
    this.name = 'RunSupersededError';
    this.why = why;
  }
}

export class RunFence {
  readonly #redis: RedisClient;
  readonly #keys: Keys;

  constructor(redis: RedisClient, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
    redis.defineCommand('remRunClaim', { numberOfKeys: 3, lua: CLAIM });
    redis.defineCommand('remRunSave', { numberOfKeys: 4, lua: SAVE });
    redis.defineCommand('remTakeClosings', { numberOfKeys: 1, lua: TAKE_CLOSINGS });
  }

  /**
   * Makes `owner` (a BullMQ job token) the only processing that may save the run, and indexes its deadline.
   * `closed`: the run has ended already; `missing`: no such run record.
   */
  async claim(runId: string, owner: string, deadlineAt: number): Promise<'claimed' | 'closed' | 'missing'> {
    return storeCall(() =>
      this.#redis.remRunClaim(this.#keys.run(runId), this.#keys.runDeadlines(), this.#keys.runsQueued(), owner, runId, deadlineAt),
    );
  }

  /**
   * Saves the state if `owner` still owns the run and it has not ended; `owner` undefined: whoever owns it (the
   * sweeper). A final state also opens the run's closing (see the class comment), stamped `now` (ms, the engine's
   * clock).
   */
  async save(runId: string, owner: string | undefined, state: RunState, now: number): Promise<SaveResult> {
    const k = this.#keys;
    return storeCall(() =>
      this.#redis.remRunSave(
        k.run(runId),
        k.runDeadlines(),
        k.runsQueued(),
        k.runClosings(),
        owner ?? '',
        runId,
        JSON.stringify(state),
        state.status,
        new Date(now).toISOString(),
        now,
        k.runEvents(),
        state.wakeAt ?? '',
      ),
    );
  }

  /**
   * Closings started at or before `before` (ms), oldest first, at most `limit`: runs whose closing work a crash may
   * have cut. Each is restamped `now`, so another sweeper takes it again only a grace period later.
   */
  async takeClosings(before: number, now: number, limit: number): Promise<string[]> {
    return storeCall(() => this.#redis.remTakeClosings(this.#keys.runClosings(), before, now, limit));
  }

  /** The run's closing work is done (or there is none left to do). */
  async closed(runId: string): Promise<void> {
    await storeCall(() => this.#redis.zrem(this.#keys.runClosings(), runId));
  }

  /** Live runs whose deadline is at or before `before` (ms), oldest first, at most `limit`. */
  async overdue(before: number, limit: number): Promise<string[]> {
    return storeCall(() => this.#redis.zrangebyscore(this.#keys.runDeadlines(), '-inf', String(before), 'LIMIT', 0, limit));
  }

  /** Drops a run from the deadline index (it ended, or its record is gone). */
  async forget(runId: string): Promise<void> {
    await storeCall(() => this.#redis.zrem(this.#keys.runDeadlines(), runId));
  }
}

import type { Result } from 'ioredis';
import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import { storeCall } from '../store/store-call.ts';
import { FINAL_STATUSES } from '../engine/run-state.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    remFleetCorrelate(...keysThenArgs: Array<string | number>): Result<[FleetVerdict['kind'], string, string, string], Context>;
  }
}

/**
 * Counts the services of one namespace that a fleet playbook's alerts name, and opens one fleet run when enough of
 * them go down within the window. One script per (playbook, namespace) and notification, so under any number of
 * concurrent webhooks (and Alertmanager's retries) exactly one caller opens the fleet and everyone after it joins the
 * same one: the fleet's run id and episode are chosen once, stored with the open marker, and handed back to every
 * later caller, which is what makes the ingest of the fleet run idempotent (the same id, the same episode).
 *
 * - An alert episode a fleet took is remembered (`absorbed`, episode → fleet): its repeats, retries and HA twins go to
 *   the same fleet run however late they come, and never start a run of their own.
 * - While the fleet run has not ended and the window since it opened has not passed, a service that goes down joins
 *   it: it is appended to the fleet's services and to the run's `fleetServices` field, which the run reads as
 *   `params.services` each time it wakes (appended at the end, so a batch step in progress keeps its place). After
 *   that the fleet is closed: the services it handled stop counting, and a new service gets its own runs or, with
 *   others, the next fleet. A fleet run that escalated or failed stays open until its window passes: a service going
 *   down right after a diagnosis of an infrastructure cause joins it (recorded, paged with it) instead of being
 *   restarted on its own.
 * - Below the threshold the services' own runs are remembered (`singles`), so the caller that opens the fleet gets
 *   them back, once, to absorb the ones still queued. One entry per (alert episode, playbook), whatever the number of
 *   deliveries: a repeat (an HA twin, a re-send) costs one HSETNX and grows nothing. The id an entry keeps may be of a
 *   run that was never created (a concurrent repeat's id won the store's claim), so the opener reads the episode's
 *   `run:<playbook>` field (src/store/keys.ts), where the store put the id of the run it did create. A run not stored
 *   yet when the fleet opens is absorbed by its own webhook, which looks for an open fleet after storing it.
 *
 * The window is counted on the caller's clock (a replay compresses time); key TTLs only collect garbage.
 *
 * KEYS: members zset (service → last time down, ms), open marker, singles hash (`<episode> <playbook>` → JSON
 *   {service, run}), absorbed hash.
 * ARGV: now (ms), window (ms), min, the fleet JSON to store if this call opens it, the run key prefix, the final run
 *   statuses (comma-separated), absorbed TTL (s), the episode key prefix, then per alert: service, episode id, its own
 *   runs (JSON array of JSON strings, each {runId, playbook, episodeId}).
 * Returns {kind, fleet JSON or '', singles JSON, earlier JSON}: kind 'below' | 'opened' | 'joined';
 *   earlier maps the episodes a fleet took before this call to that fleet.
 */
const CORRELATE = `
local now, window, min = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local runPrefix, finals, keep, episodePrefix = ARGV[5], ',' .. ARGV[6] .. ',', tonumber(ARGV[7]), ARGV[8]
local earlier, fresh = {}, {}
local anyEarlier = false
for i = 9, #ARGV, 3 do
  local taken = redis.call('HGET', KEYS[4], ARGV[i + 1])
  if taken then
    earlier[ARGV[i + 1]] = cjson.decode(taken)
    anyEarlier = true
  else
    fresh[#fresh + 1] = { service = ARGV[i], episode = ARGV[i + 1], runs = ARGV[i + 2] }
  end
end
local earlierJson = '{}'
if anyEarlier then earlierJson = cjson.encode(earlier) end
if #fresh == 0 then return {'below', '', '[]', earlierJson} end

local function absorb(fleetJson)
  local fleet = cjson.decode(fleetJson)
  local member = {}
  for _, s in ipairs(fleet.services) do member[s] = true end
  for _, f in ipairs(fresh) do
    if member[f.service] then redis.call('HSET', KEYS[4], f.episode, fleetJson) end
  end
  redis.call('EXPIRE', KEYS[4], keep)
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
for _, f in ipairs(fresh) do redis.call('ZADD', KEYS[1], now, f.service) end
redis.call('PEXPIRE', KEYS[1], window)

local open = redis.call('GET', KEYS[2])
if open then
  local fleet = cjson.decode(open)
  local status = redis.call('HGET', runPrefix .. fleet.runId, 'status')
  -- A fleet run that escalated or failed (an infrastructure cause, a restart that did not help) keeps taking the
  -- namespace's services until its window passes: a person has been paged with the cluster's state, and a service
  -- that goes down a moment later must not be restarted on its own against that cause.
  local handedOver = status == 'escalated' or status == 'failed'
  local ended = status and string.find(finals, ',' .. status .. ',', 1, true) and not handedOver
  if now - tonumber(fleet.openedAtMs) >= window or ended then
    -- Closed: what it handled no longer counts; the new alerts count afresh (they may open the next fleet).
    redis.call('DEL', KEYS[2])
    for _, s in ipairs(fleet.services) do
      local again = false
      for _, f in ipairs(fresh) do if f.service == s then again = true end end
      if not again then redis.call('ZREM', KEYS[1], s) end
    end
    open = false
  end
end
if open then
  local fleet = cjson.decode(open)
  local known, added = {}, false
  for _, s in ipairs(fleet.services) do known[s] = true end
  for _, f in ipairs(fresh) do
    if not known[f.service] then
      fleet.services[#fleet.services + 1] = f.service
      known[f.service] = true
      added = true
    end
  end
  if added then
    open = cjson.encode(fleet)
    redis.call('SET', KEYS[2], open, 'KEEPTTL')
    redis.call('HSET', runPrefix .. fleet.runId, 'fleetServices', cjson.encode(fleet.services))
  end
  absorb(open)
  return {'joined', open, '[]', earlierJson}
end

if redis.call('ZCARD', KEYS[1]) >= min then
  local fleet = cjson.decode(ARGV[4])
  fleet.services = redis.call('ZRANGE', KEYS[1], 0, -1)
  local json = cjson.encode(fleet)
  redis.call('SET', KEYS[2], json, 'PX', window)
  absorb(json)
  local singles = redis.call('HGETALL', KEYS[3])
  redis.call('DEL', KEYS[3])
  local pairs, byService = {}, {}
  for i = 2, #singles, 2 do
    local entry = cjson.decode(singles[i])
    local run = cjson.decode(entry.run)
    local stored = redis.call('HGET', episodePrefix .. run.episodeId, 'run:' .. run.playbook)
    if stored then run.runId = stored end
    local p = byService[entry.service]
    if not p then
      p = { service = entry.service, runs = {} }
      byService[entry.service] = p
      pairs[#pairs + 1] = p
    end
    p.runs[#p.runs + 1] = cjson.encode(run)
  end
  if #pairs == 0 then return {'opened', json, '[]', earlierJson} end
  return {'opened', json, cjson.encode(pairs), earlierJson}
end

-- One entry per (episode, playbook): a repeat finds its entry and adds nothing (the opener resolves the stored id).
for _, f in ipairs(fresh) do
  if f.runs ~= '[]' then
    for _, r in ipairs(cjson.decode(f.runs)) do
      local run = cjson.decode(r)
      redis.call('HSETNX', KEYS[3], run.episodeId .. ' ' .. run.playbook, cjson.encode({ service = f.service, run = r }))
    end
  end
end
redis.call('PEXPIRE', KEYS[3], window)
return {'below', '', '[]', earlierJson}
`;

/** The fleet run of a namespace once opened: chosen by the caller that opened it, the same for every later caller. */
export interface OpenFleet {
  runId: string;
  episodeId: string;
  openedAt: string;
  openedAtMs: number;
  /** The services down when the fleet opened, in the order they went down, then the ones that joined it. */
  services: string[];
}

export type FleetVerdict = {
  /** below: no fleet takes the new alerts; opened / joined: the fleet takes them. */
  kind: 'below' | 'opened' | 'joined';
  fleet?: OpenFleet;
  /** Opened: the runs of its services from before, to absorb if still queued. */
  singles: Array<{ service: string; runs: string[] }>;
  /** Episodes a fleet took before this call (repeats, retries), with that fleet. */
  earlier: Record<string, OpenFleet>;
};

export class FleetCorrelator {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #keepSeconds: number;

  /** `keepMs`: how long an absorbed episode is remembered (the run retention). */
  constructor(redis: RedisClient, keys: Keys, keepMs: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#keepSeconds = Math.max(1, Math.ceil(keepMs / 1000));
    redis.defineCommand('remFleetCorrelate', { numberOfKeys: 4, lua: CORRELATE });
  }

  /**
   * Counts the `alerts` (service, alert episode, the ids of the runs it gets if no fleet takes it) for `playbook` in
   * `namespace` at `now`; `candidate` is the fleet this call opens if it crosses the threshold.
   */
  async correlate(
    playbook: string,
    namespace: string,
    settings: { min: number; windowMs: number },
    alerts: Array<{ service: string; episodeId: string; runs: string[] }>,
    candidate: Omit<OpenFleet, 'services'>,
    now: number,
  ): Promise<FleetVerdict> {
    const k = (part: 'members' | 'open' | 'singles' | 'absorbed') => this.#keys.fleet(playbook, namespace, part);
    const args: Array<string | number> = [
      now,
      settings.windowMs,
      settings.min,
      JSON.stringify(candidate),
      this.#keys.run(''),
      [...FINAL_STATUSES].join(','),
      this.#keepSeconds,
      this.#keys.episode(''),
    ];
    for (const a of alerts) args.push(a.service, a.episodeId, JSON.stringify(a.runs));
    const [kind, fleet, singles, earlier] = await storeCall(() =>
      this.#redis.remFleetCorrelate(k('members'), k('open'), k('singles'), k('absorbed'), ...args),
    );
    const before = JSON.parse(earlier || '{}') as Record<string, OpenFleet>;
    return {
      kind,
      ...(fleet ? { fleet: parseFleet(fleet) } : {}),
      singles: (JSON.parse(singles || '[]') as unknown[]).length ? (JSON.parse(singles) as Array<{ service: string; runs: string[] }>) : [],
      earlier: Object.fromEntries(Object.entries(before).map(([ep, f]) => [ep, parseFleet(JSON.stringify(f))])),
    };
  }

  /** The key of the open marker of (playbook, namespace): the fleet JSON while one is open (parseFleet reads it). */
  openKey(playbook: string, namespace: string): string {
    return this.#keys.fleet(playbook, namespace, 'open');
  }
}

/** A fleet as stored (the open marker). cjson writes an empty array as `{}`; a fleet always has services, but the type is kept honest. */
export function parseFleet(json: string): OpenFleet {
  const f = JSON.parse(json) as OpenFleet;
  return { ...f, services: Array.isArray(f.services) ? f.services : [] };
}

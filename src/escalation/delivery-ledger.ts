import type { RedisClient } from '../store/redis-connection.ts';
import type { DeliveryKeys } from './delivery-keys.ts';
import type { DeliveryItem } from './targets/paging-target.ts';

/**
 * The durable side of escalation in Redis: which episodes have an open incident at which target, and the ordered
 * chain of events waiting for each (episode, target). Every decision that must not race (trigger vs. update,
 * resolve only where a trigger went, pop only the event that was just sent) is one Lua script.
 */

// KEYS: open hash, chain list, chains set. ARGV: target, trigger item, update item, open meta, ttl ms, chain id.
// Opens the incident when none is open for this target and queues the trigger; else queues the update instead.
const ENQUEUE_OPEN = `
local opened = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if opened == 1 then redis.call('RPUSH', KEYS[2], ARGV[2]) else redis.call('RPUSH', KEYS[2], ARGV[3]) end
redis.call('SADD', KEYS[3], ARGV[6])
return opened`;

// KEYS: open hash, chain list, chains set. ARGV: target, item, chain id. Queues only when an incident is open.
const ENQUEUE_IF_OPEN = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
return 1`;

// Same keys/args: closes the incident record and queues the resolve, only when one was open.
const ENQUEUE_CLOSE = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
return 1`;

// KEYS: chain list, attempts hash. ARGV: delivery id. Pops the head only if it is that delivery.
const POP = `
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return 0 end
if cjson.decode(head)['id'] ~= ARGV[1] then return 0 end
redis.call('LPOP', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1`;

// KEYS: chain list, chains set. ARGV: chain id. Forgets an empty chain; 0 when an event arrived meanwhile.
const RELEASE = `
if redis.call('LLEN', KEYS[1]) > 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
return 1`;

// KEYS: open hash. ARGV: target, delivery id of the trigger. Forgets the open incident if that trigger opened it.
const FORGET_OPEN = `
local meta = redis.call('HGET', KEYS[1], ARGV[1])
if not meta then return 0 end
if cjson.decode(meta)['deliveryId'] ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`;

const SCRIPTS = {
  escEnqueueOpen: ENQUEUE_OPEN,
  escEnqueueIfOpen: ENQUEUE_IF_OPEN,
  escEnqueueClose: ENQUEUE_CLOSE,
  escPop: POP,
  escRelease: RELEASE,
  escForgetOpen: FORGET_OPEN,
} as const;
type ScriptName = keyof typeof SCRIPTS;

export class DeliveryLedger {
  readonly #redis: RedisClient;
  readonly #keys: DeliveryKeys;
  readonly #openTtlMs: number;

  constructor(redis: RedisClient, keys: DeliveryKeys, options: { openIncidentTtlMs: number }) {
    this.#redis = redis;
    this.#keys = keys;
    this.#openTtlMs = options.openIncidentTtlMs;
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in redis))
        redis.defineCommand(name, { numberOfKeys: name === 'escForgetOpen' ? 1 : name === 'escPop' || name === 'escRelease' ? 2 : 3, lua });
    }
  }

  #run(name: ScriptName, ...args: Array<string | number>): Promise<number> {
    const fn = (this.#redis as unknown as Record<ScriptName, (...a: Array<string | number>) => Promise<number>>)[name];
    return fn.apply(this.#redis, args);
  }

  /** Queues `trigger` when this target has no open incident for the episode (and records one), else `update`. */
  async enqueueTrigger(chainId: string, trigger: DeliveryItem, update: DeliveryItem): Promise<'trigger' | 'update'> {
    const k = this.#keys;
    const meta = JSON.stringify({ openedAt: trigger.enqueuedAt, level: trigger.level, deliveryId: trigger.id });
    const opened = await this.#run(
      'escEnqueueOpen',
      k.open(trigger.episodeKey),
      k.chain(chainId),
      k.chains(),
      trigger.target,
      JSON.stringify(trigger),
      JSON.stringify(update),
      meta,
      this.#openTtlMs,
      chainId,
    );
    return opened === 1 ? 'trigger' : 'update';
  }

  /** Queues an update only where an incident is open. */
  async enqueueUpdate(chainId: string, item: DeliveryItem): Promise<boolean> {
    const k = this.#keys;
    return (
      (await this.#run(
        'escEnqueueIfOpen',
        k.open(item.episodeKey),
        k.chain(chainId),
        k.chains(),
        item.target,
        JSON.stringify(item),
        chainId,
      )) === 1
    );
  }

  /** Queues a resolve only where a trigger went, and forgets the open incident. */
  async enqueueResolve(chainId: string, item: DeliveryItem): Promise<boolean> {
    const k = this.#keys;
    return (
      (await this.#run(
        'escEnqueueClose',
        k.open(item.episodeKey),
        k.chain(chainId),
        k.chains(),
        item.target,
        JSON.stringify(item),
        chainId,
      )) === 1
    );
  }

  /** Forgets the open incident at a target, if `triggerId` is the trigger that opened it (it was refused). */
  async forgetOpen(item: DeliveryItem): Promise<boolean> {
    return (await this.#run('escForgetOpen', this.#keys.open(item.episodeKey), item.target, item.id)) === 1;
  }

  /** Forgets every open incident of the episode (people resolved it); nothing more is queued for it. */
  async forgetEpisode(episodeKey: string): Promise<void> {
    await this.#redis.del(this.#keys.open(episodeKey));
  }

  /** Targets with an open incident for the episode. */
  async openTargets(episodeKey: string): Promise<string[]> {
    return this.#redis.hkeys(this.#keys.open(episodeKey));
  }

  async head(chainId: string): Promise<DeliveryItem | null> {
    const raw = await this.#redis.lindex(this.#keys.chain(chainId), 0);
    return raw === null ? null : (JSON.parse(raw) as DeliveryItem);
  }

  async pending(chainId: string): Promise<DeliveryItem[]> {
    const raw = await this.#redis.lrange(this.#keys.chain(chainId), 0, -1);
    return raw.map((r) => JSON.parse(r) as DeliveryItem);
  }

  /** Removes the delivered (or dead-lettered) head event. False when the head is another event. */
  async pop(chainId: string, deliveryId: string): Promise<boolean> {
    return (await this.#run('escPop', this.#keys.chain(chainId), this.#keys.attempts(), deliveryId)) === 1;
  }

  /** Forgets an empty chain. False when an event arrived meanwhile (the caller keeps pumping). */
  async releaseIfEmpty(chainId: string): Promise<boolean> {
    return (await this.#run('escRelease', this.#keys.chain(chainId), this.#keys.chains(), chainId)) === 1;
  }

  /** Counts one more attempt of a delivery; returns the total. */
  async countAttempt(deliveryId: string): Promise<number> {
    return this.#redis.hincrby(this.#keys.attempts(), deliveryId, 1);
  }

  /** Failed attempts counted for a delivery still on its chain (0 when none). */
  async attemptsMade(deliveryId: string): Promise<number> {
    return Number((await this.#redis.hget(this.#keys.attempts(), deliveryId)) ?? 0);
  }

  /** Chains holding events: at start-up each gets a pump job again, in case one was lost. */
  async chainsWithEvents(): Promise<string[]> {
    return this.#redis.smembers(this.#keys.chains());
  }
}

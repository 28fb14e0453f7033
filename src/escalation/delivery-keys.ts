import { createHash } from 'node:crypto';

/**
 * Every Redis key escalation uses, in one place. `prefix` is the installation's prefix (`rem` by default), so
 * several installations can share one Redis.
 */
export interface DeliveryKeys {
  /** List: the ordered events still to deliver for one episode and target. */
  chain(chainId: string): string;
  /** Set: ids of chains that hold events (recovered at start-up). */
  chains(): string;
  /** Hash: delivery id → attempts made so far. */
  attempts(): string;
  /** Hash: target name → when it was triggered, for one episode with an open incident. */
  open(episodeKey: string): string;
  /** List: dead-letter records, newest first. */
  dead(): string;
  /** Sorted set: sliding window of sends for one rate-limit bucket. */
  rate(bucket: string): string;
  /** Hash: delivery id → where that event of one episode stands (DeliveryStatusStore). */
  status(episodeKey: string): string;
  /** String: what a target remembers about an episode's incident (a Statuspage incident id, a Slack thread). */
  memo(target: string, episodeKey: string): string;
}

export function deliveryKeys(prefix: string): DeliveryKeys {
  const p = `${prefix}:esc`;
  return {
    chain: (id) => `${p}:chain:${id}`,
    chains: () => `${p}:chains`,
    attempts: () => `${p}:attempts`,
    open: (episodeKey) => `${p}:open:${episodeKey}`,
    dead: () => `${p}:dead`,
    rate: (bucket) => `${p}:rate:${bucket}`,
    status: (episodeKey) => `${p}:status:${episodeKey}`,
    memo: (target, episodeKey) => `${p}:memo:${target}:${episodeKey}`,
  };
}

/**
 * One ordered chain per episode and target: its events are delivered one after the other, so a resolve never
 * overtakes its trigger. The id is a hash: no `:`, never all digits (BullMQ id rules), fixed length.
 */
export function chainIdFor(episodeKey: string, target: string): string {
  return `c${createHash('sha256').update(`${episodeKey}\n${target}`).digest('hex').slice(0, 40)}`;
}

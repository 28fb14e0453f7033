import type { RedisClient } from './redis-connection.ts';
import type { Keys } from './keys.ts';
import { storeCall } from './store-call.ts';

type Callback = (err?: unknown) => void;
// biome-ignore lint/suspicious/noExplicitAny: @fastify/session's store contract types the session it reads back as any
type SessionCallback = (err: unknown, session?: any) => void;

/**
 * The console's sign-in sessions in Redis (the store interface of @fastify/session), so a person signed in through
 * one receiver replica is signed in on every other, and signing out ends the session everywhere. Each session key
 * expires with the session (`ttlMs`). Session data names the person and role, never the token they signed in with.
 */
export class ConsoleSessionStore {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #ttlMs: number;

  constructor(redis: RedisClient, keys: Keys, ttlMs: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlMs = ttlMs;
  }

  set(sessionId: string, session: unknown, callback: Callback): void {
    storeCall(() => this.#redis.set(this.#keys.consoleSession(sessionId), JSON.stringify(session), 'PX', this.#ttlMs)).then(
      () => callback(),
      callback,
    );
  }

  get(sessionId: string, callback: SessionCallback): void {
    storeCall(() => this.#redis.get(this.#keys.consoleSession(sessionId))).then((v) => callback(null, v ? JSON.parse(v) : null), callback);
  }

  destroy(sessionId: string, callback: Callback): void {
    storeCall(() => this.#redis.del(this.#keys.consoleSession(sessionId))).then(() => callback(), callback);
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { HttpClient } from '../ports/http-client.ts';
import { nextRetry, type Random, type RetryPolicy } from '../engine/backoff.ts';
import type { DeadLetterStore } from './delivery-dead-letter.ts';
import type { DeliveryLedger } from './delivery-ledger.ts';
import type { SlidingWindowLimiter } from './delivery-rate-limiter.ts';
import type { DeliverySettings } from './escalation-config.ts';
import type { Redactor } from './redact.ts';
import type { DeliveryItem, PagingTarget, TargetMemory } from './targets/paging-target.ts';
import type { DeliveryObserver } from './delivery-observer.ts';
import type { DeliveryState, DeliveryStatusStore } from './delivery-status.ts';
import type { DurabilityBarrier } from '../store/durability-barrier.ts';

/** The data of a pump job: which chain to drain. */
export interface PumpJobData {
  chainId: string;
}

export interface PumpDeps {
  ledger: DeliveryLedger;
  deadLetters: DeadLetterStore;
  limiter: SlidingWindowLimiter;
  targets: ReadonlyMap<string, PagingTarget>;
  http: HttpClient;
  settings: DeliverySettings;
  log: Logger;
  /** Removes every configured secret from a text. */
  redact: Redactor;
  now?: () => number;
  /** The jitter of retry waits (src/engine/backoff.ts). Default Math.random. */
  random?: Random;
  /** Told of every attempt and dead letter (default: nobody). */
  observer?: DeliveryObserver;
  /** What targets remember per episode (SendContext.memory). */
  memory?: TargetMemory;
  /** Where each event stands, for people (the run page); default: not recorded. */
  status?: DeliveryStatusStore;
  /**
   * On replicated Redis, WAIT on the ledger's connection: a delivered event's pop reaches a replica before the next
   * event goes out (see `acknowledge`). Default: none (standalone Redis).
   */
  durability?: DurabilityBarrier;
}

/**
 * Drains one chain (one episode at one target), oldest event first, one at a time. This is BullMQ's step-job
 * pattern: the chain in Redis is the state; a job that must wait (backoff, `Retry-After`, rate limit) moves itself to
 * delayed with `job.moveToDelayed` and throws `DelayedError`, holding no worker slot while it waits, and resumes at
 * the same head event. Only one pump per chain exists at a time (the producer adds it with
 * `deduplication: { id: chainId, keepLastIfActive: true }`), which is what keeps the chain ordered.
 *
 * - delivered → pop, next event;
 * - reject (4xx) → dead letter at once, pop, next event;
 * - retry (429/5xx/408/network) → count the attempt; dead letter when attempts are used up; else wait
 *   max(backoff, Retry-After) and come back to the same event.
 */
export async function pumpChain(
  job: Job<PumpJobData>,
  token: string | undefined,
  signal: AbortSignal | undefined,
  deps: PumpDeps,
): Promise<{ delivered: number; deadLettered: number }> {
  const now = deps.now ?? Date.now;
  const { chainId } = job.data;
  const result = { delivered: 0, deadLettered: 0 };
  const abort = signal ?? new AbortController().signal;

  for (;;) {
    const item = await deps.ledger.head(chainId);
    if (item === null) {
      if (await deps.ledger.releaseIfEmpty(chainId)) return result;
      continue;
    }
    const log = deps.log.child({ target: item.target, action: item.action, episodeKey: item.episodeKey, deliveryId: item.id });
    const target = deps.targets.get(item.target);
    if (target === undefined) {
      await deadLetter(deps, chainId, item, `target "${item.target}" is no longer configured`, undefined, 0, now, log);
      log.error('escalation event dropped to the dead letter: its target is no longer configured');
      result.deadLettered++;
      continue;
    }

    if (target.rateLimit) {
      const wait = await deps.limiter.acquire(target.rateLimit.key, target.rateLimit.max, target.rateLimit.windowMs);
      if (wait > 0) {
        log.warn({ waitMs: wait }, 'escalation target rate limit reached; delivery waits');
        await job.moveToDelayed(now() + wait, token);
        throw new DelayedError();
      }
    }

    // Failed attempts so far (the pop below forgets them), for the record of a delivered event.
    const failedBefore = deps.status ? await attemptsOf(deps, item) : 0;
    const started = now();
    const outcome = await target.send(item, {
      http: deps.http,
      signal: abort,
      timeoutMs: deps.settings.timeoutMs,
      now,
      ...(deps.memory ? { memory: deps.memory } : {}),
    });
    deps.observer?.attempt(item.target, outcome.kind === 'delivered' ? 'sent' : 'failed', (now() - started) / 1000);
    if (outcome.kind === 'delivered') {
      await acknowledge(() => deps.ledger.pop(chainId, item.id), deps.durability, abort, log);
      await note(deps, item, { state: 'sent', at: iso(now()), attempts: failedBefore + 1, status: outcome.status }, log);
      log.info({ status: outcome.status, ms: now() - started }, 'escalation delivered');
      result.delivered++;
      continue;
    }

    const attempts = await deps.ledger.countAttempt(item.id);
    const reason = deps.redact(outcome.reason);
    // A provider's Retry-After is a floor the jitter never shortens, capped so a wild value cannot park an event for days.
    const retryAfterMs = outcome.kind === 'retry' ? outcome.retryAfterMs : undefined;
    const floorMs = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, deps.settings.maxRetryAfterMs);
    const next =
      outcome.kind === 'reject' ? undefined : nextRetry(deliveryRetry(deps.settings), attempts, { floorMs, random: deps.random });
    if (!next?.retry) {
      const why = outcome.kind === 'reject' ? reason : `gave up after ${attempts} attempts; last: ${reason}`;
      await deadLetter(
        deps,
        chainId,
        item,
        why,
        outcome.status,
        attempts,
        now,
        log,
        outcome.kind === 'reject' ? 'failed' : 'dead-lettered',
      );
      log.error(
        { status: outcome.status, attempts, error: reason },
        outcome.kind === 'reject'
          ? 'escalation refused by the target; moved to the dead letter'
          : 'escalation kept failing; moved to the dead letter',
      );
      result.deadLettered++;
      if (item.action === 'trigger' && target.dependsOnTrigger) result.deadLettered += await dropDependents(deps, chainId, item, now, log);
      continue;
    }
    const delay = next.delayMs;
    await note(
      deps,
      item,
      {
        state: 'retrying',
        at: iso(now()),
        attempts,
        nextAt: iso(now() + delay),
        ...(outcome.status === undefined ? {} : { status: outcome.status }),
        error: reason,
      },
      log,
    );
    log.warn({ status: outcome.status, attempts, retryInMs: delay, retryAfterMs, error: reason }, 'escalation delivery failed; will retry');
    await job.moveToDelayed(now() + delay, token);
    throw new DelayedError();
  }
}

/** Deliveries retry with doubling waits (escalation.delivery: attempts, backoff, maxBackoff), jittered ±20 %. */
export function deliveryRetry(settings: Pick<DeliverySettings, 'attempts' | 'backoffMs' | 'maxBackoffMs'>): RetryPolicy {
  return { attempts: settings.attempts, backoffMs: settings.backoffMs, factor: 2, maxBackoffMs: settings.maxBackoffMs };
}

/**
 * The trigger of a target whose updates need it (Opsgenie) was refused: the incident was not opened there. Forget
 * that it is open (so the next trigger opens it) and move the updates and resolve queued behind it to the dead
 * letter unsent: a note or close for an alert that does not exist can only fail.
 */
async function dropDependents(deps: PumpDeps, chainId: string, trigger: DeliveryItem, now: () => number, log: Logger): Promise<number> {
  await deps.ledger.forgetOpen(trigger);
  let dropped = 0;
  for (let next = await deps.ledger.head(chainId); next !== null && next.action !== 'trigger'; next = await deps.ledger.head(chainId)) {
    await deadLetter(deps, chainId, next, `not sent: the trigger before it (${trigger.id}) was refused`, undefined, 0, now, log);
    dropped++;
  }
  return dropped;
}

/** Records the event as dead, then takes it off its chain so the events behind it can go. */
async function deadLetter(
  deps: PumpDeps,
  chainId: string,
  item: DeliveryItem,
  error: string,
  status: number | undefined,
  attempts: number,
  now: () => number,
  log: Logger,
  state: 'failed' | 'dead-lettered' = 'dead-lettered',
): Promise<void> {
  const at = iso(now());
  await deps.deadLetters.add(item, { error: deps.redact(error), ...(status === undefined ? {} : { status }), attempts, at });
  await deps.ledger.pop(chainId, item.id);
  deps.observer?.deadLettered(item.target);
  await note(deps, item, { state, at, attempts, ...(status === undefined ? {} : { status }), error: deps.redact(error) }, log);
}

/**
 * Records where the event stands, for people. It never changes what is sent: a Redis that fails here is logged, and
 * the delivery goes on (a delivered event must not be sent again because its record could not be written).
 */
async function note(
  deps: PumpDeps,
  item: DeliveryItem,
  state: Pick<DeliveryState, 'state' | 'at' | 'attempts'> & Partial<DeliveryState>,
  log: Logger,
): Promise<void> {
  if (!deps.status) return;
  try {
    await deps.status.record(item, state);
  } catch (err) {
    log.warn({ error: deps.redact((err as Error).message), state: state.state }, 'could not record the delivery state');
  }
}

/** Failed attempts counted so far for an event that is still on its chain (0 when none failed). */
async function attemptsOf(deps: PumpDeps, item: DeliveryItem): Promise<number> {
  try {
    return await deps.ledger.attemptsMade(item.id);
  } catch {
    return 0;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Takes a delivered event off its chain. The send cannot be undone, so a Redis that fails now (a failover, a
 * restart) must not fail the job: a retried job would send the head event again. The pop (idempotent per delivery
 * id) is retried until Redis answers; only the worker's shutdown stops it, and then the event goes out once more
 * later (at-least-once, as after a crash between send and pop).
 *
 * On replicated Redis the pop is then confirmed with WAIT. A master that dies before a replica has the pop comes back,
 * in the promoted replica, with the event still at the head of its chain, and it would be sent again: when Redis does
 * not answer the WAIT, the pop is done again on whichever master answers now. When replicas answer but too few
 * acknowledge in time, the pump goes on: a page held back for the sake of dedup is worse than a page sent twice, and
 * a repeat carries the same delivery id (and dedup key) for the receiver to recognise.
 */
async function acknowledge(
  pop: () => Promise<unknown>,
  durability: DurabilityBarrier | undefined,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await pop();
      if (durability) {
        const acked = await durability.replicated(signal);
        if (acked < durability.minReplicas)
          log.warn(
            { acked, wanted: durability.minReplicas },
            'escalation delivered; too few replicas acknowledged taking it off its chain in time',
          );
      }
      return;
    } catch (err) {
      if (signal.aborted) throw err;
      if (attempt === 0)
        log.warn(
          { error: (err as Error).message },
          'escalation delivered but Redis did not confirm taking it off its chain; retrying until it does',
        );
      await sleep(Math.min(100 * 2 ** attempt, 2000), undefined, { signal }).catch(() => undefined);
    }
  }
}

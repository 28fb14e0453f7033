import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Start-up leaves a Node process far above what it keeps alive: loading and compiling ~1,300 modules grows V8's young
 * generation to its bound (16 MiB resident for the receiver's 8 MiB semi-space, empty once start-up is over) and
 * leaves freed pages pooled. V8 hands that memory back only when its memory reducer runs, which it schedules after
 * signs of garbage (a full collection, a disposed context); an idle service shows none, so it would keep its start-up
 * peak for good.
 *
 * One concurrent full collection once the service is up, asked for from a throwaway context (the usual way to reach
 * V8's `gc` without starting the process with --expose-gc, which would also make V8 refuse the image's compile cache,
 * built without it), sets the reducer going: a few seconds later the process holds what it uses. Measured by
 * bench/memory.ts: receiver ~138 → ~115 MiB RSS idle, worker ~180 → ~165. Under load V8 grows the heap again as it
 * always does; this changes only where an idle process settles.
 */
export function releaseStartupMemory(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'major'; execution: 'async' }) => Promise<void> | undefined;
  // Put back at once: V8 stamps its code cache with a hash of the flags, so with the flag left on, every module
  // imported later (a tool, a lazily loaded route) would find the image's cache rejected, compile from source, and,
  // where the cache is writable, overwrite it for every later process. The `gc` function obtained stays usable.
  setFlagsFromString('--no-expose-gc');
  // Async: marked concurrently, no pause of the event loop the service has just opened to requests.
  void Promise.resolve(gc({ type: 'major', execution: 'async' })).catch(() => undefined);
}

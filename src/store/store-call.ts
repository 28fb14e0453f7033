import { RemediatorError } from '../domain/errors.ts';

/**
 * Runs one Redis operation of the store, the run fence or the guard layer; a connection problem becomes
 * REM_ERR_STORE_UNAVAILABLE (a 503 at the edge, so Alertmanager retries; in a worker the job fails and BullMQ hands
 * the run to a worker again), never a guess: a guard that cannot read its state does not admit anything.
 */
export async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RemediatorError) throw err;
    throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', `Redis: ${(err as Error).message}`, { cause: err });
  }
}

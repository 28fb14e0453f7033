/** Who asked a run to stop and why: its cancel request (an operator, a person at a paging provider, a policy). */
export interface StopRequest {
  by: string;
  reason: string;
}

/**
 * The reason a run's stop signal aborts with. The worker aborts it when the run's cancel request reaches it while a
 * step is in flight; the executor tells it from a shutdown (InterruptedError: the step is repeated elsewhere) and from
 * the attempt timeout, and records the step as interrupted instead (REM_ERR_STEP_INTERRUPTED, `step_interrupted`).
 */
export class RunStopped extends Error {
  readonly request: StopRequest;

  constructor(request: StopRequest) {
    super(`stopped by ${request.by}: ${request.reason}`);
    this.name = 'RunStopped';
    this.request = request;
  }
}

/** The stop request a signal was aborted with, if it was aborted by a stop. */
export function stopOf(signal: AbortSignal | undefined): StopRequest | undefined {
  return signal?.aborted && signal.reason instanceof RunStopped ? signal.reason.request : undefined;
}

/** One operation's signal (see linkedSignal). */
export interface LinkedSignal {
  /** Aborts with the reason of the first parent that aborts, or the timeout's reason. */
  readonly signal: AbortSignal;
  /** The operation is over: stops the timer and unhooks the signal from its parents. Idempotent. */
  dispose(): void;
}

export interface LinkedSignalOptions {
  /** Abort after this many milliseconds; absent: only the parents abort it. */
  timeoutMs?: number;
  /** The timeout's abort reason. Default: a `TimeoutError` DOMException, as AbortSignal.timeout gives. */
  timeoutReason?: () => unknown;
}

/**
 * A signal for one operation (a step's attempt, one Kubernetes call) that aborts when any of `parents` does or when
 * its timeout passes. The caller disposes of it, in a `finally`, once the operation is over.
 *
 * Not AbortSignal.any(): a composite that has an `abort` listener (fetch adds one, and so does a step's race against
 * its signal) is kept by its sources for as long as one of them can still abort it (the DOM's rule for dependent
 * signals; nodejs/node#64476), and an AbortSignal.timeout with listeners until it fires. Under a signal that lives as
 * long as the worker, every operation's listeners, and the request state they reach, stayed in memory for the life
 * of the process or the whole timeout (the heap after a full collection grew twice as fast in bench/kube-latency.ts).
 * Here a parent reaches the operation only through a listener that `dispose` removes, so nothing of the operation
 * outlives it.
 */
export function linkedSignal(parents: ReadonlyArray<AbortSignal | undefined>, options: LinkedSignalOptions = {}): LinkedSignal {
  const controller = new AbortController();
  const linked = parents.filter((p): p is AbortSignal => p !== undefined);
  const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  let timer: NodeJS.Timeout | undefined;
  const dispose = () => {
    clearTimeout(timer);
    for (const p of linked) p.removeEventListener('abort', onAbort);
  };
  const already = linked.find((p) => p.aborted);
  if (already) {
    controller.abort(already.reason);
    return { signal: controller.signal, dispose };
  }
  for (const p of linked) p.addEventListener('abort', onAbort, { once: true });
  if (options.timeoutMs !== undefined) {
    const ms = options.timeoutMs;
    const reason = options.timeoutReason ?? (() => new DOMException(`no answer within ${ms} ms`, 'TimeoutError'));
    timer = setTimeout(() => controller.abort(reason()), ms);
  }
  return { signal: controller.signal, dispose };
}

/** Runs `operation` with a linkedSignal of `parents` and disposes of it once the operation settles. */
export async function withLinkedSignal<T>(
  parents: ReadonlyArray<AbortSignal | undefined>,
  options: LinkedSignalOptions,
  operation: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { signal, dispose } = linkedSignal(parents, options);
  try {
    return await operation(signal);
  } finally {
    dispose();
  }
}

/**
 * The controllers' timers, tracked so `settle()` knows whether work is still due and `close()` can cancel everything.
 * A timer marked `pending` (a pod about to become Ready) keeps `settle()` waiting; background timers (crash-loop
 * restarts, progress-deadline checks) do not.
 */
export class TimerSet {
  #timers = new Map<NodeJS.Timeout, boolean>();
  #busy = 0;

  after(ms: number, fn: () => void | Promise<void>, pending: boolean): NodeJS.Timeout {
    const handle: NodeJS.Timeout = setTimeout(() => {
      this.#timers.delete(handle);
      if (pending) this.#busy++;
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => {
          process.emitWarning(`kube-sim controller error: ${(err as Error)?.stack ?? String(err)}`);
        })
        .finally(() => {
          if (pending) this.#busy--;
        });
    }, ms);
    this.#timers.set(handle, pending);
    return handle;
  }

  cancel(handle: NodeJS.Timeout | undefined): void {
    if (!handle) return;
    clearTimeout(handle);
    this.#timers.delete(handle);
  }

  /** Pending timers not yet fired plus pending callbacks still running. */
  get pendingCount(): number {
    let n = this.#busy;
    for (const pending of this.#timers.values()) if (pending) n++;
    return n;
  }

  clear(): void {
    for (const h of this.#timers.keys()) clearTimeout(h);
    this.#timers.clear();
  }
}

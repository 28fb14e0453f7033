import { conflict, internalError, StatusError, tooManyRequests } from './status.ts';
import { markNodeHealthy, markNodeNotReady, markNodePressure, markNodeUnreachable, type NodePressure } from './node-conditions.ts';
import { typeByPath } from './resources.ts';
import type { Usage, UsageOverride } from './metrics-api.ts';
import type { ObjectStore } from './store.ts';

/**
 * Faults a test switches on to see how a client copes: crash-looping images, rollouts that never finish, and API
 * errors injected in front of the handlers.
 */
export type CrashMode = 'CrashLoopBackOff' | 'OOMKilled' | 'Error';

export interface InjectedErrors {
  status: 500 | 429 | 409;
  /** Probability (0..1] that a matching call fails; default 1. */
  fraction?: number;
  /** Fail only the next N matching calls; default: every matching call until `clear()`. */
  count?: number;
  match?: { method?: string; pathIncludes?: string };
}

export interface FaultController {
  /** Pods running this image never become Ready: they start, die (OOMKilled exit 137 / Error exit 1) and back off. */
  crashImage(image: string, mode: CrashMode): void;
  /** The next rollout of this Deployment never completes, so it ends in ProgressDeadlineExceeded. */
  failRollouts(namespace: string, name: string): void;
  /** The API answers the given Status for matching calls. */
  injectErrors(spec: InjectedErrors): void;
  /**
   * The node goes NotReady: by default its kubelet stops posting status (every condition Unknown, `unreachable`
   * taints); `'False'` is a kubelet that reports itself not ready (`not-ready` taints). Its pods stop being Ready and
   * new pods wait Unschedulable.
   */
  nodeNotReady(name: string, how?: 'Unknown' | 'False'): void;
  /** The node reports MemoryPressure, DiskPressure or PIDPressure (and gets the matching NoSchedule taint). */
  nodePressure(name: string, pressure: NodePressure): void;
  /**
   * What the metrics API reports for the matching pods (label selector string, e.g. `app=web`): the pod's total CPU
   * and memory, shared among its containers. Later calls win for the fields they set.
   */
  loadPods(namespace: string, selector: string, usage: Usage): void;
  /** The PersistentVolume disappears from under its claim, which turns Lost. */
  loseVolume(name: string): void;
  /** Removes every fault (pods already crashing keep their state until replaced; faulted nodes are healthy again). */
  clear(): void;
}

export class Faults implements FaultController {
  readonly crashingImages = new Map<string, CrashMode>();
  /** `ns/name` of Deployments whose next rollout must hang. Consumed when that rollout's ReplicaSet is created. */
  readonly failingRollouts = new Set<string>();
  #errors: (InjectedErrors & { remaining: number })[] = [];
  #random: () => number;
  #store: ObjectStore;
  #faultedNodes = new Set<string>();
  /** Usage the metrics API reports instead of the baseline. */
  readonly usage: UsageOverride[] = [];

  constructor(options: { store: ObjectStore; random?: () => number }) {
    this.#store = options.store;
    this.#random = options.random ?? Math.random;
  }

  #node(name: string, change: (node: any) => void): void {
    const node = this.#store.get('Node', '', name);
    if (!node) throw new Error(`kube-sim has no node ${name}`);
    change(node);
    this.#store.update(node);
    this.#faultedNodes.add(name);
  }

  nodeNotReady(name: string, how: 'Unknown' | 'False' = 'Unknown'): void {
    this.#node(name, how === 'Unknown' ? markNodeUnreachable : markNodeNotReady);
  }

  nodePressure(name: string, pressure: NodePressure): void {
    this.#node(name, (n) => markNodePressure(n, pressure));
  }

  loadPods(namespace: string, selector: string, usage: Usage): void {
    this.usage.push({ namespace, selector, usage: { ...usage } });
  }

  loseVolume(name: string): void {
    if (!this.#store.delete('PersistentVolume', '', name)) throw new Error(`kube-sim has no PersistentVolume ${name}`);
  }

  crashImage(image: string, mode: CrashMode): void {
    this.crashingImages.set(image, mode);
  }

  failRollouts(namespace: string, name: string): void {
    this.failingRollouts.add(`${namespace}/${name}`);
  }

  injectErrors(spec: InjectedErrors): void {
    this.#errors.push({ ...spec, remaining: spec.count ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.crashingImages.clear();
    this.failingRollouts.clear();
    this.#errors = [];
    this.usage.length = 0;
    for (const name of this.#faultedNodes) {
      const node = this.#store.get('Node', '', name);
      if (!node) continue;
      markNodeHealthy(node);
      this.#store.update(node);
    }
    this.#faultedNodes.clear();
  }

  crashModeOf(image: string | undefined): CrashMode | undefined {
    return image === undefined ? undefined : this.crashingImages.get(image);
  }

  /** The injected failure for this request, if one applies (consumes one of `count`). */
  errorFor(method: string, path: string): StatusError | undefined {
    for (const e of this.#errors) {
      if (e.remaining <= 0) continue;
      if (e.match?.method && e.match.method.toUpperCase() !== method.toUpperCase()) continue;
      if (e.match?.pathIncludes && !path.includes(e.match.pathIncludes)) continue;
      if (e.fraction !== undefined && this.#random() >= e.fraction) continue;
      e.remaining--;
      return statusFor(e.status, path);
    }
    return undefined;
  }
}

function statusFor(code: 500 | 429 | 409, path: string): StatusError {
  if (code === 429) return tooManyRequests();
  if (code === 500) return internalError('injected fault');
  // A 409 names the object the path points at, like a real optimistic-concurrency failure.
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(?:namespaces\/[^/]+\/)?([^/]+)\/([^/?]+)/.exec(path);
  const t = m ? typeByPath(m[2] ?? '', m[1] ?? m[3]!, m[4]!) : undefined;
  if (t && m) return conflict(t, decodeURIComponent(m[5]!));
  return new StatusError(
    409,
    'Conflict',
    'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
  );
}

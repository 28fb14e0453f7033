import { spawnStandIn, type StandInMode, type StandInProcess } from './stand-in-process.ts';

/** The part of the simulated cluster (src/sim `KubeSim`) this module uses. */
export interface SimulatedCluster {
  hooks: {
    onPodStarted?(pod: any, deployment: any): void | Promise<void>;
    onPodStopped?(pod: any, deployment: any): void | Promise<void>;
  };
  get(kind: string, namespace: string, name: string): any | undefined;
  list(kind: string, namespace?: string): any[];
}

export interface DeploymentRef {
  namespace: string;
  name: string;
}

/** What happened to a pod's process, for timelines and tests. */
export type PodProcessEvent =
  | { type: 'started'; at: number; deployment: DeploymentRef; pod: string; image: string; port: number; mode: StandInMode }
  | { type: 'unready'; at: number; deployment: DeploymentRef; pod: string; image: string; reason: string }
  | { type: 'stopped'; at: number; deployment: DeploymentRef; pod: string; image: string }
  | { type: 'killed'; at: number; deployment: DeploymentRef; pod: string; image: string };

export interface PodProcessesOptions {
  /** Deployments whose pods run as real stand-in processes. Pods of other Deployments start as the simulator decides. */
  deployments: DeploymentRef[];
  /** Whether an image is a bad revision. Default: its tag contains `bad` (e.g. `ai-ninja/phone-gateway:1.1.0-bad`). */
  isBadImage?: (image: string) => boolean;
  /**
   * The readiness probe: `/health` every `periodMs` (default 50) until it answers 2xx. It fails after
   * `failureThreshold` (default 3) answers in a row that are not 2xx, when the process exits, or after `timeoutMs`
   * without success (default: no limit; the process has reported its port, so it answers unless the machine is
   * slow, and a slow machine must not crash a good pod). A pod whose process fails it crashes (the simulator's hook
   * rejection), and its process is killed.
   */
  readiness?: { periodMs?: number; failureThreshold?: number; timeoutMs?: number };
  onEvent?: (event: PodProcessEvent) => void;
}

interface Tracked {
  uid: string;
  namespace: string;
  podName: string;
  deployment: DeploymentRef;
  process: StandInProcess;
}

export const defaultIsBadImage = (image: string): boolean => /bad/i.test(image.slice(image.lastIndexOf(':') + 1));

/**
 * Maps the simulated cluster's pod lifecycle to real processes, the way a kubelet runs containers: when a pod of a
 * mapped Deployment starts, a stand-in process playing the pod's image starts and the pod becomes Ready once the
 * process passes its readiness probe (a bad revision never does, so its pod crash-loops); when the pod is deleted,
 * its process stops. `kill()` is the outage: the processes die but the pods stay (no liveness probe restarts them),
 * exactly what a rollout restart repairs.
 */
export class PodProcesses {
  #o: PodProcessesOptions;
  #sim: SimulatedCluster;
  #byUid = new Map<string, Tracked>();
  #deletedEarly = new Set<string>();
  /** Deployments whose dependency is down: every process of theirs, running or new, fails whatever its image. */
  #dependencyDown = new Map<string, string>();
  #closed = new AbortController();
  #pending = new Set<Promise<unknown>>();

  constructor(sim: SimulatedCluster, options: PodProcessesOptions) {
    this.#sim = sim;
    this.#o = options;
    const previousStarted = sim.hooks.onPodStarted;
    const previousStopped = sim.hooks.onPodStopped;
    sim.hooks.onPodStarted = async (pod, deployment) => {
      await previousStarted?.(pod, deployment);
      const ref = this.#mapped(deployment);
      if (ref) await this.#track(this.#podStarted(pod, ref));
    };
    sim.hooks.onPodStopped = async (pod, deployment) => {
      await previousStopped?.(pod, deployment);
      await this.#track(this.#podStopped(pod));
    };
  }

  /** The live processes of a Deployment's pods, oldest pod first. */
  processes(ref: DeploymentRef): StandInProcess[] {
    return [...this.#byUid.values()].filter((t) => same(t.deployment, ref) && t.process.alive()).map((t) => t.process);
  }

  /**
   * Where a Service sends traffic, as its Endpoints object would list it: the processes of the Ready pods its
   * selector matches, read from the cluster on every call, so a rollout, a scale or a changed selector (the switch
   * to a backup) takes effect at once. Pods without a process (of Deployments not mapped) are not endpoints.
   * Empty when the Service does not exist or no pod is Ready.
   */
  endpointPorts(service: { namespace: string; name: string }): number[] {
    const svc = this.#sim.get('Service', service.namespace, service.name);
    const selector: Record<string, string> | undefined = svc?.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return [];
    const out: number[] = [];
    for (const pod of this.#sim.list('Pod', service.namespace)) {
      const labels: Record<string, string> = pod.metadata?.labels ?? {};
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
      if (!(pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')) continue;
      const t = this.#byUid.get(pod.metadata.uid);
      if (t?.process.alive()) out.push(t.process.port);
    }
    return out;
  }

  /** The outage: SIGKILL every process of the Deployment; the pods stay as they are. Resolves with how many died. */
  async kill(ref: DeploymentRef): Promise<number> {
    const victims = [...this.#byUid.values()].filter((t) => same(t.deployment, ref) && t.process.alive());
    await Promise.all(victims.map((t) => t.process.kill()));
    for (const t of victims)
      this.#emit({ type: 'killed', at: Date.now(), deployment: t.deployment, pod: t.podName, image: t.process.image });
    return victims.length;
  }

  /**
   * A dependency of the Deployment goes down (`reason` given) or comes back (undefined): its running processes
   * and every new one fail their health check and scrape whatever their image, so neither a restart nor a rollback
   * helps. When it comes back, processes of good images serve again.
   */
  setDependencyDown(ref: DeploymentRef, reason: string | undefined): void {
    if (reason === undefined) this.#dependencyDown.delete(key(ref));
    else this.#dependencyDown.set(key(ref), reason);
    for (const t of this.#byUid.values()) {
      if (!same(t.deployment, ref)) continue;
      t.process.setMode(reason !== undefined || this.#isBad(t.process.image) ? 'bad' : 'good', reason);
    }
  }

  /** Stops every process; pods that start afterwards get none. Idempotent. */
  async close(): Promise<void> {
    this.#closed.abort();
    await Promise.allSettled([...this.#pending]);
    await Promise.all([...this.#byUid.values()].map((t) => t.process.stop(500)));
    this.#byUid.clear();
  }

  #isBad(image: string): boolean {
    return (this.#o.isBadImage ?? defaultIsBadImage)(image);
  }

  #mapped(deployment: any): DeploymentRef | undefined {
    const ns = deployment?.metadata?.namespace;
    const name = deployment?.metadata?.name;
    return this.#o.deployments.find((d) => d.namespace === ns && d.name === name);
  }

  async #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    try {
      return await p;
    } finally {
      this.#pending.delete(p);
    }
  }

  async #podStarted(pod: any, ref: DeploymentRef): Promise<void> {
    if (this.#closed.signal.aborted) return;
    const uid: string = pod.metadata.uid;
    const image: string = pod.spec?.containers?.[0]?.image ?? 'unknown';
    const down = this.#dependencyDown.get(key(ref));
    const mode: StandInMode = down !== undefined || this.#isBad(image) ? 'bad' : 'good';
    const proc = await spawnStandIn({ image, pod: pod.metadata.name, mode, reason: down, signal: this.#closed.signal });
    const tracked: Tracked = { uid, namespace: pod.metadata.namespace, podName: pod.metadata.name, deployment: ref, process: proc };
    this.#byUid.set(uid, tracked);
    this.#emit({ type: 'started', at: Date.now(), deployment: ref, pod: tracked.podName, image, port: proc.port, mode });
    if (this.#deletedEarly.delete(uid)) {
      await this.#podStopped(pod);
      return;
    }
    const reason = await this.#probe(proc);
    if (reason !== undefined) {
      await proc.kill();
      this.#emit({ type: 'unready', at: Date.now(), deployment: ref, pod: tracked.podName, image, reason });
      throw new Error(`readiness probe failed: ${reason}`);
    }
  }

  async #podStopped(pod: any): Promise<void> {
    const uid: string = pod.metadata.uid;
    const t = this.#byUid.get(uid);
    if (!t) {
      // Deleted while its process was still starting: stop it as soon as it is there.
      if (!this.#closed.signal.aborted) this.#deletedEarly.add(uid);
      return;
    }
    this.#byUid.delete(uid);
    const wasAlive = t.process.alive();
    await t.process.stop(500);
    if (wasAlive) this.#emit({ type: 'stopped', at: Date.now(), deployment: t.deployment, pod: t.podName, image: t.process.image });
  }

  /** undefined when ready, else why not. */
  async #probe(proc: StandInProcess): Promise<string | undefined> {
    const period = this.#o.readiness?.periodMs ?? 50;
    const threshold = this.#o.readiness?.failureThreshold ?? 3;
    const limit = this.#o.readiness?.timeoutMs;
    const deadline = limit === undefined ? Number.POSITIVE_INFINITY : Date.now() + limit;
    let last = 'no answer';
    let failures = 0;
    while (Date.now() < deadline && !this.#closed.signal.aborted) {
      if (!proc.alive()) return `the process exited (${last})`;
      try {
        const res = await fetch(`${proc.url}/health`, { signal: AbortSignal.any([AbortSignal.timeout(500), this.#closed.signal]) });
        const body = await res.text();
        if (res.ok) return undefined;
        last = `HTTP probe failed with statuscode: ${res.status} ${body.slice(0, 200)}`;
        if (++failures >= threshold) return last;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, period));
    }
    return last;
  }

  #emit(e: PodProcessEvent): void {
    try {
      this.#o.onEvent?.(e);
    } catch {
      /* a listener's failure is not the pod's */
    }
  }
}

function key(ref: DeploymentRef): string {
  return `${ref.namespace}/${ref.name}`;
}

function same(a: DeploymentRef, b: DeploymentRef): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}

import { DeploymentController } from './deployment-controller.ts';
import { EndpointsController } from './endpoints-controller.ts';
import { NodeLifecycleController } from './node-lifecycle-controller.ts';
import type { EventRecorder } from './events.ts';
import type { Faults } from './faults.ts';
import { PodLifecycle, type SimHooks } from './pod-lifecycle.ts';
import { reconcileReplicaSet } from './replicaset-controller.ts';
import type { Change, ObjectStore } from './store.ts';
import { TimerSet } from './timers.ts';
import { reconcileVolumes } from './volume-binder.ts';
import { daemonSetStatus, statefulSetStatus } from './workload-status.ts';

/**
 * The controller manager: watches the store, queues reconciles (Deployment → ReplicaSet → Pod and back up), runs
 * them one at a time on the event loop, and owns the timers. `idle` tells `settle()` whether anything is due.
 */
export interface ControllerManagerOptions {
  store: ObjectStore;
  events: EventRecorder;
  faults: Faults;
  hooks: SimHooks;
  podReadyDelayMs: number;
  crashLoopIntervalMs: number;
  /** The clock progress deadlines are measured on (ms since the epoch). */
  now(): number;
}

export class ControllerManager {
  readonly pods: PodLifecycle;
  readonly timers = new TimerSet();
  #o: ControllerManagerOptions;
  #queue = new Set<string>();
  #scheduled = false;
  #hanging = new Set<string>();
  #rechecks = new Map<string, NodeJS.Timeout>();
  #unsubscribe: () => void;
  #deployments: DeploymentController;
  #nodes: NodeLifecycleController;
  #endpoints: EndpointsController;
  #stopped = false;

  constructor(options: ControllerManagerOptions) {
    this.#o = options;
    this.pods = new PodLifecycle({
      store: options.store,
      events: options.events,
      faults: options.faults,
      timers: this.timers,
      hooks: options.hooks,
      podReadyDelayMs: options.podReadyDelayMs,
      crashLoopIntervalMs: options.crashLoopIntervalMs,
      isHanging: (uid) => uid !== undefined && this.#hanging.has(uid),
    });
    this.#deployments = new DeploymentController({
      store: options.store,
      events: options.events,
      takeFailingRollout: (ns, name) => options.faults.failingRollouts.delete(`${ns}/${name}`),
      markHanging: (uid) => this.#hanging.add(uid),
      recheckAfter: (ns, name, ms) => this.#recheck(`Deployment/${ns}/${name}`, ms),
      now: () => options.now(),
    });
    this.#endpoints = new EndpointsController(options.store);
    this.#nodes = new NodeLifecycleController(options.store, () => this.pods.retryScheduling());
    this.#unsubscribe = options.store.subscribe((c) => this.#onChange(c));
  }

  /** True when no reconcile is queued and no pod is about to change state. */
  get idle(): boolean {
    return this.#queue.size === 0 && !this.#scheduled && this.timers.pendingCount === 0;
  }

  /** Queues every Deployment once: their progress deadlines are looked at again (the clock jumped). */
  recheckDeployments(): void {
    for (const o of this.#o.store.list('Deployment')) this.#enqueue(`Deployment/${o.metadata.namespace}/${o.metadata.name}`);
  }

  /** Queues every workload once (after seeding). */
  resyncAll(): void {
    for (const kind of ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']) {
      for (const o of this.#o.store.list(kind)) this.#enqueue(`${kind}/${o.metadata.namespace}/${o.metadata.name}`);
    }
    for (const p of this.#o.store.list('Pod')) this.pods.podAdded(p);
    for (const n of this.#o.store.list('Node')) this.#enqueue(`Node//${n.metadata.name}`);
    for (const s of this.#o.store.list('Service')) this.#enqueue(`Endpoints/${s.metadata.namespace}/${s.metadata.name}`);
    this.#enqueue('Volumes//');
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe();
    this.timers.clear();
    this.#queue.clear();
  }

  #onChange(c: Change): void {
    if (this.#stopped) return;
    const owners = (c.object.metadata?.ownerReferences ?? []).filter((r: any) => r.controller);
    switch (c.kind) {
      case 'Deployment':
        if (c.type === 'DELETED') this.#deployments.forget(c.object.metadata.uid);
        else this.#enqueue(`Deployment/${c.namespace}/${c.name}`);
        break;
      case 'ReplicaSet':
        if (c.type === 'DELETED') this.#hanging.delete(c.object.metadata.uid);
        else this.#enqueue(`ReplicaSet/${c.namespace}/${c.name}`);
        for (const r of owners) if (r.kind === 'Deployment') this.#enqueue(`Deployment/${c.namespace}/${r.name}`);
        break;
      case 'Pod':
        if (c.type === 'ADDED') this.pods.podAdded(c.object);
        if (c.type === 'DELETED') this.pods.podDeleted(c.object);
        for (const r of owners) if (r.kind === 'ReplicaSet') this.#enqueue(`ReplicaSet/${c.namespace}/${r.name}`);
        for (const svc of this.#endpoints.servicesIn(c.namespace)) this.#enqueue(`Endpoints/${c.namespace}/${svc}`);
        break;
      case 'Service':
      case 'Endpoints':
        // A Service's endpoints follow it; someone else's write to a managed Endpoints is put right again.
        this.#enqueue(`Endpoints/${c.namespace}/${c.name}`);
        break;
      case 'EndpointSlice': {
        const svc = c.object.metadata?.labels?.['kubernetes.io/service-name'];
        if (svc) this.#enqueue(`Endpoints/${c.namespace}/${svc}`);
        break;
      }
      case 'StatefulSet':
      case 'DaemonSet':
        if (c.type !== 'DELETED') this.#enqueue(`${c.kind}/${c.namespace}/${c.name}`);
        break;
      case 'Node':
        if (c.type !== 'DELETED') this.#enqueue(`Node//${c.name}`);
        break;
      case 'PersistentVolume':
      case 'PersistentVolumeClaim':
        this.#enqueue('Volumes//');
        break;
    }
  }

  #enqueue(key: string): void {
    this.#queue.add(key);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    let budget = 10_000;
    while (this.#queue.size > 0 && !this.#stopped && budget-- > 0) {
      const key = this.#queue.values().next().value!;
      this.#queue.delete(key);
      try {
        this.#reconcile(key);
      } catch (err) {
        process.emitWarning(`kube-sim controller error on ${key}: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
    if (this.#queue.size > 0 && !this.#scheduled && !this.#stopped) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #reconcile(key: string): void {
    const [kind, namespace, name] = key.split('/') as [string, string, string];
    switch (kind) {
      case 'Deployment':
        this.#deployments.reconcile(namespace, name);
        return;
      case 'ReplicaSet':
        reconcileReplicaSet(this.#o.store, this.#o.events, namespace, name);
        return;
      case 'Node':
        this.#nodes.reconcile(name);
        return;
      case 'Endpoints':
        this.#endpoints.reconcile(namespace, name);
        return;
      case 'Volumes':
        reconcileVolumes(this.#o.store, this.#o.events);
        return;
      case 'StatefulSet':
      case 'DaemonSet': {
        const update = kind === 'StatefulSet' ? statefulSetStatus : daemonSetStatus;
        if (update(this.#o.store, namespace, name, false) === 'rolling') {
          this.timers.after(this.#o.podReadyDelayMs, () => void update(this.#o.store, namespace, name, true), true);
        }
        return;
      }
    }
  }

  #recheck(key: string, ms: number): void {
    this.timers.cancel(this.#rechecks.get(key));
    this.#rechecks.set(
      key,
      this.timers.after(Math.max(1, ms), () => this.#enqueue(key), false),
    );
  }
}

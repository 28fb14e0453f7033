import type { StepServices } from '../ports/step-services.ts';
import type {
  AccessCheck,
  Cluster,
  KindMap,
  KubeObject,
  ListKind,
  LogOptions,
  NewEvent,
  ObjectKind,
  ObjectRef,
  Patch,
  ReadOptions,
  Scale,
  WriteOptions,
} from '../ports/cluster.ts';

/**
 * A Cluster that reads each object once per decision. The executor asks for one (`decisionServices`) for every step
 * attempt, so the guard's scope check (labels, GitOps markers) and the action's first `get` of the same object are
 * one GET: the action acts on the object exactly as the guard saw it. Any write through it (or a failed one: a
 * conflict means the copy is stale) forgets every remembered object, so a read after a write, or a conflict retry's
 * re-read, goes to the API server. Each caller gets its own copy; lists, logs and Events are never remembered.
 *
 * What sharing costs: the object the action starts from was read before the guard took the target's lock, not after.
 * Writes that must not rest on a stale read carry a resourceVersion precondition (a conflict re-reads), as they do
 * against people and controllers, whom the lock never ordered.
 */
export class SharedReads implements Cluster {
  readonly #inner: Cluster;
  readonly #seen = new Map<string, KubeObject>();

  constructor(inner: Cluster) {
    this.#inner = inner;
  }

  get description(): string {
    return this.#inner.description;
  }

  async get<K extends ObjectKind>(ref: ObjectRef<K>, options: ReadOptions): Promise<KindMap[K]> {
    const key = `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
    const seen = this.#seen.get(key);
    if (seen !== undefined) {
      options.signal.throwIfAborted();
      return structuredClone(seen) as KindMap[K];
    }
    const obj = await this.#inner.get(ref, options);
    this.#seen.set(key, structuredClone(obj));
    return obj;
  }

  patch<K extends ObjectKind>(ref: ObjectRef<K>, patch: Patch, options: WriteOptions): Promise<KindMap[K]> {
    return this.#write(() => this.#inner.patch(ref, patch, options));
  }

  getScale(ref: ObjectRef<'Deployment' | 'StatefulSet'>, options: ReadOptions): Promise<Scale> {
    return this.#inner.getScale(ref, options);
  }

  replaceScale(ref: ObjectRef<'Deployment' | 'StatefulSet'>, scale: Scale, options: WriteOptions): Promise<Scale> {
    return this.#write(() => this.#inner.replaceScale(ref, scale, options));
  }

  listReplicaSets(namespace: string, labelSelector: string, options: ReadOptions) {
    return this.#inner.listReplicaSets(namespace, labelSelector, options);
  }

  listPods(namespace: string, labelSelector: string, options: ReadOptions) {
    return this.#inner.listPods(namespace, labelSelector, options);
  }

  listEvents(namespace: string, options: ReadOptions & { fieldSelector?: string }) {
    return this.#inner.listEvents(namespace, options);
  }

  list(kind: ListKind, namespace: string | undefined, options: ReadOptions & { labelSelector?: string }) {
    return this.#inner.list(kind, namespace, options);
  }

  readLog(namespace: string, pod: string, options: LogOptions): Promise<string> {
    return this.#inner.readLog(namespace, pod, options);
  }

  deletePod(
    namespace: string,
    name: string,
    preconditions: { uid: string; resourceVersion?: string },
    options: WriteOptions,
  ): Promise<void> {
    return this.#write(() => this.#inner.deletePod(namespace, name, preconditions, options));
  }

  apply(object: KubeObject, options: WriteOptions & { force?: boolean }): Promise<KubeObject> {
    return this.#write(() => this.#inner.apply(object, options));
  }

  /** An Event changes no object remediator reads by name. */
  createEvent(event: NewEvent, options: WriteOptions) {
    return this.#inner.createEvent(event, options);
  }

  getEvent(namespace: string, name: string, options: ReadOptions) {
    return this.#inner.getEvent(namespace, name, options);
  }

  canI(check: AccessCheck, options: ReadOptions) {
    return this.#inner.canI(check, options);
  }

  async #write<T>(fn: () => Promise<T>): Promise<T> {
    this.#seen.clear();
    return fn();
  }
}

/** `services` for one decision: the same services, with Kubernetes reads shared (see SharedReads). */
export function decisionServices(services: StepServices): StepServices {
  return services.kube === undefined ? services : { ...services, kube: new SharedReads(services.kube) };
}

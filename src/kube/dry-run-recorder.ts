import { RemediatorError } from '../domain/errors.ts';
import type {
  AccessAnswer,
  AccessCheck,
  Cluster,
  KindMap,
  KubeEvent,
  KubeObject,
  ListKind,
  LogOptions,
  NewEvent,
  ObjectKind,
  ObjectRef,
  Patch,
  Pod,
  ReadOptions,
  ReplicaSet,
  Scale,
  WriteOptions,
} from '../ports/cluster.ts';

/** One write a dry run asked for: the object as it is and as the API server says it would be (absent: deleted). */
export interface RecordedWrite {
  kind: string;
  namespace?: string;
  name: string;
  /** `scale` for a write of the Scale subresource. */
  subresource?: string;
  /** The live object before the write (absent: it does not exist yet, or a deleted pod that was not listed). */
  before?: unknown;
  /** The API server's answer to the dry-run write (absent: the object would be deleted). */
  after?: unknown;
}

/**
 * A Cluster that lets nothing be written: every write is sent with `dryRun=All` whatever its caller asked, so the
 * API server validates it, applies defaults and admission, and answers with the would-be object, storing nothing.
 * Reads pass through and are remembered, so each write is paired with the object it started from (read again when
 * the caller did not read it). What it saw is in `writes`, in order; Events are not objects a plan changes and are
 * not recorded.
 */
export class DryRunRecorder implements Cluster {
  readonly writes: RecordedWrite[] = [];
  readonly #inner: Cluster;
  readonly #read = new Map<string, unknown>();

  constructor(inner: Cluster) {
    this.#inner = inner;
  }

  get description(): string {
    return this.#inner.description;
  }

  async get<K extends ObjectKind>(ref: ObjectRef<K>, options: ReadOptions): Promise<KindMap[K]> {
    const obj = await this.#inner.get(ref, options);
    this.#read.set(key(ref.kind, ref.namespace, ref.name), obj);
    return obj;
  }

  async patch<K extends ObjectKind>(ref: ObjectRef<K>, patch: Patch, options: WriteOptions): Promise<KindMap[K]> {
    const before = await this.#before(ref, options);
    const after = await this.#inner.patch(ref, patch, dry(options));
    this.writes.push({ ...where(ref), before, after });
    return after;
  }

  async getScale(ref: ObjectRef<'Deployment' | 'StatefulSet'>, options: ReadOptions): Promise<Scale> {
    const scale = await this.#inner.getScale(ref, options);
    this.#read.set(key(`${ref.kind}/scale`, ref.namespace, ref.name), scale);
    return scale;
  }

  async replaceScale(ref: ObjectRef<'Deployment' | 'StatefulSet'>, scale: Scale, options: WriteOptions): Promise<Scale> {
    const k = key(`${ref.kind}/scale`, ref.namespace, ref.name);
    const before = this.#read.get(k) ?? (await this.#inner.getScale(ref, options));
    const after = await this.#inner.replaceScale(ref, scale, dry(options));
    this.writes.push({ kind: ref.kind, namespace: ref.namespace, name: ref.name, subresource: 'scale', before, after });
    return after;
  }

  listReplicaSets(namespace: string, labelSelector: string, options: ReadOptions): Promise<ReplicaSet[]> {
    return this.#inner.listReplicaSets(namespace, labelSelector, options);
  }

  async listPods(namespace: string, labelSelector: string, options: ReadOptions): Promise<Pod[]> {
    const pods = await this.#inner.listPods(namespace, labelSelector, options);
    for (const p of pods) this.#read.set(key('Pod', namespace, p.metadata.name), p);
    return pods;
  }

  listEvents(namespace: string, options: ReadOptions & { fieldSelector?: string }): Promise<KubeEvent[]> {
    return this.#inner.listEvents(namespace, options);
  }

  readLog(namespace: string, pod: string, options: LogOptions): Promise<string> {
    return this.#inner.readLog(namespace, pod, options);
  }

  list(kind: ListKind, namespace: string | undefined, options: ReadOptions & { labelSelector?: string }): Promise<KubeObject[]> {
    return this.#inner.list(kind, namespace, options);
  }

  async deletePod(
    namespace: string,
    name: string,
    preconditions: { uid: string; resourceVersion?: string },
    options: WriteOptions,
  ): Promise<void> {
    const before = this.#read.get(key('Pod', namespace, name));
    await this.#inner.deletePod(namespace, name, preconditions, dry(options));
    this.writes.push({ kind: 'Pod', namespace, name, ...(before === undefined ? {} : { before }) });
  }

  async apply(object: KubeObject, options: WriteOptions & { force?: boolean }): Promise<KubeObject> {
    const kind = object.kind ?? '';
    const namespace = object.metadata.namespace;
    const name = object.metadata.name;
    let before = this.#read.get(key(kind, namespace, name));
    if (before === undefined) {
      try {
        before = await this.#inner.get({ kind, namespace, name } as ObjectRef, options);
      } catch (err) {
        if (!(err instanceof RemediatorError && err.code === 'REM_ERR_KUBE_NOT_FOUND')) throw err;
      }
    }
    const after = await this.#inner.apply(object, { ...options, dryRun: true });
    this.writes.push({ kind, ...(namespace === undefined ? {} : { namespace }), name, ...(before === undefined ? {} : { before }), after });
    return after;
  }

  createEvent(event: NewEvent, options: WriteOptions): Promise<KubeEvent> {
    return this.#inner.createEvent(event, dry(options));
  }

  getEvent(namespace: string, name: string, options: ReadOptions): Promise<KubeEvent> {
    return this.#inner.getEvent(namespace, name, options);
  }

  canI(check: AccessCheck, options: ReadOptions): Promise<AccessAnswer> {
    return this.#inner.canI(check, options);
  }

  async #before(ref: ObjectRef, options: ReadOptions): Promise<unknown> {
    return this.#read.get(key(ref.kind, ref.namespace, ref.name)) ?? (await this.#inner.get(ref, options));
  }
}

function dry<T extends WriteOptions>(options: T): T {
  return { ...options, dryRun: true };
}

function key(kind: string, namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${kind}/${name}`;
}

function where(ref: { kind: string; namespace?: string | undefined; name: string }): Omit<RecordedWrite, 'before' | 'after'> {
  return { kind: ref.kind, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }), name: ref.name };
}

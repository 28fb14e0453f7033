import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { apiVersionOf, requireKind } from './resources.ts';

/**
 * The object store: every object of every kind, one global resourceVersion counter (like etcd's revision), and a
 * bounded history of changes so a watch can start from any recent resourceVersion.
 *
 * Contract: objects handed out are deep copies; callers change them and write them back with `update`. `update`
 * does not check resourceVersions (the router does, before calling it) so the controllers can write freely.
 */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  kind: string;
  namespace: string;
  name: string;
  /** The object after the change (for DELETED: as it was, stamped with the deletion's resourceVersion). */
  object: any;
  rv: number;
}

/** How many changes a watch may replay; older starting points get 410 Expired like a compacted etcd. */
const HISTORY_LIMIT = 20_000;

export function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function key(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export class ObjectStore {
  #objects = new Map<string, any>();
  #rv = 1000;
  #history: Change[] = [];
  #listeners = new Set<(change: Change) => void>();
  #pending: Change[] = [];
  #delivering = false;

  /** The newest resourceVersion handed out (what a list answers in `metadata.resourceVersion`). */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** The oldest resourceVersion a watch may still start from. */
  get oldestWatchableRv(): number {
    return this.#history.length === HISTORY_LIMIT ? this.#history[0]!.rv : 0;
  }

  get(kind: string, namespace: string, name: string): any | undefined {
    const obj = this.#objects.get(key(kind, namespace, name));
    return obj === undefined ? undefined : structuredClone(obj);
  }

  has(kind: string, namespace: string, name: string): boolean {
    return this.#objects.has(key(kind, namespace, name));
  }

  /**
   * Objects of a kind, optionally in one namespace, sorted by namespace then name like the real server. `where`
   * picks among them before they are copied (the controllers look for a few objects among many, on every change);
   * it is given the stored object and must not change it.
   */
  list(kind: string, namespace?: string, where?: (obj: any) => boolean): any[] {
    const out: any[] = [];
    for (const obj of this.#objects.values()) {
      if (obj.kind !== kind) continue;
      if (namespace !== undefined && namespace !== '' && (obj.metadata.namespace ?? '') !== namespace) continue;
      if (where && !where(obj)) continue;
      out.push(structuredClone(obj));
    }
    return out.sort((a, b) =>
      `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`),
    );
  }

  /** Stores a new object, assigning uid, resourceVersion, creationTimestamp and (for workloads) generation 1. */
  create(input: any): any {
    const t = requireKind(input.kind);
    const obj = structuredClone(input);
    obj.apiVersion = apiVersionOf(t);
    obj.metadata ??= {};
    if (!t.namespaced) delete obj.metadata.namespace;
    obj.metadata.uid = randomUUID();
    obj.metadata.resourceVersion = String(++this.#rv);
    obj.metadata.creationTimestamp = nowRfc3339();
    if (t.hasGeneration) obj.metadata.generation = 1;
    else delete obj.metadata.generation;
    delete obj.metadata.deletionTimestamp;
    this.#objects.set(key(obj.kind, obj.metadata.namespace ?? '', obj.metadata.name), obj);
    this.#emit('ADDED', obj);
    return structuredClone(obj);
  }

  /**
   * Replaces an existing object. Keeps uid and creationTimestamp, bumps resourceVersion, and bumps generation when
   * `spec` changed (for kinds that have one). Returns the stored copy.
   */
  update(input: any): any {
    const k = key(input.kind, input.metadata.namespace ?? '', input.metadata.name);
    const old = this.#objects.get(k);
    if (!old) throw new Error(`kube-sim store: ${k} does not exist`);
    const t = requireKind(input.kind);
    const obj = structuredClone(input);
    obj.apiVersion = apiVersionOf(t);
    obj.metadata.uid = old.metadata.uid;
    obj.metadata.creationTimestamp = old.metadata.creationTimestamp;
    if (t.hasGeneration) {
      const changed = !isDeepStrictEqual(old.spec, obj.spec);
      obj.metadata.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
    }
    if (isDeepStrictEqual(old, { ...obj, metadata: { ...obj.metadata, resourceVersion: old.metadata.resourceVersion } })) {
      // A no-op write does not create a new resourceVersion, as on the real server.
      return structuredClone(old);
    }
    obj.metadata.resourceVersion = String(++this.#rv);
    this.#objects.set(k, obj);
    this.#emit('MODIFIED', obj);
    return structuredClone(obj);
  }

  delete(kind: string, namespace: string, name: string): any | undefined {
    const k = key(kind, namespace, name);
    const old = this.#objects.get(k);
    if (!old) return undefined;
    this.#objects.delete(k);
    const gone = structuredClone(old);
    gone.metadata.resourceVersion = String(++this.#rv);
    this.#emit('DELETED', gone);
    return structuredClone(gone);
  }

  /** Changes after `rv`, or `undefined` when history no longer reaches back that far. */
  changesSince(rv: number): Change[] | undefined {
    if (rv < this.oldestWatchableRv - 1) return undefined;
    return this.#history.filter((c) => c.rv > rv);
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(type: ChangeType, obj: any): void {
    const change: Change = {
      type,
      kind: obj.kind,
      namespace: obj.metadata.namespace ?? '',
      name: obj.metadata.name,
      object: structuredClone(obj),
      rv: Number(obj.metadata.resourceVersion),
    };
    this.#history.push(change);
    if (this.#history.length > HISTORY_LIMIT) this.#history.shift();
    // Listeners that write (controllers) must not make others see changes out of order: deliver in sequence.
    this.#pending.push(change);
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let c = this.#pending.shift(); c; c = this.#pending.shift()) {
        for (const l of [...this.#listeners]) l(c);
      }
    } finally {
      this.#delivering = false;
    }
  }
}

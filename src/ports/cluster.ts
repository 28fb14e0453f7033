/**
 * The narrow Kubernetes port. Actions, gates and the guard layer use this; only `client-node-cluster.ts` imports
 * @kubernetes/client-node. Every call takes an AbortSignal and fails with a classified RemediatorError
 * (REM_ERR_KUBE_NOT_FOUND / _FORBIDDEN / _CONFLICT / _UNAVAILABLE / _REJECTED).
 *
 * Objects cross this boundary as plain JSON in the API server's own field names (what `kubectl get -o json` shows),
 * not as client library classes: actions compare, copy and patch them, and run records store them. Timestamps are
 * RFC 3339 strings. Only the fields remediator reads are typed; everything else is kept as `unknown`.
 */

import type { ClusterScopedKind, KindMap, ListKind, ObjectKind } from '../kube/kinds.ts';
import type { KubeEvent, KubeObject, Pod, ReplicaSet, Scale } from '../kube/objects.ts';

export type * from '../kube/objects.ts';
export type { ObjectKind, KindMap, ListKind, WorkloadKind } from '../kube/kinds.ts';

/**
 * One object by name. Namespaced kinds need a namespace; cluster-scoped kinds (Node) have none; a ref whose kind is
 * only known to be one of several may carry one or not (the adapter refuses a namespaced kind without it).
 */
export type ObjectRef<K extends string = ObjectKind> = { kind: K; name: string } & ([K] extends [ClusterScopedKind]
  ? { namespace?: undefined }
  : [K] extends [Exclude<ObjectKind, ClusterScopedKind>]
    ? { namespace: string }
    : { namespace?: string });

/** An Event remediator records on an object it changed. */
export interface NewEvent {
  namespace: string;
  /** Deterministic names make the event double as a record (see kube.deletePods); default: generated. */
  name?: string;
  /** `namespace` is absent for a cluster-scoped object (its Events go to namespace `default`, as kubelet's do). */
  involvedObject: { apiVersion?: string; kind: string; name: string; namespace?: string; uid?: string; resourceVersion?: string };
  reason: string;
  message: string;
  type?: 'Normal' | 'Warning';
  annotations?: Record<string, string>;
}

/** One verb on one resource, as a SelfSubjectAccessReview asks it. */
export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface AccessAnswer {
  allowed: boolean;
  reason?: string;
}

export type PatchType = 'strategic' | 'merge' | 'json';

export interface Patch {
  type: PatchType;
  /** An object for strategic/merge patches, an array of RFC 6902 operations for `json`. */
  body: unknown;
}

export interface ReadOptions {
  signal: AbortSignal;
}

export interface WriteOptions extends ReadOptions {
  /** Send `dryRun=All`: the API server validates and answers with the would-be object, and stores nothing. */
  dryRun?: boolean;
  /** Overrides the cluster's default field manager for this write. */
  fieldManager?: string;
}

export interface LogOptions extends ReadOptions {
  container?: string;
  previous?: boolean;
  tailLines?: number;
  limitBytes?: number;
}

export interface Cluster {
  /** For logs and /readyz: the server URL and context in use (never credentials). */
  readonly description: string;

  get<K extends ObjectKind>(ref: ObjectRef<K>, options: ReadOptions): Promise<KindMap[K]>;
  patch<K extends ObjectKind>(ref: ObjectRef<K>, patch: Patch, options: WriteOptions): Promise<KindMap[K]>;

  /** Scale subresource of a Deployment or StatefulSet. */
  getScale(ref: ObjectRef<'Deployment' | 'StatefulSet'>, options: ReadOptions): Promise<Scale>;
  /** PUT of the Scale as read and modified; its `metadata.resourceVersion` makes a stale write fail with a conflict. */
  replaceScale(ref: ObjectRef<'Deployment' | 'StatefulSet'>, scale: Scale, options: WriteOptions): Promise<Scale>;

  /** `labelSelector` in the API's string form (`app=web,tier in (a,b)`); every page is read. */
  listReplicaSets(namespace: string, labelSelector: string, options: ReadOptions): Promise<ReplicaSet[]>;
  listPods(namespace: string, labelSelector: string, options: ReadOptions): Promise<Pod[]>;
  listEvents(namespace: string, options: ReadOptions & { fieldSelector?: string }): Promise<KubeEvent[]>;
  readLog(namespace: string, pod: string, options: LogOptions): Promise<string>;
  /**
   * Every object of a kind in `namespace` (undefined for a cluster-scoped kind), every page read. Secrets come back
   * without `data` and `stringData`: what remediator needs of a Secret is whether it exists and when it changed.
   */
  list(kind: ListKind, namespace: string | undefined, options: ReadOptions & { labelSelector?: string }): Promise<KubeObject[]>;

  /** Deletes with `preconditions: {uid, resourceVersion}` (stale → conflict) and background propagation. */
  deletePod(
    namespace: string,
    name: string,
    preconditions: { uid: string; resourceVersion?: string },
    options: WriteOptions,
  ): Promise<void>;

  /** Server-side apply (`application/apply-patch+yaml`) of one object from a manifest. */
  apply(object: KubeObject, options: WriteOptions & { force?: boolean }): Promise<KubeObject>;

  createEvent(event: NewEvent, options: WriteOptions): Promise<KubeEvent>;
  getEvent(namespace: string, name: string, options: ReadOptions): Promise<KubeEvent>;

  /** SelfSubjectAccessReview: may the configured identity do this? */
  canI(check: AccessCheck, options: ReadOptions): Promise<AccessAnswer>;
}

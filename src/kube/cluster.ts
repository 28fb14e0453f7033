/**
 * The narrow Kubernetes port. Actions, gates and the guard layer use this; only `client-node-cluster.ts` imports
 * @kubernetes/client-node. Every call takes an AbortSignal and fails with a classified RemediatorError
 * (REM_ERR_KUBE_NOT_FOUND / _FORBIDDEN / _CONFLICT / _UNAVAILABLE / _REJECTED).
 *
 * Objects cross this boundary as plain JSON in the API server's own field names (what `kubectl get -o json` shows),
 * not as client library classes: actions compare, copy and patch them, and run records store them. Timestamps are
 * RFC 3339 strings. Only the fields remediator reads are typed; everything else is kept as `unknown`.
 */

/** Workloads whose pod template remediator may patch. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** Kinds `get` and `patch` accept. */
export type ObjectKind = WorkloadKind | 'ConfigMap' | 'Service';

export interface ObjectRef<K extends string = ObjectKind> {
  kind: K;
  namespace: string;
  name: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface ResourceRequirements {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
  [field: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  env?: EnvVar[];
  resources?: ResourceRequirements;
  [field: string]: unknown;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [field: string]: unknown };
  spec?: { containers: Container[]; initContainers?: Container[]; [field: string]: unknown };
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    paused?: boolean;
    selector: LabelSelector;
    template: PodTemplate;
    progressDeadlineSeconds?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number; [field: string]: unknown } };
    [field: string]: unknown;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    conditions?: Condition[];
    [field: string]: unknown;
  };
}

export interface ReplicaSet extends KubeObject {
  spec: { replicas?: number; selector?: LabelSelector; template?: PodTemplate; [field: string]: unknown };
  status?: { replicas?: number; [field: string]: unknown };
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface Service extends KubeObject {
  spec: { selector?: Record<string, string>; [field: string]: unknown };
}

/** The autoscaling/v1 Scale subresource. */
export interface Scale extends KubeObject {
  spec: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; exitCode: number; message?: string; finishedAt?: string; startedAt?: string };
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface Pod extends KubeObject {
  spec?: { containers: Container[]; nodeName?: string; [field: string]: unknown };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    [field: string]: unknown;
  };
}

/** A core/v1 Event as read back. */
export interface KubeEvent extends KubeObject {
  involvedObject: { kind?: string; name?: string; namespace?: string; uid?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  source?: { component?: string };
}

/** An Event remediator records on an object it changed. */
export interface NewEvent {
  namespace: string;
  /** Deterministic names make the event double as a record (see kube.deletePods); default: generated. */
  name?: string;
  involvedObject: { apiVersion?: string; kind: string; name: string; namespace: string; uid?: string; resourceVersion?: string };
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

export interface KindMap {
  Deployment: Workload;
  StatefulSet: Workload;
  DaemonSet: Workload;
  ConfigMap: ConfigMap;
  Service: Service;
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

  /** Deletes with `preconditions: {uid, resourceVersion}` (stale → conflict) and background propagation. */
  deletePod(namespace: string, name: string, preconditions: { uid: string; resourceVersion?: string }, options: WriteOptions): Promise<void>;

  /** Server-side apply (`application/apply-patch+yaml`) of one object from a manifest. */
  apply(object: KubeObject, options: WriteOptions & { force?: boolean }): Promise<KubeObject>;

  createEvent(event: NewEvent, options: WriteOptions): Promise<KubeEvent>;
  getEvent(namespace: string, name: string, options: ReadOptions): Promise<KubeEvent>;

  /** SelfSubjectAccessReview: may the configured identity do this? */
  canI(check: AccessCheck, options: ReadOptions): Promise<AccessAnswer>;
}

import type { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type {
  ConfigMap,
  EndpointSlice,
  Endpoints,
  KubeEvent,
  KubeObject,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ReplicaSet,
  Secret,
  Service,
  Workload,
} from './objects.ts';

/**
 * Every Kubernetes kind remediator touches, one row each: where it lives in the API (scope, group, version, plural,
 * subresources) and, for the kinds the Cluster port reads and patches by name, the @kubernetes/client-node calls
 * that do it. Everything else derives from this table: `ObjectKind` and `KindMap` (what `Cluster.get`/`patch`
 * accept and answer), the guard's list of objects whose labels it can read, the permissions steps declare, RBAC
 * messages, Events' involvedObject, and the adapter's dispatch. A new kind is one row here.
 */
export interface KindRow {
  /** `Namespaced` objects live in a namespace; `Cluster` objects (Nodes) do not. */
  scope: 'Namespaced' | 'Cluster';
  /** '' for the core group. */
  group: string;
  version: string;
  /** The URL segment, also the `resource` of RBAC rules. */
  plural: string;
  subresources: readonly string[];
  /** The client-node calls that read and patch one object by name; absent: the port has no get/patch for the kind. */
  client?: ClientCalls;
}

type ApiMethod<A> = { [M in keyof A]: A[M] extends (...args: never[]) => unknown ? M : never }[keyof A] & string;

/** Which client-node API class serves the kind, and the names of its read and patch methods there. */
export type ClientCalls =
  | { api: 'core'; read: ApiMethod<CoreV1Api>; patch: ApiMethod<CoreV1Api> }
  | { api: 'apps'; read: ApiMethod<AppsV1Api>; patch: ApiMethod<AppsV1Api> }
  /** A custom resource: CustomObjectsApi's get/patchNamespacedCustomObject with the row's group, version and plural. */
  | { api: 'custom' };

/** A row with the TypeScript type of its objects attached (type-level only: `object` is never set). */
function of<T>() {
  return <R extends KindRow>(r: R): R & { readonly object?: T } => r;
}

export const KINDS = {
  Deployment: of<Workload>()({
    scope: 'Namespaced',
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    subresources: ['scale', 'status'],
    client: { api: 'apps', read: 'readNamespacedDeployment', patch: 'patchNamespacedDeployment' },
  }),
  StatefulSet: of<Workload>()({
    scope: 'Namespaced',
    group: 'apps',
    version: 'v1',
    plural: 'statefulsets',
    subresources: ['scale', 'status'],
    client: { api: 'apps', read: 'readNamespacedStatefulSet', patch: 'patchNamespacedStatefulSet' },
  }),
  DaemonSet: of<Workload>()({
    scope: 'Namespaced',
    group: 'apps',
    version: 'v1',
    plural: 'daemonsets',
    subresources: ['status'],
    client: { api: 'apps', read: 'readNamespacedDaemonSet', patch: 'patchNamespacedDaemonSet' },
  }),
  ReplicaSet: of<ReplicaSet>()({
    scope: 'Namespaced',
    group: 'apps',
    version: 'v1',
    plural: 'replicasets',
    subresources: ['scale', 'status'],
  }),
  ConfigMap: of<ConfigMap>()({
    scope: 'Namespaced',
    group: '',
    version: 'v1',
    plural: 'configmaps',
    subresources: [],
    client: { api: 'core', read: 'readNamespacedConfigMap', patch: 'patchNamespacedConfigMap' },
  }),
  Service: of<Service>()({
    scope: 'Namespaced',
    group: '',
    version: 'v1',
    plural: 'services',
    subresources: ['status'],
    client: { api: 'core', read: 'readNamespacedService', patch: 'patchNamespacedService' },
  }),
  Pod: of<Pod>()({ scope: 'Namespaced', group: '', version: 'v1', plural: 'pods', subresources: ['log', 'status'] }),
  Event: of<KubeEvent>()({ scope: 'Namespaced', group: '', version: 'v1', plural: 'events', subresources: [] }),
  Secret: of<Secret>()({
    scope: 'Namespaced',
    group: '',
    version: 'v1',
    plural: 'secrets',
    subresources: [],
    client: { api: 'core', read: 'readNamespacedSecret', patch: 'patchNamespacedSecret' },
  }),
  PersistentVolumeClaim: of<PersistentVolumeClaim>()({
    scope: 'Namespaced',
    group: '',
    version: 'v1',
    plural: 'persistentvolumeclaims',
    subresources: ['status'],
    client: { api: 'core', read: 'readNamespacedPersistentVolumeClaim', patch: 'patchNamespacedPersistentVolumeClaim' },
  }),
  PersistentVolume: of<PersistentVolume>()({
    scope: 'Cluster',
    group: '',
    version: 'v1',
    plural: 'persistentvolumes',
    subresources: ['status'],
    client: { api: 'core', read: 'readPersistentVolume', patch: 'patchPersistentVolume' },
  }),
  Endpoints: of<Endpoints>()({
    scope: 'Namespaced',
    group: '',
    version: 'v1',
    plural: 'endpoints',
    subresources: [],
    client: { api: 'core', read: 'readNamespacedEndpoints', patch: 'patchNamespacedEndpoints' },
  }),
  EndpointSlice: of<EndpointSlice>()({
    scope: 'Namespaced',
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    subresources: [],
  }),
  // GitOps controllers' custom resources: spec.gitops: suspend pauses their auto-sync during a run (src/guards/gitops-suspender.ts).
  Application: of<KubeObject>()({
    scope: 'Namespaced',
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'applications',
    subresources: [],
    client: { api: 'custom' },
  }),
  Kustomization: of<KubeObject>()({
    scope: 'Namespaced',
    group: 'kustomize.toolkit.fluxcd.io',
    version: 'v1',
    plural: 'kustomizations',
    subresources: ['status'],
    client: { api: 'custom' },
  }),
  HelmRelease: of<KubeObject>()({
    scope: 'Namespaced',
    group: 'helm.toolkit.fluxcd.io',
    version: 'v2',
    plural: 'helmreleases',
    subresources: ['status'],
    client: { api: 'custom' },
  }),
  Node: of<Node>()({
    scope: 'Cluster',
    group: '',
    version: 'v1',
    plural: 'nodes',
    subresources: ['status'],
    client: { api: 'core', read: 'readNode', patch: 'patchNode' },
  }),
} as const;

export type KnownKind = keyof typeof KINDS;

/** Kinds `Cluster.get` and `Cluster.patch` accept: the rows with client calls. */
export type ObjectKind = { [K in KnownKind]: (typeof KINDS)[K] extends { client: ClientCalls } ? K : never }[KnownKind];

/** What `Cluster.get`/`patch` answer for each kind. */
export type KindMap = { [K in ObjectKind]: NonNullable<(typeof KINDS)[K]['object']> };

/** Kinds that live outside namespaces. */
export type ClusterScopedKind = { [K in KnownKind]: (typeof KINDS)[K]['scope'] extends 'Cluster' ? K : never }[KnownKind];

/**
 * Kinds `Cluster.list` reads whole (a namespace's, or the cluster's for cluster-scoped kinds): what a cluster
 * diagnosis and the traffic-switch gate look at, and the workloads kube.batchRestart selects by label.
 */
export type ListKind =
  | 'Deployment'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'ReplicaSet'
  | 'Pod'
  | 'Service'
  | 'ConfigMap'
  | 'Secret'
  | 'PersistentVolumeClaim'
  | 'PersistentVolume'
  | 'Node'
  | 'Endpoints'
  | 'EndpointSlice';

/** Workloads whose pod template remediator may patch. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export function isKnownKind(kind: string): kind is KnownKind {
  return Object.hasOwn(KINDS, kind);
}

/** Whether the Cluster port can read (and patch) an object of this kind by name. */
export function isObjectKind(kind: string): kind is ObjectKind {
  return isKnownKind(kind) && (KINDS[kind] as KindRow).client !== undefined;
}

/** Whether objects of this kind live outside namespaces; unknown kinds count as namespaced. */
export function isClusterScoped(kind: string): boolean {
  return isKnownKind(kind) && KINDS[kind].scope === 'Cluster';
}

/** `apps/v1`, `v1`: the apiVersion of a kind's objects. */
export function apiVersionOf(kind: KnownKind): string {
  const k = KINDS[kind];
  return k.group === '' ? k.version : `${k.group}/${k.version}`;
}

/** `deployments.apps`, `pods`: the resource as kubectl and RBAC messages spell it. */
export function qualifiedResource(kind: KnownKind, subresource?: string): string {
  const k = KINDS[kind];
  const base = k.group === '' ? k.plural : `${k.plural}.${k.group}`;
  return subresource === undefined ? base : `${base}/${subresource}`;
}

/**
 * The permission entry a step definition lists for one verb on one kind. The namespace applies to namespaced kinds
 * only: a cluster-scoped kind is always checked cluster-wide, whatever namespace the step names.
 */
export function permission(verb: string, kind: KnownKind, namespace?: string, subresource?: string) {
  const k = KINDS[kind];
  const where = k.scope === 'Namespaced' && namespace !== undefined ? { namespace } : {};
  return subresource === undefined
    ? { verb, group: k.group, resource: k.plural, ...where }
    : { verb, group: k.group, resource: k.plural, subresource, ...where };
}

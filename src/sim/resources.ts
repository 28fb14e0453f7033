/**
 * The resource types the simulated API server serves, with the names discovery publishes for them. One table drives
 * discovery, URL routing, list kinds, error messages (`deployments.apps "x" not found`) and the direct-access helpers.
 */
export interface ResourceType {
  kind: string;
  /** URL segment, also the `resource` of RBAC rules and SelfSubjectAccessReviews. */
  plural: string;
  singular: string;
  /** '' for the core group. */
  group: string;
  version: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  categories?: string[];
  /** Subresources served (`scale`, `status`, `log`). */
  subresources: string[];
  /** Whether a PUT without metadata.resourceVersion is refused (apps workloads, like the real registry strategies). */
  requireResourceVersionOnUpdate: boolean;
  /** Whether spec changes bump metadata.generation. */
  hasGeneration: boolean;
  /**
   * Objects computed on each request instead of stored (the metrics API, as metrics-server serves it): get and list
   * only, never watched or written.
   */
  computed?: 'metrics';
  /**
   * The object's top-level fields besides apiVersion, kind and metadata: what OpenAPI publishes for the kind and what
   * `fieldValidation=Strict` accepts at the top level.
   */
  fields: string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function type(
  t: Omit<
    ResourceType,
    'singular' | 'verbs' | 'subresources' | 'requireResourceVersionOnUpdate' | 'hasGeneration' | 'shortNames' | 'fields'
  > &
    Partial<ResourceType>,
): ResourceType {
  return {
    fields: ['spec', 'status'],
    singular: t.kind.toLowerCase(),
    verbs: ALL_VERBS,
    subresources: [],
    requireResourceVersionOnUpdate: false,
    hasGeneration: false,
    shortNames: [],
    ...t,
  };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  type({
    kind: 'Pod',
    plural: 'pods',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'log'],
  }),
  type({
    kind: 'Service',
    plural: 'services',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    subresources: ['status'],
  }),
  type({
    kind: 'Secret',
    plural: 'secrets',
    group: '',
    version: 'v1',
    namespaced: true,
    fields: ['data', 'stringData', 'type', 'immutable'],
  }),
  type({
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['pvc'],
    subresources: ['status'],
  }),
  type({
    kind: 'PersistentVolume',
    plural: 'persistentvolumes',
    group: '',
    version: 'v1',
    namespaced: false,
    shortNames: ['pv'],
    subresources: ['status'],
  }),
  type({
    kind: 'Endpoints',
    plural: 'endpoints',
    singular: 'endpoints',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['ep'],
    fields: ['subsets'],
  }),
  type({
    kind: 'ConfigMap',
    plural: 'configmaps',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['cm'],
    fields: ['data', 'binaryData', 'immutable'],
  }),
  type({
    kind: 'Event',
    plural: 'events',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['ev'],
    fields: [
      'involvedObject',
      'reason',
      'message',
      'source',
      'firstTimestamp',
      'lastTimestamp',
      'count',
      'type',
      'eventTime',
      'series',
      'action',
      'related',
      'reportingComponent',
      'reportingInstance',
    ],
  }),
  type({
    kind: 'Namespace',
    plural: 'namespaces',
    group: '',
    version: 'v1',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: ['status'],
  }),
  type({ kind: 'Node', plural: 'nodes', group: '', version: 'v1', namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  type({
    kind: 'Deployment',
    plural: 'deployments',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['scale', 'status'],
    requireResourceVersionOnUpdate: true,
    hasGeneration: true,
  }),
  type({
    kind: 'ReplicaSet',
    plural: 'replicasets',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['scale', 'status'],
    requireResourceVersionOnUpdate: true,
    hasGeneration: true,
  }),
  type({
    kind: 'StatefulSet',
    plural: 'statefulsets',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    subresources: ['scale', 'status'],
    requireResourceVersionOnUpdate: true,
    hasGeneration: true,
  }),
  type({
    kind: 'DaemonSet',
    plural: 'daemonsets',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    subresources: ['status'],
    requireResourceVersionOnUpdate: true,
    hasGeneration: true,
  }),
  type({
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    group: 'networking.k8s.io',
    version: 'v1',
    namespaced: true,
    shortNames: ['netpol'],
    hasGeneration: true,
  }),
  type({
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    group: 'discovery.k8s.io',
    version: 'v1',
    namespaced: true,
    fields: ['addressType', 'endpoints', 'ports'],
  }),
  type({
    kind: 'NodeMetrics',
    plural: 'nodes',
    singular: '',
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    namespaced: false,
    verbs: ['get', 'list'],
    computed: 'metrics',
    fields: ['timestamp', 'window', 'usage'],
  }),
  type({
    kind: 'PodMetrics',
    plural: 'pods',
    singular: '',
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    namespaced: true,
    verbs: ['get', 'list'],
    computed: 'metrics',
    fields: ['timestamp', 'window', 'containers'],
  }),
  // GitOps controllers' custom resources (served as their CRDs would be), for spec.gitops: suspend.
  type({
    kind: 'Application',
    plural: 'applications',
    group: 'argoproj.io',
    version: 'v1alpha1',
    namespaced: true,
    shortNames: ['app', 'apps'],
    hasGeneration: true,
  }),
  type({
    kind: 'Kustomization',
    plural: 'kustomizations',
    group: 'kustomize.toolkit.fluxcd.io',
    version: 'v1',
    namespaced: true,
    shortNames: ['ks'],
    subresources: ['status'],
    hasGeneration: true,
  }),
  type({
    kind: 'HelmRelease',
    plural: 'helmreleases',
    group: 'helm.toolkit.fluxcd.io',
    version: 'v2',
    namespaced: true,
    shortNames: ['hr'],
    subresources: ['status'],
    hasGeneration: true,
  }),
  type({
    kind: 'SelfSubjectAccessReview',
    plural: 'selfsubjectaccessreviews',
    group: 'authorization.k8s.io',
    version: 'v1',
    namespaced: false,
    verbs: ['create'],
  }),
];

/** Group/version pairs in the order discovery lists them (core `v1` is served under /api). */
export const API_GROUPS: readonly { group: string; version: string }[] = [
  { group: 'apps', version: 'v1' },
  { group: 'authorization.k8s.io', version: 'v1' },
  { group: 'discovery.k8s.io', version: 'v1' },
  { group: 'networking.k8s.io', version: 'v1' },
  { group: 'metrics.k8s.io', version: 'v1beta1' },
  { group: 'argoproj.io', version: 'v1alpha1' },
  { group: 'kustomize.toolkit.fluxcd.io', version: 'v1' },
  { group: 'helm.toolkit.fluxcd.io', version: 'v2' },
];

export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** `deployments.apps`, `pods`: how the real server names a resource in error messages. */
export function qualifiedName(t: ResourceType): string {
  return t.group === '' ? t.plural : `${t.plural}.${t.group}`;
}

export function typeByKind(kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.kind === kind);
}

export function typeByPath(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** Looks a kind up or throws: the direct-access helpers accept only kinds the server serves. */
export function requireKind(kind: string): ResourceType {
  const t = typeByKind(kind);
  if (!t) throw new Error(`kube-sim does not serve kind ${kind}`);
  return t;
}

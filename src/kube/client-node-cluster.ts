import * as k8s from '@kubernetes/client-node';
import { RemediatorError } from '../domain/errors.ts';
import { linkedSignal } from '../domain/linked-signal.ts';
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
import { classifyKubeError, type KubeCall } from './classify-error.ts';
import { KINDS, qualifiedResource, type ClientCalls, type KindRow } from './kinds.ts';

export interface CreateClusterOptions {
  /** Path of a kubeconfig file. Default: the standard loading order ($KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfig?: string;
  /** Context of the kubeconfig to use. Default: its current-context. */
  context?: string;
  /** Use the pod's service account (token, CA and namespace under /var/run/secrets/kubernetes.io/serviceaccount). */
  inCluster?: boolean;
  /** Upper bound of one API call, on top of the caller's signal. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Field manager of every write unless the call names another. Default `remediator`. */
  fieldManager?: string;
  /** Default `remediator`. */
  userAgent?: string;
}

/** Builds the Kubernetes port from a kubeconfig, the in-cluster service account or the default loading order. */
export function createCluster(options: CreateClusterOptions = {}): ClientNodeCluster {
  return new ClientNodeCluster(loadKubeConfig(options), options);
}

/**
 * Loads and checks the Kubernetes configuration without building a client (what `lint --config` checks). Fails with
 * REM_ERR_CONFIG_INVALID when it cannot be loaded, lacks the context asked for, or names no cluster.
 */
export function loadKubeConfig(options: Pick<CreateClusterOptions, 'kubeconfig' | 'context' | 'inCluster'> = {}): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (options.inCluster) kc.loadFromCluster();
    else if (options.kubeconfig !== undefined) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new RemediatorError('REM_ERR_CONFIG_INVALID', `cannot load the Kubernetes configuration: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (options.context !== undefined) {
    if (kc.getContextObject(options.context) === null) {
      throw new RemediatorError('REM_ERR_CONFIG_INVALID', `kubeconfig has no context "${options.context}"`);
    }
    kc.setCurrentContext(options.context);
  }
  if (kc.getCurrentCluster() === null) {
    throw new RemediatorError('REM_ERR_CONFIG_INVALID', 'the Kubernetes configuration names no cluster for its current context');
  }
  return kc;
}

const PATCH_CONTENT_TYPE = {
  strategic: k8s.PatchStrategy.StrategicMergePatch,
  merge: k8s.PatchStrategy.MergePatch,
  json: k8s.PatchStrategy.JsonPatch,
} as const;

/** Safety bound on list pagination (500 items a page). */
const MAX_PAGES = 40;

/**
 * `Cluster` over @kubernetes/client-node 2.x. Each call gets per-call options (the documented 2.x mechanism) with
 * one middleware that attaches an AbortSignal (the caller's, combined with `requestTimeoutMs`) to the request, plus
 * `setHeaderOptions` for the User-Agent and, on patches, the Content-Type (docs/contracts.md §3.3: without it 2.x sends
 * every patch as JSON Patch).
 *
 * The library builds a new undici Agent for every request when the cluster has TLS options (it does for
 * skipTLSVerify and any CA), so connections would never be reused; the middleware keeps the first one and reuses
 * it. The cost: a client certificate rotated on disk is only picked up by a new Cluster.
 */
export class ClientNodeCluster implements Cluster {
  readonly description: string;
  readonly #kc: k8s.KubeConfig;
  readonly #apps: k8s.AppsV1Api;
  readonly #core: k8s.CoreV1Api;
  readonly #authz: k8s.AuthorizationV1Api;
  readonly #custom: k8s.CustomObjectsApi;
  readonly #discovery: k8s.DiscoveryV1Api;
  readonly #timeoutMs: number;
  readonly #fieldManager: string;
  readonly #userAgent: string;
  #dispatcher: unknown;

  constructor(kc: k8s.KubeConfig, options: CreateClusterOptions = {}) {
    this.#kc = kc;
    this.#apps = kc.makeApiClient(k8s.AppsV1Api);
    this.#core = kc.makeApiClient(k8s.CoreV1Api);
    this.#authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    this.#custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.#discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#fieldManager = options.fieldManager ?? 'remediator';
    this.#userAgent = options.userAgent ?? 'remediator';
    this.description = `${kc.getCurrentCluster()?.server ?? '?'} (context ${kc.getCurrentContext()})`;
  }

  /** Closes pooled connections. The Cluster must not be used afterwards. */
  async close(): Promise<void> {
    const d = this.#dispatcher as { close?: () => Promise<void> } | undefined;
    this.#dispatcher = undefined;
    await d?.close?.();
  }

  async get<K extends ObjectKind>(ref: ObjectRef<K>, options: ReadOptions): Promise<KindMap[K]> {
    const { call, where, invoke } = this.#byName('get', ref);
    return this.#call(call, options.signal, undefined, (o) => invoke('read', { name: ref.name, ...where }, o));
  }

  async patch<K extends ObjectKind>(ref: ObjectRef<K>, patch: Patch, options: WriteOptions): Promise<KindMap[K]> {
    const { call, where, invoke } = this.#byName('patch', ref);
    const p = { name: ref.name, ...where, body: patch.body, ...this.#writeParams(options) };
    return this.#call(call, options.signal, PATCH_CONTENT_TYPE[patch.type], (o) => invoke('patch', p, o));
  }

  /**
   * A call on one object by name, from the kind's row in KINDS: the client-node API class and method the row names,
   * the namespace parameter (namespaced kinds only) and the call's description for errors.
   */
  #byName(verb: string, ref: ObjectRef<ObjectKind>) {
    const row: KindRow = KINDS[ref.kind];
    const calls = row.client as ClientCalls;
    if (row.scope === 'Namespaced' && !ref.namespace) {
      throw new RemediatorError(
        'REM_ERR_INTERNAL',
        `${verb} ${qualifiedResource(ref.kind)} "${ref.name}": a namespaced kind needs a namespace`,
      );
    }
    const where = row.scope === 'Namespaced' ? { namespace: ref.namespace as string } : {};
    if (calls.api === 'custom') {
      // Custom resources have no typed client: CustomObjectsApi with the row's coordinates (merge patches only).
      const coords = { group: row.group, version: row.version, plural: row.plural, namespace: ref.namespace as string };
      const invoke = (which: 'read' | 'patch', params: object, o: k8s.ConfigurationOptions): Promise<unknown> =>
        which === 'read'
          ? this.#custom.getNamespacedCustomObject({ ...coords, ...(params as { name: string }) }, o)
          : this.#custom.patchNamespacedCustomObject({ ...coords, ...(params as { name: string; body: object }) }, o);
      return { call: { verb, resource: qualifiedResource(ref.kind), name: ref.name, ...where } as KubeCall, where, invoke };
    }
    const api: object = calls.api === 'apps' ? this.#apps : this.#core;
    const invoke = (which: 'read' | 'patch', params: object, o: k8s.ConfigurationOptions): Promise<unknown> => {
      const method = (api as Record<string, (p: object, o: k8s.ConfigurationOptions) => Promise<unknown>>)[calls[which]];
      return method!.call(api, params, o);
    };
    const call: KubeCall = { verb, resource: qualifiedResource(ref.kind), name: ref.name, ...where };
    return { call, where, invoke };
  }

  async getScale(ref: ObjectRef<'Deployment' | 'StatefulSet'>, options: ReadOptions): Promise<Scale> {
    const p = { name: ref.name, namespace: ref.namespace };
    return this.#call({ verb: 'get', resource: qualifiedResource(ref.kind, 'scale'), ...p }, options.signal, undefined, (o) =>
      ref.kind === 'Deployment' ? this.#apps.readNamespacedDeploymentScale(p, o) : this.#apps.readNamespacedStatefulSetScale(p, o),
    );
  }

  async replaceScale(ref: ObjectRef<'Deployment' | 'StatefulSet'>, scale: Scale, options: WriteOptions): Promise<Scale> {
    const body = { apiVersion: 'autoscaling/v1', kind: 'Scale', ...scale } as k8s.V1Scale;
    const p = { name: ref.name, namespace: ref.namespace, body, ...this.#writeParams(options) };
    const call = { verb: 'update', resource: qualifiedResource(ref.kind, 'scale'), name: ref.name, namespace: ref.namespace };
    return this.#call(call, options.signal, undefined, (o) =>
      ref.kind === 'Deployment' ? this.#apps.replaceNamespacedDeploymentScale(p, o) : this.#apps.replaceNamespacedStatefulSetScale(p, o),
    );
  }

  async listReplicaSets(namespace: string, labelSelector: string, options: ReadOptions): Promise<ReplicaSet[]> {
    return this.#list({ verb: 'list', resource: qualifiedResource('ReplicaSet'), namespace }, options.signal, (o, _continue) =>
      this.#apps.listNamespacedReplicaSet({ namespace, labelSelector, limit: 500, _continue }, o),
    );
  }

  async listPods(namespace: string, labelSelector: string, options: ReadOptions): Promise<Pod[]> {
    return this.#list({ verb: 'list', resource: 'pods', namespace }, options.signal, (o, _continue) =>
      this.#core.listNamespacedPod({ namespace, labelSelector, limit: 500, _continue }, o),
    );
  }

  async listEvents(namespace: string, options: ReadOptions & { fieldSelector?: string }): Promise<KubeEvent[]> {
    const fieldSelector = options.fieldSelector;
    return this.#list({ verb: 'list', resource: 'events', namespace }, options.signal, (o, _continue) =>
      this.#core.listNamespacedEvent({ namespace, fieldSelector, limit: 500, _continue }, o),
    );
  }

  async list(kind: ListKind, namespace: string | undefined, options: ReadOptions & { labelSelector?: string }): Promise<KubeObject[]> {
    const row: KindRow = KINDS[kind];
    if (row.scope === 'Namespaced' && !namespace)
      throw new RemediatorError('REM_ERR_INTERNAL', `list ${qualifiedResource(kind)}: a namespaced kind needs a namespace`);
    const ns = namespace as string;
    const labelSelector = options.labelSelector;
    const call: KubeCall = { verb: 'list', resource: qualifiedResource(kind), ...(row.scope === 'Namespaced' ? { namespace: ns } : {}) };
    const q = (_continue: string | undefined) => ({ namespace: ns, labelSelector, limit: 500, _continue });
    const c = (_continue: string | undefined) => ({ labelSelector, limit: 500, _continue });
    const page = (o: k8s.ConfigurationOptions, t: string | undefined): Promise<unknown> => {
      switch (kind) {
        case 'Deployment':
          return this.#apps.listNamespacedDeployment(q(t), o);
        case 'StatefulSet':
          return this.#apps.listNamespacedStatefulSet(q(t), o);
        case 'DaemonSet':
          return this.#apps.listNamespacedDaemonSet(q(t), o);
        case 'ReplicaSet':
          return this.#apps.listNamespacedReplicaSet(q(t), o);
        case 'Pod':
          return this.#core.listNamespacedPod(q(t), o);
        case 'Service':
          return this.#core.listNamespacedService(q(t), o);
        case 'ConfigMap':
          return this.#core.listNamespacedConfigMap(q(t), o);
        case 'Secret':
          return this.#core.listNamespacedSecret(q(t), o);
        case 'PersistentVolumeClaim':
          return this.#core.listNamespacedPersistentVolumeClaim(q(t), o);
        case 'PersistentVolume':
          return this.#core.listPersistentVolume(c(t), o);
        case 'Node':
          return this.#core.listNode(c(t), o);
        case 'Endpoints':
          return this.#core.listNamespacedEndpoints(q(t), o);
        case 'EndpointSlice':
          return this.#discovery.listNamespacedEndpointSlice(q(t), o);
      }
    };
    const items = await this.#list<KubeObject>(call, options.signal, page);
    return kind === 'Secret' ? items.map(withoutSecretData) : items;
  }

  async readLog(namespace: string, pod: string, options: LogOptions): Promise<string> {
    const p = {
      name: pod,
      namespace,
      container: options.container,
      previous: options.previous,
      tailLines: options.tailLines,
      limitBytes: options.limitBytes,
    };
    const call = { verb: 'get', resource: 'pods/log', name: pod, namespace };
    const text = await this.#call(call, options.signal, undefined, (o) => this.#core.readNamespacedPodLog(p, o));
    return typeof text === 'string' ? text : String(text ?? '');
  }

  async deletePod(
    namespace: string,
    name: string,
    preconditions: { uid: string; resourceVersion?: string },
    options: WriteOptions,
  ): Promise<void> {
    const dryRun = options.dryRun ? ['All'] : undefined;
    const body: k8s.V1DeleteOptions = { preconditions, propagationPolicy: 'Background', ...(dryRun ? { dryRun } : {}) };
    const p = { name, namespace, body, dryRun: options.dryRun ? 'All' : undefined };
    await this.#call({ verb: 'delete', resource: 'pods', name, namespace }, options.signal, undefined, (o) =>
      this.#core.deleteNamespacedPod(p, o),
    );
  }

  async apply(object: KubeObject, options: WriteOptions & { force?: boolean }): Promise<KubeObject> {
    const call = {
      verb: 'patch',
      resource: `${object.kind ?? '?'} (${object.apiVersion ?? '?'})`,
      name: object.metadata.name,
      namespace: object.metadata.namespace,
    };
    // KubernetesObjectApi resolves the resource by discovery and ignores per-call middleware, so the call's bounded
    // signal goes into the static middleware of a client made for this call (apply is rare; discovery is one extra GET).
    const spec = object as k8s.KubernetesObject;
    return this.#call(call, options.signal, undefined, (_, signal) => {
      const config = k8s.createConfiguration({
        baseServer: new k8s.ServerConfiguration(this.#kc.getCurrentCluster()?.server ?? '', {}),
        authMethods: { default: this.#kc },
        middleware: [this.#middleware(signal), k8s.setHeaderMiddleware('User-Agent', this.#userAgent)],
      });
      return new k8s.KubernetesObjectApi(config).patch(
        spec,
        undefined,
        options.dryRun ? 'All' : undefined,
        options.fieldManager ?? this.#fieldManager,
        options.force,
        k8s.PatchStrategy.ServerSideApply,
      );
    });
  }

  async createEvent(event: NewEvent, options: WriteOptions): Promise<KubeEvent> {
    const now = new Date();
    const name = event.name ?? `${event.involvedObject.name}.${(now.getTime() * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: event.namespace, ...(event.annotations ? { annotations: event.annotations } : {}) },
      involvedObject: event.involvedObject,
      reason: event.reason,
      message: event.message,
      type: event.type ?? 'Normal',
      source: { component: 'remediator' },
      reportingComponent: 'remediator',
      reportingInstance: process.env.HOSTNAME ?? 'remediator',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    } as k8s.CoreV1Event;
    const p = { namespace: event.namespace, body, ...this.#writeParams(options) };
    return this.#call({ verb: 'create', resource: 'events', name, namespace: event.namespace }, options.signal, undefined, (o) =>
      this.#core.createNamespacedEvent(p, o),
    );
  }

  async getEvent(namespace: string, name: string, options: ReadOptions): Promise<KubeEvent> {
    return this.#call({ verb: 'get', resource: 'events', name, namespace }, options.signal, undefined, (o) =>
      this.#core.readNamespacedEvent({ name, namespace }, o),
    );
  }

  async canI(check: AccessCheck, options: ReadOptions): Promise<AccessAnswer> {
    const body: k8s.V1SelfSubjectAccessReview = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: {
        resourceAttributes: {
          verb: check.verb,
          group: check.group,
          resource: check.resource,
          subresource: check.subresource,
          namespace: check.namespace,
          name: check.name,
        },
      },
    };
    const review = await this.#call(
      { verb: 'create', resource: 'selfsubjectaccessreviews.authorization.k8s.io' },
      options.signal,
      undefined,
      (o) => this.#authz.createSelfSubjectAccessReview({ body }, o),
    );
    const status = (review as { status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string } }).status;
    const reason = status?.reason || status?.evaluationError || undefined;
    return reason === undefined ? { allowed: status?.allowed === true } : { allowed: status?.allowed === true, reason };
  }

  #writeParams(options: WriteOptions): { dryRun?: string; fieldManager: string } {
    const fieldManager = options.fieldManager ?? this.#fieldManager;
    return options.dryRun ? { dryRun: 'All', fieldManager } : { fieldManager };
  }

  #middleware(signal: AbortSignal): k8s.ObservableMiddleware {
    return {
      pre: (ctx: k8s.RequestContext) => {
        ctx.setSignal(signal);
        const created = ctx.getDispatcher();
        if (created !== undefined) {
          this.#dispatcher ??= created;
          ctx.setDispatcher(this.#dispatcher as typeof created);
        }
        return new k8s.Observable(Promise.resolve(ctx));
      },
      post: (res: k8s.ResponseContext) => new k8s.Observable(Promise.resolve(res)),
    };
  }

  /**
   * Runs one client call with its options and returns the answer as plain JSON, or throws it classified. `signal`:
   * the caller's, bounded by the request timeout and unhooked from it once the call settles (src/domain/linked-signal.ts);
   * the options carry it, and a client that ignores per-call options takes it from there.
   */
  async #call<T>(
    call: KubeCall,
    caller: AbortSignal,
    contentType: string | undefined,
    fn: (o: k8s.ConfigurationOptions, signal: AbortSignal) => Promise<unknown>,
  ): Promise<T> {
    caller.throwIfAborted();
    const deadline = linkedSignal([caller], { timeoutMs: this.#timeoutMs });
    let o: k8s.ConfigurationOptions = { middleware: [this.#middleware(deadline.signal)], middlewareMergeStrategy: 'append' };
    o = k8s.setHeaderOptions('User-Agent', this.#userAgent, o);
    if (contentType !== undefined) o = k8s.setHeaderOptions('Content-Type', contentType, o);
    try {
      return toPlain(await fn(o, deadline.signal)) as T;
    } catch (err) {
      throw classifyKubeError(err, call, caller);
    } finally {
      deadline.dispose();
    }
  }

  async #list<T>(
    call: KubeCall,
    caller: AbortSignal,
    page: (o: k8s.ConfigurationOptions, _continue: string | undefined) => Promise<unknown>,
  ): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const list = await this.#call<{ items?: T[]; metadata?: { _continue?: string; continue?: string } }>(call, caller, undefined, (o) =>
        page(o, token),
      );
      items.push(...(list.items ?? []));
      token = list.metadata?._continue ?? list.metadata?.continue;
      if (!token) return items;
    }
    throw new RemediatorError(
      'REM_ERR_KUBE_UNAVAILABLE',
      `list ${call.resource} in namespace "${call.namespace}": more than ${MAX_PAGES} pages`,
    );
  }
}

/**
 * A Secret as remediator keeps it: metadata and type, never the values. `kubectl apply` copies the whole object,
 * values included, into the last-applied annotation, so that annotation goes too.
 */
function withoutSecretData(secret: KubeObject): KubeObject {
  const { data: _data, stringData: _stringData, ...rest } = secret;
  const annotations = { ...(secret.metadata.annotations ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  return { ...rest, metadata: { ...secret.metadata, annotations } };
}

/**
 * client-node answers with model class instances (timestamps as Date); the port speaks the API's JSON. The round
 * trip turns Dates into RFC 3339 strings (with milliseconds) and drops undefined fields.
 */
function toPlain(value: unknown): unknown {
  return value === undefined || typeof value === 'string' ? value : JSON.parse(JSON.stringify(value));
}

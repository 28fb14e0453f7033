import { freePort } from '../dev/free-port.ts';
import { AccessRules, type DenyRule } from './access.ts';
import { ControllerManager } from './controllers.ts';
import { EventRecorder } from './events.ts';
import { Faults, type FaultController } from './faults.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { listenDual } from './listener.ts';
import { MetricsApi } from './metrics-api.ts';
import type { SimHooks } from './pod-lifecycle.ts';
import { podLogText } from './pod-logs.ts';
import { requireKind } from './resources.ts';
import { createRouter, type RecordedRequest } from './router.ts';
import { deploymentObject, ensureNamespace, seed, type DeploymentSpec, type SeedName } from './seed.ts';
import { applyDefaults } from './defaults.ts';
import { decodeSecret } from './secret-codec.ts';
import { ObjectStore, type Change } from './store.ts';

/**
 * kube-sim: a strict fake Kubernetes API server on loopback, good enough that real `kubectl` and
 * `@kubernetes/client-node` drive it through an ordinary kubeconfig. It serves discovery, core/v1 and apps/v1
 * workloads with resourceVersion concurrency, every patch type, watch streams, Status errors like the real server,
 * and runs a deployment controller and a kubelet so rollouts, crash loops and progress deadlines happen.
 */
export type { RecordedRequest } from './router.ts';
export type { FaultController, CrashMode, InjectedErrors } from './faults.ts';
export type { NodePressure } from './node-conditions.ts';
export type { Usage } from './metrics-api.ts';
export type { SimHooks } from './pod-lifecycle.ts';
export type { DeploymentSpec, NodeSpec, SeedName, VolumeSpec } from './seed.ts';
export { nodeObject, persistentVolumeClaimObject, persistentVolumeObject, secretObject } from './seed.ts';
export type { DenyRule } from './access.ts';
export type { Change } from './store.ts';

export interface KubeSimOptions {
  /** Port on 127.0.0.1; default: a free port. */
  port?: number;
  /** How long a new pod takes to become Ready; default 200 ms. */
  podReadyDelayMs?: number;
  /** How often a crash-looping container restarts (restartCount grows); default 500 ms. */
  crashLoopIntervalMs?: number;
  /** Bearer token clients must send; default 'sim-token'. Wrong or missing → 401 Status. */
  token?: string;
  /** Initial objects; default 'empty' (namespaces default, kube-system, kube-public). */
  seed?: SeedName;
  /** Keep a log of every request in `sim.requests`; default false. */
  logRequests?: boolean;
  /**
   * The clock Deployment progress deadlines are measured on; default the machine's. A clock that jumps (a virtual
   * one) must be followed by `timeMoved()` after each jump. Pod readiness and crash loops stay in real time.
   */
  clock?: { now(): number };
}

export interface KubeSim {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `https://127.0.0.1:PORT`: the same server over TLS (self-signed certificate). */
  tlsUrl: string;
  token: string;
  /**
   * Writes a kubeconfig (cluster with `insecure-skip-tls-verify: true`, user with the bearer token). It points at
   * `tlsUrl` by default because kubectl never sends a token over plain http; client-node works with either
   * (`scheme: 'http'` gives `url`).
   */
  writeKubeconfig(path: string, opts?: { context?: string; namespace?: string; scheme?: 'https' | 'http' }): Promise<void>;
  /** Every request when `logRequests` is on (method, path, query, content type, accept, body, answered status). */
  requests: RecordedRequest[];
  /** Direct state access for tests; bypasses the API (no resourceVersion checks, no RBAC, no faults). */
  get(kind: string, namespace: string, name: string): any | undefined;
  list(kind: string, namespace?: string): any[];
  /** Creates or replaces an object as the server would (uid, resourceVersion, creationTimestamp, defaults). */
  put(obj: any): any;
  /**
   * Calls `listener` with every change to the stored objects, in resourceVersion order, synchronously as it is made
   * (before any client can see it). A listener may write (`put`): its change is delivered after the current one, to
   * every listener. Returns the function that unsubscribes.
   */
  onChange(listener: (change: Change) => void): () => void;
  faults: FaultController;
  /** RBAC denial: matching requests get 403 Forbidden; SelfSubjectAccessReviews answer allowed: false. */
  denyAccess(rule: DenyRule): void;
  hooks: SimHooks;
  /** True while the controllers have something pending (a reconcile queued, a pod about to become Ready). */
  readonly busy: boolean;
  /** The clock of `options.clock` jumped: every Deployment's progress deadline is looked at again. */
  timeMoved(): void;
  /** Resolves when the controllers have nothing pending (every pod Ready, crash-looping, or never-ready by fault). */
  settle(options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startKubeSim(opts: KubeSimOptions = {}): Promise<KubeSim> {
  const token = opts.token ?? 'sim-token';
  const store = new ObjectStore();
  const faults = new Faults({ store });
  const access = new AccessRules();
  const events = new EventRecorder(store);
  const hooks: SimHooks = {};
  const requests: RecordedRequest[] = [];
  const controllers = new ControllerManager({
    store,
    events,
    faults,
    hooks,
    podReadyDelayMs: opts.podReadyDelayMs ?? 200,
    crashLoopIntervalMs: opts.crashLoopIntervalMs ?? 500,
    now: opts.clock ? () => opts.clock!.now() : Date.now,
  });
  const port = opts.port ?? (await freePort());
  const router = createRouter({
    store,
    token,
    faults,
    access,
    requests: opts.logRequests ? requests : undefined,
    serverAddress: () => `127.0.0.1:${port}`,
    metrics: new MetricsApi(store, () => faults.usage),
    podLog: (pod, o) => podLogText(pod, o, controllers.pods.crashModeOf(pod.metadata.uid)),
  });
  const listener = await listenDual(port, (req, res) => router.handle(req, res));

  seed(store, opts.seed ?? 'empty');
  controllers.resyncAll();

  const url = `http://127.0.0.1:${port}`;
  const tlsUrl = `https://127.0.0.1:${port}`;
  const sim: KubeSim = {
    url,
    tlsUrl,
    token,
    requests,
    faults,
    hooks,
    writeKubeconfig: (path, o = {}) => writeKubeconfig(path, o.scheme === 'http' ? url : tlsUrl, token, o),
    get: (kind, namespace, name) => {
      const t = requireKind(kind);
      return store.get(kind, t.namespaced ? namespace : '', name);
    },
    list: (kind, namespace) => {
      requireKind(kind);
      return store.list(kind, namespace);
    },
    put: (input) => {
      const t = requireKind(input.kind);
      const obj = structuredClone(input);
      obj.metadata ??= {};
      if (t.namespaced) {
        obj.metadata.namespace ??= 'default';
        ensureNamespace(store, obj.metadata.namespace);
      }
      decodeSecret(obj);
      applyDefaults(obj);
      const existing = store.get(t.kind, t.namespaced ? obj.metadata.namespace : '', obj.metadata.name);
      if (!existing) return store.create(obj);
      return store.update({
        ...obj,
        metadata: { ...obj.metadata, uid: existing.metadata.uid, resourceVersion: existing.metadata.resourceVersion },
      });
    },
    onChange: (listener) => store.subscribe(listener),
    denyAccess: (rule) => access.deny(rule),
    get busy() {
      return !controllers.idle;
    },
    timeMoved: () => controllers.recheckDeployments(),
    settle: async ({ timeoutMs = 30_000 } = {}) => {
      const deadline = Date.now() + timeoutMs;
      let quietChecks = 0;
      while (quietChecks < 3) {
        if (Date.now() > deadline) throw new Error(`kube-sim: controllers still busy after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
        quietChecks = controllers.idle ? quietChecks + 1 : 0;
      }
    },
    close: async () => {
      controllers.stop();
      router.closeWatches();
      await listener.close();
    },
  };
  return sim;
}

/** Adds a Deployment as `kubectl create deployment` would (label `app: <name>`); its controller then rolls it out. */
export function addDeployment(sim: KubeSim, spec: DeploymentSpec): any {
  return sim.put(deploymentObject(spec));
}

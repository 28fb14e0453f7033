import { applyDefaults } from './defaults.ts';
import { NODE_NAME } from './pod-lifecycle.ts';
import { nowRfc3339, type ObjectStore } from './store.ts';

/**
 * Seed data. `empty` has only the namespaces every cluster has and the one Node (`kube-sim-node`); `ai-ninja` adds the demo's application: four
 * two-replica Deployments with Services of the same names, a scaled-to-zero `phone-gateway-backup`, the
 * `app-config` ConfigMap, the `app-secrets` Secret, and the `call-recordings` claim bound to `pv-call-recordings`.
 */
export type SeedName = 'ai-ninja' | 'empty';

export interface DeploymentSpec {
  namespace: string;
  name: string;
  image: string;
  replicas?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  env?: Record<string, string>;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

export const AI_NINJA_NAMESPACE = 'ai-ninja';
export const AI_NINJA_APPS = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'] as const;

export function ensureNamespace(store: ObjectStore, name: string): void {
  if (store.has('Namespace', '', name)) return;
  const ns = { kind: 'Namespace', metadata: { name } };
  applyDefaults(ns);
  store.create(ns);
}

/** A Deployment object as `kubectl create deployment` would make it (label `app: <name>` unless labels are given). */
export function deploymentObject(spec: DeploymentSpec): any {
  const labels = spec.labels ?? { app: spec.name };
  const d: any = {
    kind: 'Deployment',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { ...labels },
      ...(spec.annotations ? { annotations: { ...spec.annotations } } : {}),
    },
    spec: {
      replicas: spec.replicas ?? 1,
      selector: { matchLabels: { ...labels } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          containers: [
            {
              name: spec.name,
              image: spec.image,
              ports: [{ containerPort: 8080, name: 'http' }],
              ...(spec.env ? { env: Object.entries(spec.env).map(([name, value]) => ({ name, value })) } : {}),
            },
          ],
        },
      },
      ...(spec.paused ? { paused: true } : {}),
      ...(spec.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: spec.progressDeadlineSeconds } : {}),
    },
    status: {},
  };
  applyDefaults(d);
  return d;
}

export function serviceObject(namespace: string, name: string, selector: Record<string, string>): any {
  const s = {
    kind: 'Service',
    metadata: { name, namespace, labels: { ...selector } },
    spec: { selector: { ...selector }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
  applyDefaults(s);
  return s;
}

export interface NodeSpec {
  name: string;
  /** `node-role.kubernetes.io/<role>` labels; default none (a worker). */
  roles?: string[];
  cpu?: string;
  memory?: string;
  pods?: string;
  ready?: boolean;
  unschedulable?: boolean;
}

/** A Node as a kubelet registers it: labels, capacity = allocatable, the four pressure/Ready conditions, nodeInfo. */
export function nodeObject(spec: NodeSpec): any {
  const capacity = { cpu: spec.cpu ?? '4', memory: spec.memory ?? '16Gi', pods: spec.pods ?? '110', 'ephemeral-storage': '100Gi' };
  const now = nowRfc3339();
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const ready = spec.ready ?? true;
  const n: any = {
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        ...Object.fromEntries((spec.roles ?? []).map((r) => [`node-role.kubernetes.io/${r}`, ''])),
      },
    },
    spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'], ...(spec.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity,
      allocatable: { ...capacity },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        ready
          ? condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
          : condition('Ready', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'),
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: spec.name },
      ],
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0-sim',
        containerRuntimeVersion: 'containerd://1.7.24',
        kubeletVersion: 'v1.32.4',
        kubeProxyVersion: 'v1.32.4',
      },
    },
  };
  applyDefaults(n);
  return n;
}

export function seed(store: ObjectStore, name: SeedName): void {
  for (const ns of ['default', 'kube-system', 'kube-public']) ensureNamespace(store, ns);
  // The node the simulated kubelet runs every pod on.
  store.create(nodeObject({ name: NODE_NAME, roles: ['control-plane'] }));
  if (name === 'empty') return;
  ensureNamespace(store, AI_NINJA_NAMESPACE);
  for (const app of AI_NINJA_APPS) {
    store.create(deploymentObject({ namespace: AI_NINJA_NAMESPACE, name: app, image: `ai-ninja/${app}:1.0.0`, replicas: 2 }));
    store.create(serviceObject(AI_NINJA_NAMESPACE, app, { app }));
  }
  store.create(
    deploymentObject({
      namespace: AI_NINJA_NAMESPACE,
      name: 'phone-gateway-backup',
      image: 'ai-ninja/phone-gateway-backup:1.0.0',
      replicas: 0,
    }),
  );
  store.create({
    kind: 'ConfigMap',
    metadata: { name: 'app-config', namespace: AI_NINJA_NAMESPACE },
    data: { DEGRADED_MODE: 'false', LOG_LEVEL: 'info', MAX_CONCURRENT_CALLS: '200', UPSTREAM_TIMEOUT_MS: '3000' },
  });
  // The credentials the runbook inspects (`kubectl get secret app-secrets -o yaml`); fake values.
  store.create(
    secretObject(AI_NINJA_NAMESPACE, 'app-secrets', {
      DB_HOST: 'postgres.ai-ninja.svc',
      DB_PORT: '5432',
      DB_USER: 'ai_ninja',
      DB_PASSWORD: 'sim-password',
      REDIS_HOST: 'redis.ai-ninja.svc',
      REDIS_PORT: '6379',
    }),
  );
  // Call recordings on a statically provisioned volume; the binder binds the claim.
  store.create(persistentVolumeObject({ name: 'pv-call-recordings', storage: '10Gi', storageClassName: 'manual' }));
  store.create(
    persistentVolumeClaimObject({ namespace: AI_NINJA_NAMESPACE, name: 'call-recordings', storage: '5Gi', storageClassName: 'manual' }),
  );
}

/** An Opaque Secret from plain strings (stored base64-encoded, as the API server stores stringData). */
export function secretObject(namespace: string, name: string, values: Record<string, string>, type = 'Opaque'): any {
  return {
    kind: 'Secret',
    metadata: { name, namespace },
    type,
    data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

export interface VolumeSpec {
  name: string;
  storage: string;
  storageClassName?: string;
  accessModes?: string[];
}

/** A hostPath PersistentVolume, as an administrator provisions one statically. */
export function persistentVolumeObject(spec: VolumeSpec): any {
  const pv = {
    kind: 'PersistentVolume',
    metadata: { name: spec.name },
    spec: {
      capacity: { storage: spec.storage },
      accessModes: spec.accessModes ?? ['ReadWriteOnce'],
      hostPath: { path: `/data/${spec.name}`, type: '' },
      ...(spec.storageClassName !== undefined ? { storageClassName: spec.storageClassName } : {}),
    },
    status: { phase: 'Pending' },
  };
  applyDefaults(pv);
  return pv;
}

export function persistentVolumeClaimObject(spec: VolumeSpec & { namespace: string }): any {
  const pvc = {
    kind: 'PersistentVolumeClaim',
    metadata: { name: spec.name, namespace: spec.namespace },
    spec: {
      accessModes: spec.accessModes ?? ['ReadWriteOnce'],
      resources: { requests: { storage: spec.storage } },
      ...(spec.storageClassName !== undefined ? { storageClassName: spec.storageClassName } : {}),
    },
    status: { phase: 'Pending' },
  };
  applyDefaults(pvc);
  return pvc;
}

import type { ObjectStore } from './store.ts';
import { applyDefaults } from './defaults.ts';

/**
 * Seed data. `empty` has only the namespaces every cluster has; `ai-ninja` adds the demo's application: four
 * two-replica Deployments with Services of the same names, a scaled-to-zero `phone-gateway-backup`, and the
 * `app-config` ConfigMap.
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
    metadata: { name: spec.name, namespace: spec.namespace, labels: { ...labels }, ...(spec.annotations ? { annotations: { ...spec.annotations } } : {}) },
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

export function seed(store: ObjectStore, name: SeedName): void {
  for (const ns of ['default', 'kube-system', 'kube-public']) ensureNamespace(store, ns);
  if (name === 'empty') return;
  ensureNamespace(store, AI_NINJA_NAMESPACE);
  for (const app of AI_NINJA_APPS) {
    store.create(deploymentObject({ namespace: AI_NINJA_NAMESPACE, name: app, image: `ai-ninja/${app}:1.0.0`, replicas: 2 }));
    store.create(serviceObject(AI_NINJA_NAMESPACE, app, { app }));
  }
  store.create(deploymentObject({ namespace: AI_NINJA_NAMESPACE, name: 'phone-gateway-backup', image: 'ai-ninja/phone-gateway-backup:1.0.0', replicas: 0 }));
  store.create({
    kind: 'ConfigMap',
    metadata: { name: 'app-config', namespace: AI_NINJA_NAMESPACE },
    data: { DEGRADED_MODE: 'false', LOG_LEVEL: 'info', MAX_CONCURRENT_CALLS: '200', UPSTREAM_TIMEOUT_MS: '3000' },
  });
}

import { createHash } from 'node:crypto';
import { parseQuantity } from '../kube/quantity.ts';
import { apiVersionOf, requireKind, type ResourceType } from './resources.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { notFound } from './status.ts';
import type { ObjectStore } from './store.ts';
import { nowRfc3339 } from './store.ts';

/**
 * The resource metrics API (metrics.k8s.io/v1beta1) as metrics-server serves it, for `kubectl top pods|nodes`:
 * PodMetrics for running pods (one usage per running container), NodeMetrics for every node (what its pods use plus
 * the system's own share). Usage is simulated: a steady baseline per container (a third of its CPU request and
 * 60% of its memory request, or 5m / 48Mi without requests, varied a little per pod), overridden by `faults.podUsage`.
 * Pods that are not running have no metrics, so `get` answers NotFound for them, as metrics-server does.
 */
export interface Usage {
  /** CPU cores as a quantity (`950m`, `2`). */
  cpu?: string;
  /** Memory bytes as a quantity (`1800Mi`). */
  memory?: string;
}

export interface UsageOverride {
  namespace: string;
  /** A label selector string (`app=web`); empty selects every pod of the namespace. */
  selector: string;
  usage: Usage;
}

const SYSTEM_CPU_MILLI = 150;
const SYSTEM_MEMORY_BYTES = 1200 * 2 ** 20;

/** A steady factor in [0.9, 1.1) from the pod's uid, so pods of one Deployment do not all read the same (the
 * baseline only: an override is what the test asked for). */
function spread(uid: string): number {
  return 0.9 + (createHash('sha256').update(uid).digest()[0]! / 255) * 0.2;
}

function containerUsage(pod: any, container: any, override: Usage | undefined): { cpuMilli: number; memoryBytes: number } {
  const count = Math.max(1, (pod.spec?.containers ?? []).length);
  const f = spread(pod.metadata.uid);
  const requests = container.resources?.requests ?? {};
  const cpuReq = typeof requests.cpu === 'string' ? parseQuantity(requests.cpu) : undefined;
  const memReq = typeof requests.memory === 'string' ? parseQuantity(requests.memory) : undefined;
  const cpuMilli =
    override?.cpu !== undefined
      ? ((parseQuantity(override.cpu) ?? 0) * 1000) / count
      : (cpuReq !== undefined ? (cpuReq * 1000) / 3 : 5) * f;
  const memoryBytes =
    override?.memory !== undefined
      ? (parseQuantity(override.memory) ?? 0) / count
      : (memReq !== undefined ? memReq * 0.6 : 48 * 2 ** 20) * f;
  return { cpuMilli: Math.max(1, Math.round(cpuMilli)), memoryBytes: Math.round(memoryBytes) };
}

const cpu = (milli: number): string => `${Math.round(milli * 1e6)}n`;
const memory = (bytes: number): string => `${Math.round(bytes / 1024)}Ki`;

export class MetricsApi {
  #store: ObjectStore;
  #overrides: () => readonly UsageOverride[];

  constructor(store: ObjectStore, overrides: () => readonly UsageOverride[]) {
    this.#store = store;
    this.#overrides = overrides;
  }

  #override(pod: any): Usage | undefined {
    let found: Usage | undefined;
    for (const o of this.#overrides()) {
      if (o.namespace !== pod.metadata.namespace) continue;
      if (parseLabelSelector(o.selector)(pod)) found = { ...found, ...o.usage };
    }
    return found;
  }

  /** Running containers' usage (crash-looping or waiting containers have none). */
  #podUsage(pod: any): { name: string; cpuMilli: number; memoryBytes: number }[] | undefined {
    if (pod.status?.phase !== 'Running') return undefined;
    const override = this.#override(pod);
    const running = new Set((pod.status.containerStatuses ?? []).filter((s: any) => s.state?.running).map((s: any) => s.name));
    const out = (pod.spec?.containers ?? [])
      .filter((c: any) => running.has(c.name))
      .map((c: any) => ({ name: c.name, ...containerUsage(pod, c, override) }));
    return out.length ? out : undefined;
  }

  #podMetrics(pod: any): any | undefined {
    const usage = this.#podUsage(pod);
    if (!usage) return undefined;
    return {
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: {
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        creationTimestamp: nowRfc3339(),
        labels: pod.metadata.labels ?? {},
      },
      timestamp: nowRfc3339(),
      window: '15s',
      containers: usage.map((u) => ({ name: u.name, usage: { cpu: cpu(u.cpuMilli), memory: memory(u.memoryBytes) } })),
    };
  }

  #nodeMetrics(node: any): any {
    let cpuMilli = SYSTEM_CPU_MILLI;
    let memoryBytes = SYSTEM_MEMORY_BYTES;
    for (const pod of this.#store.list('Pod')) {
      if (pod.spec?.nodeName !== node.metadata.name) continue;
      for (const u of this.#podUsage(pod) ?? []) {
        cpuMilli += u.cpuMilli;
        memoryBytes += u.memoryBytes;
      }
    }
    return {
      kind: 'NodeMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: node.metadata.name, creationTimestamp: nowRfc3339(), labels: node.metadata.labels ?? {} },
      timestamp: nowRfc3339(),
      window: '20s',
      usage: { cpu: cpu(cpuMilli), memory: memory(memoryBytes) },
    };
  }

  #all(t: ResourceType, namespace: string | undefined): any[] {
    if (t.kind === 'NodeMetrics') return this.#store.list('Node').map((n) => this.#nodeMetrics(n));
    return this.#store
      .list('Pod', namespace)
      .map((p) => this.#podMetrics(p))
      .filter(Boolean);
  }

  /**
   * One object's metrics. As in metrics-server: an object that does not exist is the core NotFound (`pods "x" not
   * found`); one that exists without metrics is `pods.metrics.k8s.io "ns/x" not found`.
   */
  get(t: ResourceType, namespace: string | undefined, name: string): any {
    const source = t.kind === 'NodeMetrics' ? requireKind('Node') : requireKind('Pod');
    const obj = this.#store.get(source.kind, source.namespaced ? (namespace ?? '') : '', name);
    if (!obj) throw notFound(source, name);
    const found = t.kind === 'NodeMetrics' ? this.#nodeMetrics(obj) : this.#podMetrics(obj);
    if (!found) throw notFound(t, source.namespaced ? `${namespace}/${name}` : name);
    return found;
  }

  list(t: ResourceType, namespace: string | undefined, labelSelector: string | null, fieldSelector: string | null): any {
    const byLabel = parseLabelSelector(labelSelector);
    const byField = parseFieldSelector(fieldSelector);
    const items = this.#all(t, namespace).filter((m) => byLabel(m) && byField(m));
    return { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata: {}, items };
  }
}

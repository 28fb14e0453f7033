import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { labelsMatch } from './selectors.ts';
import type { ObjectStore } from './store.ts';
import { nowRfc3339 } from './store.ts';

/**
 * The endpoints and endpointslice controllers: for every Service with a selector, the pods it selects that have an IP
 * and are not terminal, split into ready addresses and `notReadyAddresses` (by the pod's Ready condition, or all ready
 * with `publishNotReadyAddresses`), with each Service port resolved against the pod (a named `targetPort` looks up the
 * container port of that name; a pod without it is left out for that port). Endpoints group addresses by identical
 * port sets (RepackSubsets); EndpointSlices carry one endpoint per pod with `ready`/`serving`/`terminating`
 * conditions, owned by the Service, labelled `kubernetes.io/service-name`. A Service with no pods keeps an Endpoints
 * without subsets and one placeholder slice. Services without a selector are left to whoever writes their endpoints.
 */
const MANAGED_BY = 'endpointslice-controller.k8s.io';

interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

interface PodEndpoint {
  pod: any;
  ready: boolean;
  ports: EndpointPort[];
}

function resolvePort(pod: any, targetPort: unknown): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  if (typeof targetPort === 'string' && /^\d+$/.test(targetPort)) return Number(targetPort);
  for (const c of pod.spec?.containers ?? []) {
    const p = (c.ports ?? []).find((x: any) => x.name === targetPort);
    if (p) return p.containerPort;
  }
  return undefined;
}

function podEndpoints(svc: any, pods: any[]): PodEndpoint[] {
  const out: PodEndpoint[] = [];
  for (const pod of pods) {
    if (!pod.status?.podIP || pod.metadata.deletionTimestamp) continue;
    if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
    const ready =
      svc.spec.publishNotReadyAddresses === true ||
      (pod.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    const ports: EndpointPort[] = [];
    for (const sp of svc.spec.ports ?? []) {
      const port = resolvePort(pod, sp.targetPort ?? sp.port);
      if (port === undefined) continue;
      ports.push({
        ...(sp.name ? { name: sp.name } : {}),
        port,
        protocol: sp.protocol ?? 'TCP',
        ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
      });
    }
    // A headless Service without ports still lists its pods; a Service with ports skips pods no port resolves on.
    if (ports.length === 0 && (svc.spec.ports ?? []).length > 0) continue;
    out.push({ pod, ready, ports });
  }
  return out.sort((a, b) => a.pod.status.podIP.localeCompare(b.pod.status.podIP, 'en', { numeric: true }));
}

function address(pod: any): any {
  return {
    ip: pod.status.podIP,
    nodeName: pod.spec.nodeName,
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
}

function groupByPorts(eps: PodEndpoint[]): { ports: EndpointPort[]; members: PodEndpoint[] }[] {
  const groups = new Map<string, { ports: EndpointPort[]; members: PodEndpoint[] }>();
  for (const e of eps) {
    const key = JSON.stringify(e.ports);
    const g = groups.get(key) ?? { ports: e.ports, members: [] };
    g.members.push(e);
    groups.set(key, g);
  }
  return [...groups.values()];
}

function subsets(eps: PodEndpoint[]): any[] {
  return groupByPorts(eps).map(({ ports, members }) => {
    const ready = members.filter((m) => m.ready).map((m) => address(m.pod));
    const notReady = members.filter((m) => !m.ready).map((m) => address(m.pod));
    return {
      ...(ready.length ? { addresses: ready } : {}),
      ...(notReady.length ? { notReadyAddresses: notReady } : {}),
      ...(ports.length ? { ports } : {}),
    };
  });
}

function sliceEndpoints(members: PodEndpoint[]): any[] {
  return members.map((m) => ({
    addresses: [m.pod.status.podIP],
    conditions: { ready: m.ready, serving: m.ready, terminating: false },
    nodeName: m.pod.spec.nodeName,
    targetRef: { kind: 'Pod', namespace: m.pod.metadata.namespace, name: m.pod.metadata.name, uid: m.pod.metadata.uid },
  }));
}

function slicePorts(ports: EndpointPort[]): any[] {
  return ports.map((p) => ({
    name: p.name ?? '',
    port: p.port,
    protocol: p.protocol,
    ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
  }));
}

function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

export class EndpointsController {
  #store: ObjectStore;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  /**
   * Services of the namespace whose endpoints a pod change may move: every one with a selector, since a relabelled
   * pod may have left a selector it no longer matches.
   */
  servicesIn(namespace: string): string[] {
    return this.#store
      .list('Service', namespace, (s) => s.spec?.selector && Object.keys(s.spec.selector).length > 0)
      .map((s) => s.metadata.name);
  }

  reconcile(namespace: string, name: string): void {
    const svc = this.#store.get('Service', namespace, name);
    const slices = this.#store.list(
      'EndpointSlice',
      namespace,
      (s) =>
        s.metadata.labels?.['kubernetes.io/service-name'] === name &&
        s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === MANAGED_BY,
    );
    if (!svc?.spec?.selector || Object.keys(svc.spec.selector).length === 0) {
      // Endpoints this controller wrote (they carry its trigger-time annotation) go with their Service.
      const ep = svc ? undefined : this.#store.get('Endpoints', namespace, name);
      if (ep?.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']) this.#store.delete('Endpoints', namespace, name);
      for (const s of slices) this.#store.delete('EndpointSlice', namespace, s.metadata.name);
      return;
    }
    const pods = this.#store.list('Pod', namespace, (p) => labelsMatch(svc.spec.selector, p.metadata.labels));
    const eps = podEndpoints(svc, pods);
    const labels = { ...(svc.metadata.labels ?? {}), ...(svc.spec.clusterIP === 'None' ? { 'service.kubernetes.io/headless': '' } : {}) };
    this.#writeEndpoints(svc, subsets(eps), labels);
    this.#writeSlices(svc, eps, slices, labels);
  }

  #writeEndpoints(svc: any, wanted: any[], labels: Record<string, string>): void {
    const { namespace, name } = svc.metadata;
    const current = this.#store.get('Endpoints', namespace, name);
    const stamp = { 'endpoints.kubernetes.io/last-change-trigger-time': nowRfc3339() };
    if (!current) {
      this.#store.create({
        kind: 'Endpoints',
        metadata: { name, namespace, labels, annotations: stamp },
        ...(wanted.length ? { subsets: wanted } : {}),
      });
      return;
    }
    if (isDeepStrictEqual(current.subsets ?? [], wanted) && isDeepStrictEqual(current.metadata.labels ?? {}, labels)) return;
    current.metadata.labels = labels;
    current.metadata.annotations = { ...(current.metadata.annotations ?? {}), ...stamp };
    if (wanted.length) current.subsets = wanted;
    else delete current.subsets;
    this.#store.update(current);
  }

  #writeSlices(svc: any, eps: PodEndpoint[], existing: any[], svcLabels: Record<string, string>): void {
    const { namespace, name, uid } = svc.metadata;
    const groups = groupByPorts(eps);
    // No pods: one placeholder slice with neither endpoints nor ports, as the real controller keeps.
    const wanted = groups.length
      ? groups.map((g) => ({ ports: slicePorts(g.ports), endpoints: sliceEndpoints(g.members) }))
      : [{ ports: [], endpoints: [] }];
    const labels = { ...svcLabels, 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY };
    const owner = { apiVersion: 'v1', kind: 'Service', name, uid, controller: true, blockOwnerDeletion: true };
    const spare = [...existing];
    for (const w of wanted) {
      // Reuse the slice that already carries these ports, else any spare one, else create a new one.
      const i = spare.findIndex((s) => isDeepStrictEqual(s.ports ?? [], w.ports));
      const slice = i >= 0 ? spare.splice(i, 1)[0] : spare.shift();
      const body = { addressType: 'IPv4', endpoints: w.endpoints, ports: w.ports };
      if (!slice) {
        this.#store.create({
          kind: 'EndpointSlice',
          metadata: {
            name: `${name}-${suffix()}`,
            generateName: `${name}-`,
            namespace,
            labels,
            annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': nowRfc3339() },
            ownerReferences: [owner],
          },
          ...body,
        });
        continue;
      }
      if (
        isDeepStrictEqual(slice.endpoints ?? [], body.endpoints) &&
        isDeepStrictEqual(slice.ports ?? [], body.ports) &&
        isDeepStrictEqual(slice.metadata.labels, labels)
      )
        continue;
      slice.metadata.labels = labels;
      slice.metadata.annotations = {
        ...(slice.metadata.annotations ?? {}),
        'endpoints.kubernetes.io/last-change-trigger-time': nowRfc3339(),
      };
      slice.metadata.ownerReferences = [owner];
      this.#store.update({ ...slice, ...body });
    }
    for (const s of spare) this.#store.delete('EndpointSlice', namespace, s.metadata.name);
  }
}

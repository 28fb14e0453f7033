import { labelSelectorString } from './selectors.ts';
import type { ResourceType } from './resources.ts';

/**
 * Server-side printing: when a client asks for `as=Table` (kubectl get does), answer a meta.k8s.io/v1 Table with the
 * columns the real server's printers produce (pkg/printers/internalversion/printers.go), so `kubectl get` shows
 * READY/STATUS/RESTARTS and not just NAME/AGE.
 */
interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
}

const col = (name: string, type = 'string', priority = 0, format = ''): Column => ({ name, type, format, description: name, priority });
const NAME = col('Name', 'string', 0, 'name');
const AGE = col('Age');

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 0) return '0s';
  if (s < 60 * 2) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return `${d}d`;
}

function age(ts: string | undefined): string {
  if (!ts) return '<unknown>';
  return humanDuration(Date.now() - Date.parse(ts));
}

function containersOf(template: any): { names: string; images: string } {
  const cs: any[] = template?.spec?.containers ?? [];
  return { names: cs.map((c) => c.name).join(','), images: cs.map((c) => c.image).join(',') };
}

/** The STATUS column of `kubectl get pods`. */
export function podStatusReason(pod: any): string {
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  let initializing = false;
  for (const cs of pod.status?.initContainerStatuses ?? []) {
    if (cs.state?.terminated?.exitCode === 0) continue;
    initializing = true;
    reason = cs.state?.waiting?.reason ? `Init:${cs.state.waiting.reason}` : 'Init:0/1';
  }
  if (!initializing) {
    let hasRunning = false;
    for (const cs of [...(pod.status?.containerStatuses ?? [])].reverse()) {
      if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
      else if (cs.state?.terminated?.reason) reason = cs.state.terminated.reason;
      else if (cs.state?.terminated)
        reason = cs.state.terminated.signal ? `Signal:${cs.state.terminated.signal}` : `ExitCode:${cs.state.terminated.exitCode}`;
      else if (cs.ready && cs.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (pod.metadata?.deletionTimestamp) reason = 'Terminating';
  return reason;
}

function podRow(pod: any): unknown[] {
  const statuses: any[] = pod.status?.containerStatuses ?? [];
  const total = pod.spec?.containers?.length ?? 0;
  const ready = statuses.filter((c) => c.ready).length;
  const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const lastRestart = statuses
    .map((c) => c.lastState?.terminated?.finishedAt)
    .filter(Boolean)
    .sort()
    .at(-1);
  const restartCell = restarts > 0 && lastRestart ? `${restarts} (${age(lastRestart)} ago)` : restarts;
  return [
    pod.metadata.name,
    `${ready}/${total}`,
    podStatusReason(pod),
    restartCell,
    age(pod.metadata.creationTimestamp),
    pod.status?.podIP ?? '<none>',
    pod.spec?.nodeName ?? '<none>',
    '<none>',
    '<none>',
  ];
}

/** The STATUS column of `kubectl get nodes`: the Ready condition, then `SchedulingDisabled` for a cordoned node. */
function nodeStatus(n: any): string {
  const ready = (n.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const status = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'];
  if (n.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

/** The ROLES column: every `node-role.kubernetes.io/<role>` label (and `kubernetes.io/role`), or `<none>`. */
function nodeRoles(n: any): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries<string>(n.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort().join(',') || '<none>';
}

/** helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order. */
function accessModes(modes: string[] | undefined): string {
  const short: [string, string][] = [
    ['ReadWriteOnce', 'RWO'],
    ['ReadOnlyMany', 'ROX'],
    ['ReadWriteMany', 'RWX'],
    ['ReadWriteOncePod', 'RWOP'],
  ];
  return short
    .filter(([m]) => (modes ?? []).includes(m))
    .map(([, s]) => s)
    .join(',');
}

/** listWithMoreString: the first three, then ` + N more...`; `<unset>` when empty. */
function listWithMore(items: string[], empty: string): string {
  if (items.length > 3) return `${items.slice(0, 3).join(',')} + ${items.length - 3} more...`;
  return items.length ? items.join(',') : empty;
}

/** The ENDPOINTS column of `kubectl get endpoints`: ready addresses with each port (notReadyAddresses are not shown). */
function endpointsCell(e: any): string {
  const subsets: any[] = e.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  for (const ss of subsets) {
    const addrs: any[] = ss.addresses ?? [];
    if (!ss.ports?.length) list.push(...addrs.map((a) => a.ip));
    else for (const p of ss.ports) list.push(...addrs.map((a) => `${a.ip}:${p.port}`));
  }
  return list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
}

interface Printer {
  columns: Column[];
  row(obj: any): unknown[];
}

const PRINTERS: Record<string, Printer> = {
  Deployment: {
    columns: [
      NAME,
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    row: (d) => {
      const c = containersOf(d.spec?.template);
      return [
        d.metadata.name,
        `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
        d.status?.updatedReplicas ?? 0,
        d.status?.availableReplicas ?? 0,
        age(d.metadata.creationTimestamp),
        c.names,
        c.images,
        labelSelectorString(d.spec?.selector),
      ];
    },
  },
  ReplicaSet: {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    row: (r) => {
      const c = containersOf(r.spec?.template);
      return [
        r.metadata.name,
        r.spec?.replicas ?? 1,
        r.status?.replicas ?? 0,
        r.status?.readyReplicas ?? 0,
        age(r.metadata.creationTimestamp),
        c.names,
        c.images,
        labelSelectorString(r.spec?.selector),
      ];
    },
  },
  StatefulSet: {
    columns: [NAME, col('Ready'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1)],
    row: (s) => {
      const c = containersOf(s.spec?.template);
      return [
        s.metadata.name,
        `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`,
        age(s.metadata.creationTimestamp),
        c.names,
        c.images,
      ];
    },
  },
  DaemonSet: {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      col('Node Selector'),
      AGE,
    ],
    row: (s) => [
      s.metadata.name,
      s.status?.desiredNumberScheduled ?? 0,
      s.status?.currentNumberScheduled ?? 0,
      s.status?.numberReady ?? 0,
      s.status?.updatedNumberScheduled ?? 0,
      s.status?.numberAvailable ?? 0,
      '<none>',
      age(s.metadata.creationTimestamp),
    ],
  },
  Pod: {
    columns: [
      NAME,
      col('Ready'),
      col('Status'),
      col('Restarts'),
      AGE,
      col('IP', 'string', 1),
      col('Node', 'string', 1),
      col('Nominated Node', 'string', 1),
      col('Readiness Gates', 'string', 1),
    ],
    row: podRow,
  },
  Service: {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
    row: (s) => [
      s.metadata.name,
      s.spec?.type ?? 'ClusterIP',
      s.spec?.clusterIP ?? '<none>',
      '<none>',
      (s.spec?.ports ?? []).map((p: any) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>',
      age(s.metadata.creationTimestamp),
      Object.entries(s.spec?.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '<none>',
    ],
  },
  ConfigMap: {
    columns: [NAME, col('Data', 'integer'), AGE],
    row: (c) => [
      c.metadata.name,
      Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length,
      age(c.metadata.creationTimestamp),
    ],
  },
  Namespace: {
    columns: [NAME, col('Status'), AGE],
    row: (n) => [n.metadata.name, n.status?.phase ?? 'Active', age(n.metadata.creationTimestamp)],
  },
  Node: {
    columns: [
      NAME,
      col('Status'),
      col('Roles'),
      AGE,
      col('Version'),
      col('Internal-IP', 'string', 1),
      col('External-IP', 'string', 1),
      col('OS-Image', 'string', 1),
      col('Kernel-Version', 'string', 1),
      col('Container-Runtime', 'string', 1),
    ],
    row: (n) => {
      const address = (type: string) => (n.status?.addresses ?? []).find((a: any) => a.type === type)?.address ?? '<none>';
      const info = n.status?.nodeInfo ?? {};
      return [
        n.metadata.name,
        nodeStatus(n),
        nodeRoles(n),
        age(n.metadata.creationTimestamp),
        info.kubeletVersion ?? '',
        address('InternalIP'),
        address('ExternalIP'),
        info.osImage ?? '<unknown>',
        info.kernelVersion ?? '<unknown>',
        info.containerRuntimeVersion ?? '<unknown>',
      ];
    },
  },
  Event: {
    // The real column set: Name, Subobject, Source, First Seen and Count only with -o wide.
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Subobject', 'string', 1),
      col('Source', 'string', 1),
      col('Message'),
      col('First Seen', 'string', 1),
      col('Count', 'string', 1),
      col('Name', 'string', 1, 'name'),
    ],
    row: (e) => [
      age(e.lastTimestamp ?? e.eventTime),
      e.type ?? 'Normal',
      e.reason ?? '',
      `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`,
      e.involvedObject?.fieldPath ?? '',
      [e.source?.component, e.source?.host].filter(Boolean).join(', '),
      e.message ?? '',
      age(e.firstTimestamp ?? e.eventTime),
      String(e.count ?? 1),
      e.metadata.name,
    ],
  },

  Secret: {
    columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
    row: (s) => [s.metadata.name, s.type ?? 'Opaque', Object.keys(s.data ?? {}).length, age(s.metadata.creationTimestamp)],
  },
  PersistentVolume: {
    columns: [
      NAME,
      col('Capacity'),
      col('Access Modes'),
      col('Reclaim Policy'),
      col('Status'),
      col('Claim'),
      col('StorageClass'),
      col('VolumeAttributesClass'),
      col('Reason'),
      AGE,
      col('VolumeMode', 'string', 1),
    ],
    row: (v) => {
      const claim = v.spec?.claimRef ? `${v.spec.claimRef.namespace}/${v.spec.claimRef.name}` : '';
      const phase = v.metadata.deletionTimestamp ? 'Terminating' : (v.status?.phase ?? '');
      return [
        v.metadata.name,
        v.spec?.capacity?.storage ?? '',
        accessModes(v.spec?.accessModes),
        v.spec?.persistentVolumeReclaimPolicy ?? '',
        phase,
        claim,
        v.spec?.storageClassName ?? '',
        v.spec?.volumeAttributesClassName || '<unset>',
        v.status?.reason ?? '',
        age(v.metadata.creationTimestamp),
        v.spec?.volumeMode ?? '<unset>',
      ];
    },
  },
  PersistentVolumeClaim: {
    columns: [
      NAME,
      col('Status'),
      col('Volume'),
      col('Capacity'),
      col('Access Modes'),
      col('StorageClass'),
      col('VolumeAttributesClass'),
      AGE,
      col('VolumeMode', 'string', 1),
    ],
    row: (c) => {
      const bound = Boolean(c.spec?.volumeName);
      const phase = c.metadata.deletionTimestamp ? 'Terminating' : (c.status?.phase ?? '');
      return [
        c.metadata.name,
        phase,
        c.spec?.volumeName ?? '',
        bound ? (c.status?.capacity?.storage ?? '') : '',
        bound ? accessModes(c.status?.accessModes) : '',
        c.spec?.storageClassName ?? '',
        c.spec?.volumeAttributesClassName || '<unset>',
        age(c.metadata.creationTimestamp),
        c.spec?.volumeMode ?? '<unset>',
      ];
    },
  },
  Endpoints: {
    columns: [NAME, col('Endpoints'), AGE],
    row: (e) => [e.metadata.name, endpointsCell(e), age(e.metadata.creationTimestamp)],
  },
  EndpointSlice: {
    columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
    row: (s) => [
      s.metadata.name,
      s.addressType ?? '',
      listWithMore(
        (s.ports ?? []).map((p: any) => (p.port !== undefined && p.port !== null ? String(p.port) : (p.name ?? '*'))),
        '<unset>',
      ),
      listWithMore(
        (s.endpoints ?? []).flatMap((e: any) => e.addresses ?? []),
        '<unset>',
      ),
      age(s.metadata.creationTimestamp),
    ],
  },
  PodMetrics: {
    columns: [NAME, col('CPU'), col('Memory'), col('Window')],
    row: (m) => [
      m.metadata.name,
      (m.containers ?? []).map((c: any) => c.usage.cpu).join(','),
      (m.containers ?? []).map((c: any) => c.usage.memory).join(','),
      m.window,
    ],
  },
  NodeMetrics: {
    columns: [NAME, col('CPU'), col('Memory'), col('Window')],
    row: (m) => [m.metadata.name, m.usage.cpu, m.usage.memory, m.window],
  },
  NetworkPolicy: {
    columns: [NAME, col('Pod-Selector'), AGE],
    row: (n) => [n.metadata.name, labelSelectorString(n.spec?.podSelector) || '<none>', age(n.metadata.creationTimestamp)],
  },
};

const DEFAULT_PRINTER: Printer = {
  columns: [NAME, col('Created At', 'date')],
  row: (o) => [o.metadata.name, o.metadata.creationTimestamp],
};

export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}

/** A Table for a list (or one object), rows carrying PartialObjectMetadata as `includeObject=Metadata` does. */
export function toTable(t: ResourceType, objs: any[], resourceVersion: string, includeObject = 'Metadata'): unknown {
  const p = PRINTERS[t.kind] ?? DEFAULT_PRINTER;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: p.columns,
    rows: objs.map((o) => ({
      cells: p.row(o),
      object:
        includeObject === 'None'
          ? undefined
          : includeObject === 'Object'
            ? o
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

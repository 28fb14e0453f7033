import { Type, type Static } from '@sinclair/typebox';
import { defineAction, type ActionContext } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';
import { Duration, formatDuration, parseDuration } from '../domain/duration.ts';
import type { Cluster, KubeEvent, KubeObject, ListKind, Node, Workload } from '../ports/cluster.ts';
import { permission } from '../kube/kinds.ts';
import { kubeOf } from '../kube/step-kube.ts';
import { Namespace, ObjectName } from '../kube/step-params.ts';

const params = Type.Object(
  {
    namespace: Namespace,
    deployments: Type.Optional(
      Type.Array(ObjectName, {
        maxItems: 100,
        uniqueItems: true,
        description: 'The Deployments whose ConfigMaps, Secrets and claims are checked (default: every Deployment of the namespace).',
      }),
    ),
    since: Type.Optional(
      Duration({ description: 'How far back "what changed" looks: rollouts, ConfigMap and Secret writes, events (default 1h).' }),
    ),
    maxEvents: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 200,
        default: 20,
        description: 'Recent Warning events kept, and latest events of any type kept.',
      }),
    ),
    failOnInfrastructure: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Fail the step with REM_ERR_INFRASTRUCTURE when a cluster-level cause is found, so the playbook changes nothing and pages (onFailure).',
      }),
    ),
  },
  { additionalProperties: false },
);

type Params = Static<typeof params>;

/** Node conditions that mean the node itself is in trouble when True (Ready is the other way round). */
const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'] as const;
const REVISION = 'deployment.kubernetes.io/revision';

interface Reference {
  kind: 'ConfigMap' | 'Secret' | 'PersistentVolumeClaim';
  name: string;
  usedBy: string[];
  optional: boolean;
  present: boolean;
}

/**
 * The runbook's mode B (several services down: look at the cluster before the services) and the incident process's
 * first question (what changed in the last hour), as one record:
 *
 * - nodes: Ready, the pressure conditions, cordoned;
 * - recent Warning events of the namespace (and of nodes, whose events live in `default`);
 * - PersistentVolumeClaims and their phases, and the PersistentVolumes they are bound to;
 * - the ConfigMaps, Secrets and claims the Deployments reference (volumes, env, envFrom, image pull secrets),
 *   present or missing; a missing optional reference is shown but is no cause;
 * - changes since `since`: rollouts (ReplicaSets' revision and creation time), ConfigMap and Secret writes (their
 *   managedFields times, manager and operation), the latest events of any type.
 *
 * `causes` lists the cluster-level findings that explain services going down together: a node not Ready or under
 * pressure, a claim not Bound, a referenced ConfigMap or Secret missing. Secrets are read without their values (the
 * Cluster port drops them). A kind the identity may not list is noted in `unreadable`, never a failure.
 */
export const kubeClusterSnapshotAction = defineAction({
  name: 'kube.clusterSnapshot',
  summary:
    'Cluster diagnosis for many services down at once: nodes, pressure, Warning events, PV/PVC phases, referenced ConfigMaps/Secrets, and what changed in the last hour.',
  needs: ['kube'],
  params,
  mutates: () => null,
  permissions: (p) => [
    permission('list', 'Node'),
    permission('list', 'Event', p.namespace),
    permission('list', 'Event', 'default'),
    permission('list', 'PersistentVolumeClaim', p.namespace),
    permission('list', 'PersistentVolume'),
    permission('list', 'ConfigMap', p.namespace),
    permission('list', 'Secret', p.namespace),
    permission('list', 'Deployment', p.namespace),
    permission('list', 'ReplicaSet', p.namespace),
  ],
  async run(ctx) {
    const p = ctx.params;
    const now = ctx.clock.now();
    const sinceMs = p.since === undefined ? 3_600_000 : parseDuration(p.since);
    const from = now - sinceMs;
    const maxEvents = p.maxEvents ?? 20;
    const unreadable: string[] = [];
    const read = (kind: ListKind, namespace: string | undefined) => listOrNote(ctx, kind, namespace, unreadable);

    const [nodeObjs, pvcs, pvs, configMaps, secrets, deploymentObjs, replicaSets] = await Promise.all([
      read('Node', undefined),
      read('PersistentVolumeClaim', p.namespace),
      read('PersistentVolume', undefined),
      read('ConfigMap', p.namespace),
      read('Secret', p.namespace),
      read('Deployment', p.namespace),
      read('ReplicaSet', p.namespace),
    ]);
    const events = await readEvents(ctx, kubeOf(ctx), p.namespace, unreadable);

    const nodes = (nodeObjs as Node[] | undefined)?.map(nodeView) ?? [];
    const wanted = p.deployments === undefined ? undefined : new Set(p.deployments);
    const deployments = ((deploymentObjs ?? []) as Workload[]).filter((d) => wanted === undefined || wanted.has(d.metadata.name));
    const missingDeployments =
      p.deployments?.filter((n) => deploymentObjs !== undefined && !deployments.some((d) => d.metadata.name === n)) ?? [];

    const references = referencesOf(deployments, { ConfigMap: configMaps, Secret: secrets, PersistentVolumeClaim: pvcs });
    const claims = (pvcs ?? []).map((c) => {
      const spec = (c.spec ?? {}) as { volumeName?: string; storageClassName?: string };
      const status = (c.status ?? {}) as { phase?: string };
      return {
        name: c.metadata.name,
        phase: status.phase ?? 'Unknown',
        ...(spec.volumeName ? { volume: spec.volumeName } : {}),
        ...(spec.storageClassName ? { storageClass: spec.storageClassName } : {}),
      };
    });
    const volumes = (pvs ?? [])
      .map((v) => {
        const claimRef = ((v.spec ?? {}) as { claimRef?: { namespace?: string; name?: string } }).claimRef;
        return {
          name: v.metadata.name,
          phase: ((v.status ?? {}) as { phase?: string }).phase ?? 'Unknown',
          ...(claimRef?.name ? { claim: `${claimRef.namespace ?? ''}/${claimRef.name}` } : {}),
        };
      })
      .filter((v) => v.claim === undefined || v.claim.startsWith(`${p.namespace}/`));

    const causes: string[] = [];
    for (const n of nodes) {
      if (n.ready !== 'True')
        causes.push(`node ${n.name} NotReady${n.readyReason ? ` (${n.readyReason}${n.readyMessage ? `: ${n.readyMessage}` : ''})` : ''}`);
      for (const c of n.pressure) causes.push(`node ${n.name} has ${c}`);
    }
    for (const c of claims) if (c.phase !== 'Bound') causes.push(`PersistentVolumeClaim ${c.name} is ${c.phase}`);
    for (const v of volumes) if (v.phase === 'Failed') causes.push(`PersistentVolume ${v.name} is Failed`);
    for (const r of references)
      if (!r.present && !r.optional && r.kind !== 'PersistentVolumeClaim')
        causes.push(`${r.kind} ${r.name} is missing (used by ${r.usedBy.join(', ')})`);
    for (const r of references)
      if (!r.present && r.kind === 'PersistentVolumeClaim')
        causes.push(`PersistentVolumeClaim ${r.name} is missing (used by ${r.usedBy.join(', ')})`);

    const when = (e: KubeEvent) => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '';
    const eventView = (e: KubeEvent) => ({
      at: when(e),
      type: e.type,
      reason: e.reason,
      object: `${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}`,
      message: e.message,
      count: e.count,
    });
    const newest = [...events].sort((a, b) => (when(a) < when(b) ? 1 : when(a) > when(b) ? -1 : 0));
    const warnings = newest
      .filter((e) => e.type === 'Warning' && Date.parse(when(e)) >= from)
      .slice(0, maxEvents)
      .map(eventView);

    const changes = {
      since: new Date(from).toISOString(),
      rollouts: rolloutsOf(deployments, (replicaSets ?? []) as KubeObject[], from),
      configChanges: configChangesOf(
        [
          ...(configMaps ?? []).map((o) => ({ kind: 'ConfigMap' as const, o })),
          ...(secrets ?? []).map((o) => ({ kind: 'Secret' as const, o })),
        ],
        references,
        from,
      ),
      events: newest
        .filter((e) => Date.parse(when(e)) >= from)
        .slice(0, maxEvents)
        .map(eventView),
    };

    const output = {
      namespace: p.namespace,
      takenAt: new Date(now).toISOString(),
      infrastructure: causes.length > 0,
      causes,
      nodes,
      warnings,
      storage: { claims, volumes },
      references,
      deployments: deployments.map((d) => d.metadata.name),
      ...(missingDeployments.length ? { missingDeployments } : {}),
      changes,
      ...(unreadable.length ? { unreadable } : {}),
    };
    const ready = nodes.filter((n) => n.ready === 'True').length;
    const changed = `last ${formatDuration(sinceMs)}: ${changes.rollouts.length} rollout${changes.rollouts.length === 1 ? '' : 's'}, ${changes.configChanges.length} ConfigMap/Secret change${changes.configChanges.length === 1 ? '' : 's'}`;
    const summary =
      causes.length > 0
        ? `infrastructure: ${causes.join('; ')}; ${changed}`
        : `no cluster-level cause: ${ready} of ${nodes.length} nodes Ready, ${claims.length} claims Bound, ${references.filter((r) => r.present).length} references present, ${warnings.length} Warning events; ${changed}`;
    if (causes.length > 0 && p.failOnInfrastructure) throw new RemediatorError('REM_ERR_INFRASTRUCTURE', summary, { details: output });
    return { status: 'ok', output, summary };
  },
});

async function listOrNote(
  ctx: ActionContext<Params>,
  kind: ListKind,
  namespace: string | undefined,
  unreadable: string[],
): Promise<KubeObject[] | undefined> {
  try {
    return await kubeOf(ctx).list(kind, namespace, { signal: ctx.signal });
  } catch (err) {
    if (err instanceof RemediatorError && (err.code === 'REM_ERR_KUBE_FORBIDDEN' || err.code === 'REM_ERR_KUBE_NOT_FOUND')) {
      unreadable.push(`${kind}: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

/** The namespace's events, and the node events kubelet leaves in `default`. */
async function readEvents(ctx: ActionContext<Params>, kube: Cluster, namespace: string, unreadable: string[]): Promise<KubeEvent[]> {
  const out: KubeEvent[] = [];
  for (const ns of namespace === 'default' ? [namespace] : [namespace, 'default']) {
    try {
      const events = await kube.listEvents(ns, { signal: ctx.signal });
      out.push(...(ns === namespace ? events : events.filter((e) => e.involvedObject.kind === 'Node')));
    } catch (err) {
      if (err instanceof RemediatorError && err.code === 'REM_ERR_KUBE_FORBIDDEN') unreadable.push(`Event in ${ns}: ${err.message}`);
      else throw err;
    }
  }
  return out;
}

function nodeView(n: Node) {
  const conditions = n.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  return {
    name: n.metadata.name,
    ready: ready?.status ?? 'Unknown',
    ...(ready && ready.status !== 'True' && ready.reason ? { readyReason: ready.reason } : {}),
    ...(ready && ready.status !== 'True' && ready.message ? { readyMessage: ready.message } : {}),
    ...(ready?.lastTransitionTime ? { readySince: ready.lastTransitionTime } : {}),
    pressure: conditions.filter((c) => (PRESSURE as readonly string[]).includes(c.type) && c.status === 'True').map((c) => c.type),
    unschedulable: n.spec?.unschedulable === true,
    ...(n.status?.allocatable ? { allocatable: n.status.allocatable } : {}),
  };
}

type RefKind = Reference['kind'];

/** The parts of a pod template that name ConfigMaps, Secrets and claims (read defensively: any may be absent). */
interface NameRef {
  name?: string;
  optional?: boolean;
}
interface PodSpecRefs {
  volumes?: Array<{
    configMap?: NameRef;
    secret?: { secretName?: string; optional?: boolean };
    persistentVolumeClaim?: { claimName?: string };
    projected?: { sources?: Array<{ configMap?: NameRef; secret?: NameRef }> };
  }>;
  imagePullSecrets?: Array<{ name?: string }>;
  initContainers?: ContainerRefs[];
  containers?: ContainerRefs[];
}
interface ContainerRefs {
  env?: Array<{ valueFrom?: { configMapKeyRef?: NameRef; secretKeyRef?: NameRef } }>;
  envFrom?: Array<{ configMapRef?: NameRef; secretRef?: NameRef }>;
}

/** Every ConfigMap, Secret and claim the Deployments' pod templates name, with whether it exists. */
function referencesOf(deployments: Workload[], existing: Record<RefKind, KubeObject[] | undefined>): Reference[] {
  const refs = new Map<string, Reference>();
  const add = (kind: RefKind, name: string | undefined, by: string, optional: boolean | undefined) => {
    if (!name) return;
    const key = `${kind}/${name}`;
    const have = existing[kind];
    const r = refs.get(key) ?? {
      kind,
      name,
      usedBy: [],
      optional: true,
      present: have === undefined ? true : have.some((o) => o.metadata.name === name),
    };
    if (!r.usedBy.includes(by)) r.usedBy.push(by);
    // Optional only when every user marks it optional.
    r.optional = r.optional && optional === true;
    refs.set(key, r);
  };
  for (const d of deployments) {
    const by = d.metadata.name;
    const spec = (d.spec.template.spec ?? {}) as PodSpecRefs;
    for (const v of spec.volumes ?? []) {
      add('ConfigMap', v.configMap?.name, by, v.configMap?.optional);
      add('Secret', v.secret?.secretName, by, v.secret?.optional);
      add('PersistentVolumeClaim', v.persistentVolumeClaim?.claimName, by, false);
      for (const s of v.projected?.sources ?? []) {
        add('ConfigMap', s.configMap?.name, by, s.configMap?.optional);
        add('Secret', s.secret?.name, by, s.secret?.optional);
      }
    }
    for (const ps of spec.imagePullSecrets ?? []) add('Secret', ps.name, by, false);
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      for (const e of c.env ?? []) {
        add('ConfigMap', e.valueFrom?.configMapKeyRef?.name, by, e.valueFrom?.configMapKeyRef?.optional);
        add('Secret', e.valueFrom?.secretKeyRef?.name, by, e.valueFrom?.secretKeyRef?.optional);
      }
      for (const f of c.envFrom ?? []) {
        add('ConfigMap', f.configMapRef?.name, by, f.configMapRef?.optional);
        add('Secret', f.secretRef?.name, by, f.secretRef?.optional);
      }
    }
  }
  // A reference is "present" only as far as the list could tell; an unreadable kind counts as present (not a cause).
  return [...refs.values()].map((r) => ({ ...r, optional: r.optional }));
}

/** `kubectl rollout history` with times: each Deployment's ReplicaSets created since `from`, newest first. */
function rolloutsOf(deployments: Workload[], replicaSets: KubeObject[], from: number) {
  const uids = new Map(deployments.map((d) => [d.metadata.uid, d.metadata.name]));
  const names = new Set(deployments.map((d) => d.metadata.name));
  const out = [];
  for (const rs of replicaSets) {
    const owner = (rs.metadata.ownerReferences ?? []).find((o) => o.kind === 'Deployment' && (uids.has(o.uid) || names.has(o.name)));
    if (!owner) continue;
    const created = rs.metadata.creationTimestamp ?? '';
    if (!created || Date.parse(created) < from) continue;
    const template = (
      (rs.spec ?? {}) as {
        template?: { spec?: { containers?: Array<{ image?: string }> }; metadata?: { annotations?: Record<string, string> } };
      }
    ).template;
    const restartedAt = template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
    out.push({
      deployment: owner.name,
      revision: Number(rs.metadata.annotations?.[REVISION] ?? 0),
      replicaSet: rs.metadata.name,
      createdAt: created,
      images: (template?.spec?.containers ?? []).map((c) => c.image ?? ''),
      ...(restartedAt ? { restartedAt } : {}),
    });
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/** ConfigMap and Secret writes since `from`, from their managedFields (who, how, when) and creation time. */
function configChangesOf(objects: Array<{ kind: 'ConfigMap' | 'Secret'; o: KubeObject }>, references: Reference[], from: number) {
  const out = [];
  for (const { kind, o } of objects) {
    const fields = (o.metadata.managedFields ?? []) as Array<{ manager?: string; operation?: string; time?: string }>;
    const writes = fields
      .filter((f) => f.time && Date.parse(f.time) >= from)
      .map((f) => ({ at: f.time!, manager: f.manager ?? '', operation: f.operation ?? '' }));
    const created = o.metadata.creationTimestamp;
    if (writes.length === 0 && !(created && Date.parse(created) >= from)) continue;
    const latest = writes.sort((a, b) => (a.at < b.at ? 1 : -1))[0];
    const usedBy = references.find((r) => r.kind === kind && r.name === o.metadata.name)?.usedBy ?? [];
    out.push({
      kind,
      name: o.metadata.name,
      at: latest?.at ?? created!,
      ...(latest ? { manager: latest.manager, operation: latest.operation } : { operation: 'Create' }),
      ...(created ? { createdAt: created } : {}),
      usedBy,
    });
  }
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

import { randomBytes } from 'node:crypto';
import type { EventRecorder } from './events.ts';
import type { ObjectStore } from './store.ts';

/**
 * The ReplicaSet controller: keeps the number of live pods owned by a ReplicaSet equal to `spec.replicas` (creating
 * pods from the template, deleting not-ready and newest pods first) and reports replicas/ready/available counts.
 */
const SUFFIX = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(): string {
  return [...randomBytes(5)].map((b) => SUFFIX[b % SUFFIX.length]).join('');
}

export function isControlledBy(obj: any, owner: any): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r: any) => r.controller === true && r.uid === owner.metadata.uid);
}

export function podReady(pod: any): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

export function reconcileReplicaSet(store: ObjectStore, events: EventRecorder, namespace: string, name: string): void {
  const rs = store.get('ReplicaSet', namespace, name);
  if (!rs) return;
  let pods = store.list('Pod', namespace, (p) => isControlledBy(p, rs) && !p.metadata.deletionTimestamp);
  const want = rs.spec?.replicas ?? 1;
  if (pods.length < want) {
    for (let i = pods.length; i < want; i++) {
      const tpl = rs.spec.template ?? {};
      const pod = store.create({
        kind: 'Pod',
        metadata: {
          name: `${rs.metadata.name}-${suffix()}`,
          generateName: `${rs.metadata.name}-`,
          namespace,
          labels: { ...(tpl.metadata?.labels ?? {}) },
          ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: rs.metadata.name,
              uid: rs.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: structuredClone(tpl.spec ?? {}),
        status: { phase: 'Pending', qosClass: 'BestEffort' },
      });
      events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, 'replicaset-controller');
    }
  } else if (pods.length > want) {
    const victims = [...pods]
      .sort(
        (a, b) =>
          Number(podReady(a)) - Number(podReady(b)) ||
          b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp) ||
          b.metadata.name.localeCompare(a.metadata.name),
      )
      .slice(0, pods.length - want);
    for (const v of victims) {
      store.delete('Pod', namespace, v.metadata.name);
      events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${v.metadata.name}`, 'replicaset-controller');
    }
  }
  pods = store.list('Pod', namespace, (p) => isControlledBy(p, rs) && !p.metadata.deletionTimestamp);
  const ready = pods.filter(podReady).length;
  const status = {
    replicas: pods.length,
    fullyLabeledReplicas: pods.length,
    readyReplicas: ready,
    availableReplicas: ready,
    observedGeneration: rs.metadata.generation,
  };
  const cur = store.get('ReplicaSet', namespace, name);
  if (!cur) return;
  if (JSON.stringify(cur.status ?? {}) !== JSON.stringify(status)) {
    cur.status = status;
    store.update(cur);
  }
}

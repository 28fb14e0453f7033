import { parseQuantity } from '../kube/quantity.ts';
import type { EventRecorder } from './events.ts';
import type { ObjectStore } from './store.ts';

/**
 * The PersistentVolume controller's binder, reduced to what shows in `kubectl get pv,pvc`: a new PV becomes
 * Available; a Pending claim binds to the smallest Available PV of its storage class whose capacity and access modes
 * suffice (both sides written, with the bind annotations); a claim whose bound PV is gone is Lost; a PV whose claim is
 * gone is Released (or deleted when its reclaim policy is Delete). No dynamic provisioning: a claim nothing fits
 * stays Pending with a FailedBinding event.
 */
const storage = (q: unknown): number => (typeof q === 'string' ? (parseQuantity(q) ?? 0) : typeof q === 'number' ? q : 0);

function claimRef(pvc: any): any {
  return {
    kind: 'PersistentVolumeClaim',
    namespace: pvc.metadata.namespace,
    name: pvc.metadata.name,
    uid: pvc.metadata.uid,
    apiVersion: 'v1',
    resourceVersion: pvc.metadata.resourceVersion,
  };
}

function fits(pv: any, pvc: any): boolean {
  if ((pv.spec?.storageClassName ?? '') !== (pvc.spec?.storageClassName ?? '')) return false;
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (pvc.spec?.volumeMode ?? 'Filesystem')) return false;
  if (storage(pv.spec?.capacity?.storage) < storage(pvc.spec?.resources?.requests?.storage)) return false;
  return (pvc.spec?.accessModes ?? []).every((m: string) => (pv.spec?.accessModes ?? []).includes(m));
}

export function reconcileVolumes(store: ObjectStore, events: EventRecorder): void {
  const claims = store.list('PersistentVolumeClaim');
  const claimByUid = new Map(claims.map((c) => [c.metadata.uid, c]));

  for (const pv of store.list('PersistentVolume')) {
    const ref = pv.spec?.claimRef;
    let phase: string;
    if (!ref) phase = 'Available';
    else {
      const claim =
        claimByUid.get(ref.uid) ??
        claims.find((c) => ref.uid === undefined && c.metadata.namespace === ref.namespace && c.metadata.name === ref.name);
      if (claim) phase = 'Bound';
      else if (pv.spec?.persistentVolumeReclaimPolicy === 'Delete' && pv.status?.phase === 'Bound') {
        store.delete('PersistentVolume', '', pv.metadata.name);
        continue;
      } else phase = 'Released';
    }
    if (pv.status?.phase !== phase) {
      pv.status = { ...(pv.status ?? {}), phase, lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
      store.update(pv);
    }
  }

  for (const pvc of claims) {
    const volumeName: string | undefined = pvc.spec?.volumeName;
    if (volumeName) {
      const pv = store.get('PersistentVolume', '', volumeName);
      const boundHere = pv && (!pv.spec?.claimRef || pv.spec.claimRef.uid === pvc.metadata.uid);
      if (!boundHere) {
        if (pvc.status?.phase === 'Bound') {
          pvc.status = { ...pvc.status, phase: 'Lost' };
          store.update(pvc);
          events.record(
            pvc,
            'Warning',
            'ClaimLost',
            'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
            'persistentvolume-controller',
          );
        }
        continue;
      }
      if (!pv.spec.claimRef) {
        // A claim that names its volume: bind the volume to it.
        pv.spec.claimRef = claimRef(pvc);
        pv.status = { ...(pv.status ?? {}), phase: 'Bound' };
        store.update(pv);
      }
      if (pvc.status?.phase !== 'Bound' && pvc.status?.phase !== 'Lost') {
        pvc.metadata.annotations = { ...(pvc.metadata.annotations ?? {}), 'pv.kubernetes.io/bind-completed': 'yes' };
        pvc.status = { phase: 'Bound', accessModes: pv.spec.accessModes, capacity: { ...pv.spec.capacity } };
        store.update(pvc);
      }
      continue;
    }
    if (pvc.status?.phase && pvc.status.phase !== 'Pending') continue;
    const candidates = store
      .list('PersistentVolume')
      .filter((pv) => !pv.spec?.claimRef && fits(pv, pvc))
      .sort((a, b) => storage(a.spec.capacity.storage) - storage(b.spec.capacity.storage));
    const pv = candidates[0];
    if (!pv) {
      if (pvc.status?.phase !== 'Pending') {
        pvc.status = { phase: 'Pending' };
        store.update(pvc);
      }
      const why = pvc.spec?.storageClassName
        ? `storageclass.storage.k8s.io "${pvc.spec.storageClassName}" not found`
        : 'no persistent volumes available for this claim and no storage class is set';
      events.record(pvc, pvc.spec?.storageClassName ? 'Warning' : 'Normal', 'FailedBinding', why, 'persistentvolume-controller');
      continue;
    }
    pv.spec.claimRef = claimRef(pvc);
    pv.metadata.annotations = { ...(pv.metadata.annotations ?? {}), 'pv.kubernetes.io/bound-by-controller': 'yes' };
    pv.status = { ...(pv.status ?? {}), phase: 'Bound' };
    store.update(pv);
    pvc.spec.volumeName = pv.metadata.name;
    pvc.metadata.annotations = {
      ...(pvc.metadata.annotations ?? {}),
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
    };
    pvc.status = { phase: 'Bound', accessModes: pv.spec.accessModes, capacity: { ...pv.spec.capacity } };
    store.update(pvc);
  }
}

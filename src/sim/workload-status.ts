import type { ObjectStore } from './store.ts';
import { templateHash } from './template-hash.ts';

/**
 * StatefulSets and DaemonSets get no pods, only a status that moves like a real rollout: a template change sets
 * `observedGeneration` and a new `updateRevision` at once, and after `rolloutMs` the update is reported complete
 * (current revision = update revision, all replicas updated and ready). Enough for `kubectl rollout restart` and
 * `rollout status` on them to behave.
 */
export function statefulSetStatus(store: ObjectStore, namespace: string, name: string, complete: boolean): 'rolling' | 'done' | undefined {
  const s = store.get('StatefulSet', namespace, name);
  if (!s) return undefined;
  const replicas = s.spec.replicas ?? 1;
  const updateRevision = `${name}-${templateHash(s.spec.template)}`;
  const old = s.status ?? {};
  const changed = old.updateRevision !== updateRevision || old.observedGeneration !== s.metadata.generation || old.replicas !== replicas;
  const done = complete || !old.updateRevision;
  const status = done
    ? {
        observedGeneration: s.metadata.generation,
        replicas,
        readyReplicas: replicas,
        currentReplicas: replicas,
        updatedReplicas: replicas,
        availableReplicas: replicas,
        currentRevision: updateRevision,
        updateRevision,
        collisionCount: 0,
      }
    : {
        ...old,
        observedGeneration: s.metadata.generation,
        replicas,
        updatedReplicas: 0,
        updateRevision,
        currentRevision: old.currentRevision ?? updateRevision,
      };
  if (!changed && !(complete && old.currentRevision !== updateRevision)) return old.currentRevision === updateRevision ? 'done' : 'rolling';
  s.status = status;
  store.update(s);
  return done ? 'done' : 'rolling';
}

export function daemonSetStatus(store: ObjectStore, namespace: string, name: string, complete: boolean): 'rolling' | 'done' | undefined {
  const s = store.get('DaemonSet', namespace, name);
  if (!s) return undefined;
  const old = s.status ?? {};
  const changed = old.observedGeneration !== s.metadata.generation;
  const done = complete || old.observedGeneration === undefined;
  if (!changed && !complete) return 'done';
  s.status = done
    ? {
        currentNumberScheduled: 1,
        numberMisscheduled: 0,
        desiredNumberScheduled: 1,
        numberReady: 1,
        observedGeneration: s.metadata.generation,
        updatedNumberScheduled: 1,
        numberAvailable: 1,
      }
    : { ...old, observedGeneration: s.metadata.generation, updatedNumberScheduled: 0, numberUnavailable: 1 };
  store.update(s);
  return done ? 'done' : 'rolling';
}

import type { Workload, WorkloadKind } from '../ports/cluster.ts';
import { revisionOf } from './rollback-plan.ts';

/**
 * kubectl's rollout status viewers (kubernetes/kubectl pkg/polymorphichelpers/rollout_status.go), as pure
 * functions: `done` when the rollout finished, `failed` with kubectl's error text when it cannot finish (or the
 * revision is not the one asked for), otherwise kubectl's "Waiting for…" message.
 */
export type RolloutVerdict =
  | { state: 'done'; message: string }
  | { state: 'waiting'; message: string }
  | { state: 'failed'; message: string };

export const TIMED_OUT_REASON = 'ProgressDeadlineExceeded';

export function rolloutStatus(kind: WorkloadKind, w: Workload, revision?: number): RolloutVerdict {
  if (kind === 'Deployment') return deploymentStatus(w, revision);
  if (kind === 'StatefulSet') return statefulSetStatus(w);
  return daemonSetStatus(w);
}

/** `DeploymentStatusViewer.Status`. `spec.replicas` absent is the server default, 1. */
export function deploymentStatus(d: Workload, revision?: number): RolloutVerdict {
  const name = d.metadata.name;
  if (revision !== undefined && revision > 0) {
    const running = revisionOf(d);
    if (running === undefined) return { state: 'failed', message: `cannot get the revision of deployment "${name}"` };
    if (running !== revision)
      return { state: 'failed', message: `desired revision (${revision}) is different from the running revision (${running})` };
  }
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) <= (s.observedGeneration ?? 0)) {
    const progressing = (s.conditions ?? []).find((c) => c.type === 'Progressing');
    if (progressing?.reason === TIMED_OUT_REASON)
      return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline` };
    const replicas = d.spec.replicas ?? 1;
    const updated = s.updatedReplicas ?? 0;
    const total = s.replicas ?? 0;
    const available = s.availableReplicas ?? 0;
    if (updated < replicas)
      return {
        state: 'waiting',
        message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
      };
    if (total > updated)
      return {
        state: 'waiting',
        message: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...`,
      };
    if (available < updated)
      return {
        state: 'waiting',
        message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
      };
    return { state: 'done', message: `deployment "${name}" successfully rolled out` };
  }
  return { state: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
}

/** `StatefulSetStatusViewer.Status`; an absent update strategy is the server default, RollingUpdate. */
export function statefulSetStatus(sts: Workload): RolloutVerdict {
  const strategy = sts.spec.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') return { state: 'failed', message: 'rollout status is only available for RollingUpdate strategy type' };
  const s = sts.status ?? {};
  if ((s.observedGeneration ?? 0) === 0 || (sts.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) {
    return { state: 'waiting', message: 'Waiting for statefulset spec update to be observed...' };
  }
  const replicas = sts.spec.replicas ?? 1;
  const ready = s.readyReplicas ?? 0;
  if (ready < replicas) return { state: 'waiting', message: `Waiting for ${replicas - ready} pods to be ready...` };
  const rolling = sts.spec.updateStrategy?.rollingUpdate;
  if (rolling !== undefined) {
    if (rolling.partition !== undefined && (s.updatedReplicas ?? 0) < replicas - rolling.partition) {
      return {
        state: 'waiting',
        message: `Waiting for partitioned roll out to finish: ${s.updatedReplicas ?? 0} out of ${replicas - rolling.partition} new pods have been updated...`,
      };
    }
    return { state: 'done', message: `partitioned roll out complete: ${s.updatedReplicas ?? 0} new pods have been updated...` };
  }
  if (s.updateRevision !== s.currentRevision) {
    return {
      state: 'waiting',
      message: `waiting for statefulset rolling update to complete ${s.updatedReplicas ?? 0} pods at revision ${s.updateRevision ?? ''}...`,
    };
  }
  return {
    state: 'done',
    message: `statefulset rolling update complete ${s.currentReplicas ?? 0} pods at revision ${s.currentRevision ?? ''}...`,
  };
}

/** `DaemonSetStatusViewer.Status`. */
export function daemonSetStatus(ds: Workload): RolloutVerdict {
  const strategy = ds.spec.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') return { state: 'failed', message: 'rollout status is only available for RollingUpdate strategy type' };
  const s = ds.status ?? {};
  const name = ds.metadata.name;
  if ((ds.metadata.generation ?? 0) <= (s.observedGeneration ?? 0)) {
    const desired = s.desiredNumberScheduled ?? 0;
    const updated = s.updatedNumberScheduled ?? 0;
    const available = s.numberAvailable ?? 0;
    if (updated < desired)
      return {
        state: 'waiting',
        message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
      };
    if (available < desired)
      return {
        state: 'waiting',
        message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
      };
    return { state: 'done', message: `daemon set "${name}" successfully rolled out` };
  }
  return { state: 'waiting', message: 'Waiting for daemon set spec update to be observed...' };
}

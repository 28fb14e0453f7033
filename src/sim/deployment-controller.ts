import { isDeepStrictEqual } from 'node:util';
import type { EventRecorder } from './events.ts';
import { isControlledBy } from './replicaset-controller.ts';
import type { ObjectStore } from './store.ts';
import { nowRfc3339 } from './store.ts';
import { equalIgnoringHash, HASH_LABEL, templateHash } from './template-hash.ts';

/**
 * The deployment controller (pkg/controller/deployment), simplified but faithful where clients look:
 * - a template change creates ReplicaSet `<name>-<hash>` labelled/selected by `pod-template-hash`, with the next
 *   `deployment.kubernetes.io/revision` (copied onto the Deployment) and desired/max-replicas annotations;
 * - a template equal to an older ReplicaSet's reuses it and gives it the next revision (rollout undo);
 * - RollingUpdate scales the new ReplicaSet to the desired count at once and scales old ones down as new pods become
 *   available (never below the desired availability); Recreate scales old ones to zero first;
 * - status and the Available/Progressing conditions follow the real reasons, including ProgressDeadlineExceeded
 *   once no progress was made for `spec.progressDeadlineSeconds`;
 * - `spec.paused` stops rollouts (scaling still applies).
 */
export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';

export interface DeploymentControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  /** Consumes a `failRollouts` fault for this Deployment: true when its new rollout must hang. */
  takeFailingRollout(namespace: string, name: string): boolean;
  markHanging(rsUid: string): void;
  /** Asks for another reconcile of this Deployment after `ms` (progress-deadline checks). */
  recheckAfter(namespace: string, name: string, ms: number): void;
  /** The time progress deadlines are measured on (ms since the epoch). */
  now(): number;
}

interface Progress {
  rsName: string;
  lastProgressAt: number;
  newAvailable: number;
  oldReplicas: number;
}

export function revisionOf(rs: any): number {
  const n = Number.parseInt(rs.metadata.annotations?.[REVISION] ?? '0', 10);
  return Number.isNaN(n) ? 0 : n;
}

/** intstr resolution: "25%" of total (rounded up for surge, down for unavailable) or an integer. */
function resolve(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const x = (Number.parseInt(v, 10) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return Number.parseInt(String(v ?? '0'), 10) || 0;
}

export class DeploymentController {
  #d: DeploymentControllerDeps;
  #progress = new Map<string, Progress>();

  constructor(deps: DeploymentControllerDeps) {
    this.#d = deps;
  }

  forget(uid: string): void {
    this.#progress.delete(uid);
  }

  reconcile(namespace: string, name: string): void {
    const { store, events } = this.#d;
    let d = store.get('Deployment', namespace, name);
    if (!d) return;
    const desired: number = d.spec.replicas ?? 1;
    const paused = d.spec.paused === true;
    const recreate = d.spec.strategy?.type === 'Recreate';
    const maxSurge = recreate ? 0 : resolve(d.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
    const maxUnavailable = recreate ? 0 : resolve(d.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);

    const owned = () => store.list('ReplicaSet', namespace, (rs) => isControlledBy(rs, d));
    let all = owned();
    const maxRevision = Math.max(0, ...all.map(revisionOf));
    let newRs = all
      .filter((rs) => equalIgnoringHash(rs.spec.template, d.spec.template))
      .sort(
        (a, b) =>
          a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name),
      )[0];

    if (!paused) {
      if (!newRs) {
        newRs = this.#createReplicaSet(d, all, maxRevision + 1, recreate ? 0 : desired, maxSurge);
        events.record(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled up replica set ${newRs.metadata.name} from 0 to ${recreate ? 0 : desired}`,
          'deployment-controller',
        );
      } else if (revisionOf(newRs) < maxRevision) {
        newRs.metadata.annotations = { ...(newRs.metadata.annotations ?? {}), [REVISION]: String(maxRevision + 1) };
        newRs = store.update(newRs);
      }
    }
    all = owned();
    newRs = newRs ? all.find((rs) => rs.metadata.uid === newRs.metadata.uid) : undefined;
    const olds = all.filter((rs) => rs.metadata.uid !== newRs?.metadata.uid);

    // Scaling.
    const scale = (rs: any, to: number): void => {
      const from = rs.spec.replicas ?? 0;
      if (from === to) return;
      rs.spec.replicas = to;
      rs.metadata.annotations = {
        ...(rs.metadata.annotations ?? {}),
        [DESIRED_REPLICAS]: String(desired),
        [MAX_REPLICAS]: String(desired + maxSurge),
      };
      store.update(rs);
      events.record(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`,
        'deployment-controller',
      );
    };
    if (newRs) {
      if (recreate) {
        for (const rs of olds) scale(rs, 0);
        const oldPods = olds.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
        if (oldPods === 0) scale(newRs, desired);
      } else {
        scale(newRs, desired);
        const newAvailable = newRs.status?.availableReplicas ?? 0;
        // Old pods may go once the new ones cover the required availability.
        let allowedOld = paused ? Number.POSITIVE_INFINITY : Math.max(0, desired - maxUnavailable - newAvailable);
        if (newAvailable >= desired) allowedOld = 0;
        const byAge = [...olds].sort((a, b) => revisionOf(b) - revisionOf(a));
        for (const rs of byAge) {
          const keep = Math.min(rs.spec.replicas ?? 0, allowedOld);
          if (!paused) scale(rs, keep);
          allowedOld -= Math.min(keep, allowedOld);
        }
      }
    } else if (paused) {
      // Paused with an unrolled template change: scaling goes to the newest existing ReplicaSet.
      const newest = [...all].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
      if (newest) scale(newest, desired);
    }

    // Revision annotation on the Deployment follows its current ReplicaSet.
    d = store.get('Deployment', namespace, name);
    if (!d) return;
    all = owned();
    newRs = newRs ? all.find((rs) => rs.metadata.uid === newRs.metadata.uid) : undefined;
    if (newRs && d.metadata.annotations?.[REVISION] !== String(revisionOf(newRs))) {
      d.metadata.annotations = { ...(d.metadata.annotations ?? {}), [REVISION]: String(revisionOf(newRs)) };
      d = store.update(d);
    }
    this.#updateStatus(d, newRs, all, desired, maxUnavailable, paused);
  }

  #createReplicaSet(d: any, existing: any[], revision: number, replicas: number, maxSurge: number): any {
    const { store } = this.#d;
    let collision = d.status?.collisionCount ?? 0;
    let hash = templateHash(d.spec.template, collision);
    while (
      existing.some((rs) => rs.metadata.name === `${d.metadata.name}-${hash}`) ||
      store.has('ReplicaSet', d.metadata.namespace, `${d.metadata.name}-${hash}`)
    ) {
      collision++;
      hash = templateHash(d.spec.template, collision);
    }
    const template = structuredClone(d.spec.template);
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [HASH_LABEL]: hash };
    const rs = store.create({
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...(d.spec.template?.metadata?.labels ?? {}), [HASH_LABEL]: hash },
        annotations: {
          [DESIRED_REPLICAS]: String(d.spec.replicas ?? 1),
          [MAX_REPLICAS]: String((d.spec.replicas ?? 1) + maxSurge),
          [REVISION]: String(revision),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: d.metadata.name,
            uid: d.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
        selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), [HASH_LABEL]: hash } },
        template,
      },
      status: { replicas: 0 },
    });
    if (this.#d.takeFailingRollout(d.metadata.namespace, d.metadata.name)) this.#d.markHanging(rs.metadata.uid);
    this.#progress.set(d.metadata.uid, {
      rsName: rs.metadata.name,
      lastProgressAt: this.#d.now(),
      newAvailable: 0,
      oldReplicas: Number.POSITIVE_INFINITY,
    });
    return rs;
  }

  #updateStatus(d: any, newRs: any, all: any[], desired: number, maxUnavailable: number, paused: boolean): void {
    const { store } = this.#d;
    const sum = (f: (rs: any) => number): number => all.reduce((n, rs) => n + f(rs), 0);
    const replicas = sum((rs) => rs.status?.replicas ?? 0);
    const updated = newRs?.status?.replicas ?? 0;
    const ready = sum((rs) => rs.status?.readyReplicas ?? 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const unavailable = Math.max(0, Math.max(desired, replicas) - available);
    const now = nowRfc3339();
    const old = d.status ?? {};
    const oldConds: any[] = old.conditions ?? [];
    const cond = (type: string, status: string, reason: string, message: string, progressed: boolean): any => {
      const prev = oldConds.find((c) => c.type === type);
      const same = prev && prev.status === status && prev.reason === reason && prev.message === message;
      return {
        type,
        status,
        lastUpdateTime: same && !progressed ? prev.lastUpdateTime : now,
        lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now,
        reason,
        message,
      };
    };

    const availableCond =
      available >= desired - maxUnavailable
        ? cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', false)
        : cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', false);

    let progressing: any;
    const deadlineMs = (d.spec.progressDeadlineSeconds ?? 600) * 1000;
    const rsName = newRs?.metadata.name ?? '';
    const timedOut = `ReplicaSet "${rsName}" has timed out progressing.`;
    if (paused) {
      progressing = cond('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', false);
      this.#progress.delete(d.metadata.uid);
    } else if (newRs) {
      const oldReplicas = replicas - updated;
      const complete = updated === desired && replicas === desired && (newRs.status?.availableReplicas ?? 0) >= desired;
      let p = this.#progress.get(d.metadata.uid);
      if (!p || p.rsName !== rsName) {
        p = { rsName, lastProgressAt: this.#d.now(), newAvailable: newRs.status?.availableReplicas ?? 0, oldReplicas };
        this.#progress.set(d.metadata.uid, p);
      }
      const newAvailable = newRs.status?.availableReplicas ?? 0;
      const progressed = newAvailable > p.newAvailable || oldReplicas < p.oldReplicas;
      if (progressed) p.lastProgressAt = this.#d.now();
      p.newAvailable = newAvailable;
      p.oldReplicas = oldReplicas;
      const prev = oldConds.find((c) => c.type === 'Progressing');
      if (complete) {
        progressing = cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, false);
      } else if (
        this.#d.now() - p.lastProgressAt >= deadlineMs ||
        // Once timed out, a rollout stays so until it progresses, whatever the deadline becomes (the deployment
        // controller's DeploymentTimedOut): raising progressDeadlineSeconds does not revive a failed rollout.
        (!progressed && prev?.reason === 'ProgressDeadlineExceeded' && prev.message === timedOut)
      ) {
        progressing = cond('Progressing', 'False', 'ProgressDeadlineExceeded', timedOut, false);
      } else {
        const created = prev?.message === `Created new replica set "${rsName}"` || !prev || (prev.message ?? '').indexOf(`"${rsName}"`) < 0;
        progressing =
          created && !progressed
            ? cond('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`, false)
            : cond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, progressed);
        this.#d.recheckAfter(d.metadata.namespace, d.metadata.name, p.lastProgressAt + deadlineMs - this.#d.now() + 5);
      }
    }

    const status: any = {
      observedGeneration: d.metadata.generation,
      ...(replicas ? { replicas } : {}),
      ...(updated ? { updatedReplicas: updated } : {}),
      ...(ready ? { readyReplicas: ready } : {}),
      ...(available ? { availableReplicas: available } : {}),
      ...(unavailable ? { unavailableReplicas: unavailable } : {}),
      conditions: [availableCond, ...(progressing ? [progressing] : [])],
      ...(old.collisionCount ? { collisionCount: old.collisionCount } : {}),
    };
    const comparable = (s: any): any => ({
      ...s,
      conditions: (s.conditions ?? []).map((c: any) => ({ ...c, lastUpdateTime: undefined, lastTransitionTime: undefined })),
    });
    if (isDeepStrictEqual(comparable(status), comparable(old))) return;
    const fresh = store.get('Deployment', d.metadata.namespace, d.metadata.name);
    if (!fresh) return;
    fresh.status = status;
    store.update(fresh);
  }
}

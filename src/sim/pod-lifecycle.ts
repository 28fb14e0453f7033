import type { EventRecorder } from './events.ts';
import type { CrashMode, Faults } from './faults.ts';
import { unschedulableReason } from './node-conditions.ts';
import type { ObjectStore } from './store.ts';
import { nowRfc3339 } from './store.ts';
import type { TimerSet } from './timers.ts';

/**
 * The kubelet of the one simulated node: a new pod is scheduled at once, its containers start after
 * `podReadyDelayMs` and it becomes Ready — unless its image was told to crash (then it crash-loops with a growing
 * restartCount and BackOff events) or its ReplicaSet's rollout was told to hang (then it runs but never passes its
 * readiness probe).
 */
export interface SimHooks {
  /** Called when a pod's containers start; the pod becomes Ready when the returned promise resolves (a rejection crashes it). */
  onPodStarted?(pod: any, deployment: any): void | Promise<void>;
  /** Called when a pod is deleted. */
  onPodStopped?(pod: any, deployment: any): void | Promise<void>;
}

export interface PodLifecycleOptions {
  store: ObjectStore;
  events: EventRecorder;
  faults: Faults;
  timers: TimerSet;
  hooks: SimHooks;
  podReadyDelayMs: number;
  crashLoopIntervalMs: number;
  /** Whether pods of this ReplicaSet uid must never become Ready. */
  isHanging(rsUid: string | undefined): boolean;
}

export const NODE_NAME = 'kube-sim-node';
let nextIp = 2;

function condition(type: string, status: 'True' | 'False', reason?: string, message?: string): any {
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: nowRfc3339(),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

export class PodLifecycle {
  #o: PodLifecycleOptions;
  #started = new Map<string, NodeJS.Timeout>();
  #crashModes = new Map<string, CrashMode>();

  constructor(options: PodLifecycleOptions) {
    this.#o = options;
  }

  /** The crash mode a pod was started with (for its logs). */
  crashModeOf(podUid: string): CrashMode | undefined {
    return this.#crashModes.get(podUid);
  }

  #owner(pod: any): { rs: any; deployment: any } {
    const ref = (pod.metadata.ownerReferences ?? []).find((r: any) => r.controller && r.kind === 'ReplicaSet');
    const rs = ref ? this.#o.store.get('ReplicaSet', pod.metadata.namespace, ref.name) : undefined;
    const dref = rs ? (rs.metadata.ownerReferences ?? []).find((r: any) => r.controller && r.kind === 'Deployment') : undefined;
    const deployment = dref ? this.#o.store.get('Deployment', pod.metadata.namespace, dref.name) : undefined;
    return { rs, deployment };
  }

  /** Pods still waiting for a node try again (a node became Ready, was uncordoned, lost its pressure). */
  retryScheduling(): void {
    for (const p of this.#o.store.list('Pod')) if (!p.spec?.nodeName) this.podAdded(p);
  }

  /** A pod appeared: schedule it and start its containers later; if the node cannot take it, it waits Unschedulable. */
  podAdded(pod: any): void {
    if (this.#started.has(pod.metadata.uid) || pod.status?.phase !== 'Pending' || pod.spec?.nodeName) return;
    const why = unschedulableReason(pod, this.#o.store.get('Node', '', NODE_NAME));
    if (why) {
      const cond = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
      if (cond?.message === why) return;
      const waiting = structuredClone(pod);
      waiting.status = { ...waiting.status, conditions: [{ ...condition('PodScheduled', 'False', 'Unschedulable', why) }] };
      const stored = this.#o.store.update(waiting);
      this.#o.events.record(stored, 'Warning', 'FailedScheduling', why, 'default-scheduler');
      return;
    }
    const scheduled = structuredClone(pod);
    scheduled.spec.nodeName = NODE_NAME;
    scheduled.status = {
      phase: 'Pending',
      conditions: [condition('PodScheduled', 'True')],
      hostIP: '10.0.0.10',
      hostIPs: [{ ip: '10.0.0.10' }],
      startTime: nowRfc3339(),
      qosClass: pod.status?.qosClass ?? 'BestEffort',
      containerStatuses: (pod.spec.containers ?? []).map((c: any) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
      })),
    };
    const stored = this.#o.store.update(scheduled);
    this.#o.events.record(
      stored,
      'Normal',
      'Scheduled',
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${NODE_NAME}`,
      'default-scheduler',
    );
    const handle = this.#o.timers.after(
      this.#o.podReadyDelayMs,
      () => this.#start(pod.metadata.namespace, pod.metadata.name, pod.metadata.uid),
      true,
    );
    this.#started.set(pod.metadata.uid, handle);
  }

  podDeleted(pod: any): void {
    const handle = this.#started.get(pod.metadata.uid);
    this.#o.timers.cancel(handle);
    this.#started.delete(pod.metadata.uid);
    this.#crashModes.delete(pod.metadata.uid);
    for (const c of pod.spec?.containers ?? []) {
      this.#o.events.record(pod, 'Normal', 'Killing', `Stopping container ${c.name}`, 'kubelet', `spec.containers{${c.name}}`);
    }
    const { deployment } = this.#owner(pod);
    void Promise.resolve()
      .then(() => this.#o.hooks.onPodStopped?.(pod, deployment))
      .catch(() => {});
  }

  #live(namespace: string, name: string, uid: string): any | undefined {
    const pod = this.#o.store.get('Pod', namespace, name);
    return pod && pod.metadata.uid === uid ? pod : undefined;
  }

  async #start(namespace: string, name: string, uid: string): Promise<void> {
    let pod = this.#live(namespace, name, uid);
    if (!pod) return;
    const containers: any[] = pod.spec.containers ?? [];
    const crash = containers.map((c) => this.#o.faults.crashModeOf(c.image)).find((m) => m !== undefined);
    const { rs, deployment } = this.#owner(pod);
    const hanging = this.#o.isHanging(rs?.metadata.uid);
    for (const c of containers) {
      const fp = `spec.containers{${c.name}}`;
      this.#o.events.record(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet', fp);
      this.#o.events.record(pod, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet', fp);
      this.#o.events.record(pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet', fp);
    }
    let hookFailed = false;
    if (!crash) {
      try {
        await this.#o.hooks.onPodStarted?.(pod, deployment);
      } catch {
        hookFailed = true;
      }
      pod = this.#live(namespace, name, uid);
      if (!pod) return;
    }
    const startedAt = nowRfc3339();
    const ip = `10.244.0.${(nextIp++ % 250) + 2}`;
    pod.status.phase = 'Running';
    pod.status.podIP = ip;
    pod.status.podIPs = [{ ip }];
    const mode: CrashMode | undefined = crash ?? (hookFailed ? 'Error' : undefined);
    if (mode) {
      this.#crashModes.set(uid, mode);
      this.#setCrashed(pod, mode, startedAt);
      this.#o.store.update(pod);
      this.#crashLoop(namespace, name, uid, mode);
      return;
    }
    const ready = !hanging;
    pod.status.conditions = [
      condition('Initialized', 'True'),
      ready
        ? condition('Ready', 'True')
        : condition('Ready', 'False', 'ContainersNotReady', `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`),
      ready
        ? condition('ContainersReady', 'True')
        : condition(
            'ContainersReady',
            'False',
            'ContainersNotReady',
            `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`,
          ),
      condition('PodScheduled', 'True'),
    ];
    pod.status.containerStatuses = containers.map((c, i) => ({
      name: c.name,
      image: c.image,
      imageID: `docker.io/${c.image}@sha256:${'0'.repeat(63)}${i}`,
      containerID: `containerd://${uid.replace(/-/g, '')}${i}`,
      ready,
      started: true,
      restartCount: 0,
      state: { running: { startedAt } },
      lastState: {},
    }));
    this.#o.store.update(pod);
    if (!ready)
      this.#o.events.record(
        pod,
        'Warning',
        'Unhealthy',
        'Readiness probe failed: HTTP probe failed with statuscode: 503',
        'kubelet',
        `spec.containers{${containers[0]?.name}}`,
      );
  }

  #setCrashed(pod: any, mode: CrashMode, startedAt: string): void {
    const containers: any[] = pod.spec.containers ?? [];
    const names = containers.map((c) => c.name).join(' ');
    pod.status.conditions = [
      condition('Initialized', 'True'),
      condition('Ready', 'False', 'ContainersNotReady', `containers with unready status: [${names}]`),
      condition('ContainersReady', 'False', 'ContainersNotReady', `containers with unready status: [${names}]`),
      condition('PodScheduled', 'True'),
    ];
    const finishedAt = nowRfc3339();
    pod.status.containerStatuses = containers.map((c, i) => {
      const prev = (pod.status.containerStatuses ?? []).find((s: any) => s.name === c.name);
      return {
        name: c.name,
        image: c.image,
        imageID: `docker.io/${c.image}@sha256:${'0'.repeat(63)}${i}`,
        containerID: `containerd://${pod.metadata.uid.replace(/-/g, '')}${i}`,
        ready: false,
        started: false,
        restartCount: (prev?.restartCount ?? 0) + 1,
        state: {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off 10s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
          },
        },
        lastState: {
          terminated: {
            exitCode: mode === 'OOMKilled' ? 137 : 1,
            reason: mode === 'OOMKilled' ? 'OOMKilled' : 'Error',
            startedAt,
            finishedAt,
            containerID: `containerd://${pod.metadata.uid.replace(/-/g, '')}${i}`,
          },
        },
      };
    });
    for (const c of containers) {
      this.#o.events.record(
        pod,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
        'kubelet',
        `spec.containers{${c.name}}`,
      );
    }
  }

  #crashLoop(namespace: string, name: string, uid: string, mode: CrashMode): void {
    const handle = this.#o.timers.after(
      this.#o.crashLoopIntervalMs,
      () => {
        const pod = this.#live(namespace, name, uid);
        if (!pod) return;
        this.#setCrashed(pod, mode, nowRfc3339());
        this.#o.store.update(pod);
        this.#crashLoop(namespace, name, uid, mode);
      },
      false,
    );
    this.#started.set(uid, handle);
  }
}

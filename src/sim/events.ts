import { randomBytes } from 'node:crypto';
import type { ObjectStore } from './store.ts';
import { nowRfc3339 } from './store.ts';

/**
 * Records core/v1 Events the way client-go's event recorder does: one Event per (object, reason, message), with
 * `count` and `lastTimestamp` bumped when the same thing happens again (BackOff during a crash loop).
 */
export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  #store: ObjectStore;
  /** (object uid, reason, message) → Event name, so repeats find their Event without scanning. */
  #index = new Map<string, string>();

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  record(obj: any, type: EventType, reason: string, message: string, component: string, fieldPath?: string): void {
    const namespace = obj.metadata.namespace ?? 'default';
    const now = nowRfc3339();
    const key = `${obj.metadata.uid}\u0000${reason}\u0000${message}`;
    const knownName = this.#index.get(key);
    const existing = knownName === undefined ? undefined : this.#store.get('Event', namespace, knownName);
    if (existing) {
      existing.count = (existing.count ?? 1) + 1;
      existing.lastTimestamp = now;
      this.#store.update(existing);
      return;
    }
    const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
    this.#index.set(key, name);
    this.#store.create({
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        kind: obj.kind,
        namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        apiVersion: obj.apiVersion,
        resourceVersion: obj.metadata.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      source: { component, ...(component === 'kubelet' ? { host: 'kube-sim-node' } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? 'kube-sim-node' : '',
    });
  }
}

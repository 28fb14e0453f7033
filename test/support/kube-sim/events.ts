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

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  record(obj: any, type: EventType, reason: string, message: string, component: string, fieldPath?: string): void {
    const namespace = obj.metadata.namespace ?? 'default';
    const now = nowRfc3339();
    const existing = this.#store
      .list('Event', namespace)
      .find((e) => e.involvedObject?.uid === obj.metadata.uid && e.reason === reason && e.message === message);
    if (existing) {
      existing.count = (existing.count ?? 1) + 1;
      existing.lastTimestamp = now;
      this.#store.update(existing);
      return;
    }
    this.#store.create({
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
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

import { isDeepStrictEqual } from 'node:util';
import { isNodeReady, taintsFor } from './node-conditions.ts';
import type { ObjectStore } from './store.ts';
import { nowRfc3339 } from './store.ts';

/**
 * The node lifecycle controller's visible effects: taints that follow the node's conditions and cordon, and the
 * pods of a node that stops being Ready marked not Ready (MarkPodsNotReady), so Services stop routing to them. When
 * the node is Ready again, those pods report Ready again (their kubelet's probes pass). Pods waiting for a node are
 * handed back to the scheduler (`retrySchedule`) whenever a node changes.
 */
export class NodeLifecycleController {
  #store: ObjectStore;
  #retrySchedule: () => void;
  /** uids of pods this controller marked not Ready because their node was not. */
  #markedNotReady = new Set<string>();

  constructor(store: ObjectStore, retrySchedule: () => void) {
    this.#store = store;
    this.#retrySchedule = retrySchedule;
  }

  reconcile(name: string): void {
    const node = this.#store.get('Node', '', name);
    if (!node) return;
    const taints = taintsFor(node);
    const current = node.spec?.taints ?? [];
    if (!isDeepStrictEqual(current, taints)) {
      node.spec ??= {};
      if (taints.length) node.spec.taints = taints;
      else delete node.spec.taints;
      this.#store.update(node);
    }
    const ready = isNodeReady(node);
    for (const pod of this.#store.list('Pod')) {
      if (pod.spec?.nodeName !== name) continue;
      const cond = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
      if (!cond) continue;
      if (!ready && cond.status === 'True') {
        Object.assign(cond, { status: 'False', lastTransitionTime: nowRfc3339() });
        this.#markedNotReady.add(pod.metadata.uid);
        this.#store.update(pod);
      } else if (ready && this.#markedNotReady.delete(pod.metadata.uid) && cond.status === 'False') {
        Object.assign(cond, { status: 'True', lastTransitionTime: nowRfc3339() });
        this.#store.update(pod);
      }
    }
    this.#retrySchedule();
  }
}

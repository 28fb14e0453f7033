import type { ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from './resources.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { Change, ObjectStore } from './store.ts';
import { toTable } from './tables.ts';

/**
 * A watch stream: newline-delimited `{"type":"ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR","object":…}` over a
 * chunked response, as client-go's reflector (kubectl rollout status) and client-node's Watch read it.
 *
 * Starting point: no resourceVersion or "0" → synthetic ADDED for every matching object, then live changes; a
 * resourceVersion → every change after it (410 Expired when history no longer reaches back). An object that stops
 * matching a selector is reported DELETED, one that starts matching ADDED, like the real watch cache.
 */
export interface WatchSpec {
  type: ResourceType;
  namespace: string | undefined;
  labelSelector: string | null;
  fieldSelector: string | null;
  resourceVersion: string | null;
  timeoutSeconds: number | undefined;
  sendInitialEvents: boolean;
  allowBookmarks: boolean;
  /** `as=Table` (kubectl get -w): each event carries a one-row Table, as the real server's watch does. */
  table?: { includeObject: string };
}

export function serveWatch(store: ObjectStore, spec: WatchSpec, res: ServerResponse, onEnd: () => void): () => void {
  const byLabel = parseLabelSelector(spec.labelSelector);
  const byField = parseFieldSelector(spec.fieldSelector);
  const apiVersion = apiVersionOf(spec.type);
  const inScope = (obj: any): boolean => spec.namespace === undefined || (obj.metadata?.namespace ?? '') === spec.namespace;
  const matches = (obj: any): boolean => inScope(obj) && byLabel(obj) && byField(obj);
  const keyOf = (obj: any): string => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
  const visible = new Set<string>();

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let ended = false;
  const send = (type: string, object: unknown): void => {
    if (!ended) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const wireObj = (obj: any): unknown => {
    const full = { ...obj, kind: spec.type.kind, apiVersion };
    return spec.table ? toTable(spec.type, [full], obj.metadata.resourceVersion, spec.table.includeObject) : full;
  };

  const deliver = (change: Change): void => {
    if (change.kind !== spec.type.kind) return;
    const k = keyOf(change.object);
    const now = change.type !== 'DELETED' && matches(change.object);
    if (now) {
      send(visible.has(k) ? 'MODIFIED' : 'ADDED', wireObj(change.object));
      visible.add(k);
    } else if (visible.has(k)) {
      visible.delete(k);
      send('DELETED', wireObj(change.object));
    }
  };

  const rv = spec.resourceVersion;
  if (!rv || rv === '0' || spec.sendInitialEvents) {
    for (const obj of store.list(spec.type.kind, spec.namespace)) {
      if (!matches(obj)) continue;
      visible.add(keyOf(obj));
      send('ADDED', wireObj(obj));
    }
    if (spec.sendInitialEvents && spec.allowBookmarks) {
      send('BOOKMARK', {
        kind: spec.type.kind,
        apiVersion,
        metadata: { resourceVersion: store.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } },
      });
    }
  } else {
    const since = store.changesSince(Number(rv));
    if (since === undefined || Number.isNaN(Number(rv))) {
      send('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${rv} (${store.oldestWatchableRv})`,
        reason: 'Expired',
        code: 410,
      });
      ended = true;
      res.end();
      onEnd();
      return () => {};
    }
    // What the client saw at `rv`: objects that exist now or were deleted since, minus those created since.
    const relevant = since.filter((c) => c.kind === spec.type.kind);
    for (const obj of store.list(spec.type.kind, spec.namespace)) if (matches(obj)) visible.add(keyOf(obj));
    for (const c of relevant) if (c.type === 'DELETED' && matches(c.object)) visible.add(keyOf(c.object));
    const firstChange = new Map<string, string>();
    for (const c of relevant) if (!firstChange.has(keyOf(c.object))) firstChange.set(keyOf(c.object), c.type);
    for (const [k, type] of firstChange) if (type === 'ADDED') visible.delete(k);
    for (const c of relevant) deliver(c);
  }

  const unsubscribe = store.subscribe(deliver);
  const timer =
    spec.timeoutSeconds !== undefined && spec.timeoutSeconds > 0 ? setTimeout(() => stop(), spec.timeoutSeconds * 1000) : undefined;
  const stop = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
    res.end();
    onEnd();
  };
  res.on('close', stop);
  return stop;
}

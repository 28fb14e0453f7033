import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';

/**
 * The `pod-template-hash` of a pod template and template equality "ignoring pod-template-hash", as the deployment
 * controller and `kubectl rollout undo` (EqualIgnoreHash) use them.
 */
export const HASH_LABEL = 'pod-template-hash';
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function withoutHash(template: any): any {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[HASH_LABEL];
    if (Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  }
  if (t.metadata && Object.keys(t.metadata).length === 0) delete t.metadata;
  return t;
}

export function templateHash(template: any, collisionCount = 0): string {
  const digest = createHash('sha256')
    .update(canonical(withoutHash(template)))
    .update(String(collisionCount))
    .digest();
  return [...digest.subarray(0, 10)].map((b) => SAFE[b % SAFE.length]).join('');
}

export function equalIgnoringHash(a: any, b: any): boolean {
  return isDeepStrictEqual(JSON.parse(canonical(withoutHash(a))), JSON.parse(canonical(withoutHash(b))));
}

/** Drops `null` members (the Go server never stores them: decoding null into a field leaves it empty). */
export function dropNulls(v: any): any {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

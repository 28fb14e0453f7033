import type { AccessCheck, Cluster } from '../ports/cluster.ts';

export interface MissingPermission extends AccessCheck {
  /** The authorizer's reason when it gave one. */
  reason?: string;
}

export interface PreflightOptions {
  signal: AbortSignal;
  /** Reviews in flight at once. Default 8. */
  concurrency?: number;
}

/**
 * Asks the API server, with one SelfSubjectAccessReview per distinct permission, whether remediator's identity may
 * do everything the loaded playbooks need; returns what is missing (empty: all granted). Duplicates (the same verb,
 * group, resource, subresource and namespace listed by several steps) are asked once. A review that fails (API
 * server down) throws its classified error rather than reporting a permission as missing.
 */
export async function preflight(kube: Cluster, needed: readonly AccessCheck[], options: PreflightOptions): Promise<MissingPermission[]> {
  const unique = new Map<string, AccessCheck>();
  for (const c of needed) {
    const key = JSON.stringify([c.verb, c.group, c.resource, c.subresource ?? '', c.namespace ?? '', c.name ?? '']);
    if (!unique.has(key)) unique.set(key, c);
  }
  const checks = [...unique.values()];
  const missing: Array<MissingPermission | undefined> = new Array(checks.length);
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const i = next++;
      const check = checks[i] as AccessCheck;
      const answer = await kube.canI(check, { signal: options.signal });
      if (!answer.allowed) missing[i] = answer.reason === undefined ? { ...check } : { ...check, reason: answer.reason };
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, checks.length) }, worker));
  return missing.filter((m): m is MissingPermission => m !== undefined);
}

/** `patch deployments.apps (namespace shop)`: one line per missing permission, for /readyz and load errors. */
export function describePermission(c: AccessCheck): string {
  const resource = `${c.resource}${c.subresource ? `/${c.subresource}` : ''}${c.group ? `.${c.group}` : ''}`;
  return `${c.verb} ${resource}${c.namespace ? ` (namespace ${c.namespace})` : ' (cluster-wide)'}`;
}

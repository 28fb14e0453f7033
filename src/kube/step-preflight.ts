import type { AccessCheck, Cluster } from '../ports/cluster.ts';
import { describePermission, preflight } from './preflight.ts';

/** A permission one step of one playbook needs (src/kube/playbook-permissions.ts). */
export type StepPermission = AccessCheck & { playbook: string; step: string };

/** A step that could not act: the permission the API server refused it, and why when it said. */
export interface DeniedStep {
  playbook: string;
  step: string;
  verb: string;
  /** `deployments/scale.apps`: the resource as RBAC rules spell it. */
  resource: string;
  namespace?: string;
  /** `patch deployments.apps (namespace shop)` */
  permission: string;
  reason?: string;
}

/**
 * Pre-flight by step: one SelfSubjectAccessReview per distinct permission (src/kube/preflight.ts), then every step
 * that needs a refused permission, so the report says which step of which playbook could not act, before an incident.
 * A review that fails (API server away) throws, like `preflight`.
 */
export async function preflightSteps(kube: Cluster, needed: readonly StepPermission[], signal: AbortSignal): Promise<DeniedStep[]> {
  const missing = await preflight(kube, needed, { signal });
  const refused = new Map(missing.map((m) => [keyOf(m), m]));
  const out: DeniedStep[] = [];
  const seen = new Set<string>();
  for (const need of needed) {
    const m = refused.get(keyOf(need));
    if (!m) continue;
    const key = JSON.stringify([need.playbook, need.step, keyOf(need)]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      playbook: need.playbook,
      step: need.step,
      verb: need.verb,
      resource: `${need.resource}${need.subresource ? `/${need.subresource}` : ''}${need.group ? `.${need.group}` : ''}`,
      ...(need.namespace === undefined ? {} : { namespace: need.namespace }),
      permission: describePermission(need),
      ...(m.reason === undefined ? {} : { reason: m.reason }),
    });
  }
  return out;
}

/** `playbook high-cpu step scale-out cannot get deployments/scale.apps (namespace shop)` */
export function describeDenied(d: DeniedStep): string {
  return `playbook ${d.playbook} step ${d.step} cannot ${d.permission}${d.reason ? `: ${d.reason}` : ''}`;
}

function keyOf(c: AccessCheck): string {
  return JSON.stringify([c.verb, c.group, c.resource, c.subresource ?? '', c.namespace ?? '', c.name ?? '']);
}

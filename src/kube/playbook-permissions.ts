import type { Playbook } from '../domain/playbook.ts';
import type { AccessCheck } from '../ports/cluster.ts';
import { permission } from './kinds.ts';

/** A permission pre-flight checks, with the step (or `spec.gitops`) of the playbook that needs it. */
export type PlaybookPermission = AccessCheck & {
  playbook: string;
  step: string;
  /**
   * Granted and checked cluster-wide (a ClusterRole), whatever namespaces the playbook acts in: the object lives
   * where its controller keeps it (Argo CD's namespace, Flux's), which only the object's labels tell at run time.
   */
  clusterWide?: true;
};

/** What the `spec.gitops: suspend` of a playbook is recorded against in pre-flight reports. */
export const GITOPS_SUSPEND_STEP = 'spec.gitops';

/**
 * What `spec.gitops: suspend` reads and patches (src/guards/gitops-suspender.ts): an Argo CD Application's
 * `spec.syncPolicy.automated`, a Flux Kustomization's or HelmRelease's `spec.suspend`, in whatever namespace each lives.
 */
export function gitopsSuspendPermissions(): AccessCheck[] {
  return (['Application', 'Kustomization', 'HelmRelease'] as const).flatMap((kind) => [
    permission('get', kind, undefined),
    permission('patch', kind, undefined),
  ]);
}

/**
 * The Kubernetes permissions the steps of some playbooks need, for pre-flight. Parameters are not rendered yet at
 * load, so a templated namespace (`{{ labels.namespace }}`) is resolved from the playbook's triggers: each
 * `namespace="x"` matcher names a namespace the playbook may touch; without one the check is cluster-wide.
 * `spec.gitops: suspend` adds get and patch on the GitOps controllers' objects, cluster-wide.
 */
export function playbookPermissions(playbooks: readonly Playbook[]): PlaybookPermission[] {
  const out: PlaybookPermission[] = [];
  for (const p of playbooks) {
    if (p.gitops === 'suspend')
      for (const c of gitopsSuspendPermissions()) out.push({ ...c, playbook: p.name, step: GITOPS_SUSPEND_STEP, clusterWide: true });
    const namespaces = [
      ...new Set(p.triggers.flatMap((t) => t.matchers.filter((m) => m.name === 'namespace' && m.op === '=').map((m) => m.value))),
    ];
    for (const step of p.rungs.flatMap((r) => r.steps)) {
      const def = step.definition;
      if (!def.permissions) continue;
      let checks: AccessCheck[];
      try {
        checks = def.permissions(step.with as never) as AccessCheck[];
      } catch {
        continue;
      }
      for (const c of checks) {
        const templated = c.namespace?.includes('{{');
        if (!templated) out.push({ ...c, playbook: p.name, step: step.id });
        else if (namespaces.length === 0) out.push({ ...c, namespace: undefined, playbook: p.name, step: step.id });
        else for (const ns of namespaces) out.push({ ...c, namespace: ns, playbook: p.name, step: step.id });
      }
    }
  }
  return out;
}

/**
 * Steps whose permissions cannot be worked out before an alert (a templated kind, for example): pre-flight cannot
 * say whether they could act, so it reports them as unchecked rather than leaving them out silently.
 */
export function uncheckedSteps(playbooks: readonly Playbook[]): Array<{ playbook: string; step: string; why: string }> {
  const out: Array<{ playbook: string; step: string; why: string }> = [];
  for (const p of playbooks) {
    for (const step of p.rungs.flatMap((r) => r.steps)) {
      if (!step.definition.permissions) continue;
      try {
        step.definition.permissions(step.with as never);
      } catch {
        const templated = Object.entries(step.with)
          .filter(([, v]) => typeof v === 'string' && v.includes('{{'))
          .map(([k]) => k);
        out.push({
          playbook: p.name,
          step: step.id,
          why: `its permissions depend on ${templated.length ? templated.join(', ') : 'values'} known only when an alert arrives`,
        });
      }
    }
  }
  return out;
}

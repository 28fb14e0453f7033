import { describeTarget, type TargetRef } from '../engine/step-definition.ts';

/**
 * Which objects remediator may change at all: pure decisions over the configured allow/deny lists and the object's
 * own labels and annotations. A refusal is a sentence for the run's decision log; `undefined` means in scope.
 */
export interface ScopeConfig {
  /** Empty = every namespace not excluded. */
  namespaces: readonly string[];
  excludeNamespaces: readonly string[];
  /** Empty = every kind. */
  kinds: readonly string[];
}

/** The label that switches remediation off for one object, whatever any playbook says. */
export const DISABLED_LABEL = 'remediator.io/disabled';

/** Markers GitOps controllers put on the objects they own: changing those by hand is undone at the next sync. */
const GITOPS_MARKERS: ReadonlyArray<{ owner: string; where: 'labels' | 'annotations'; key: string }> = [
  { owner: 'Argo CD', where: 'labels', key: 'argocd.argoproj.io/instance' },
  { owner: 'Argo CD', where: 'annotations', key: 'argocd.argoproj.io/tracking-id' },
  { owner: 'Flux', where: 'labels', key: 'kustomize.toolkit.fluxcd.io/name' },
  { owner: 'Flux', where: 'labels', key: 'helm.toolkit.fluxcd.io/name' },
];

export interface ObjectMarks {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** What the playbook says about objects a GitOps controller owns (spec.gitops, default refuse). */
export type GitopsPolicy = 'refuse' | 'allow';

/**
 * The namespace and kind lists from config. A cluster-scoped object (a Node) is in no namespace: the exclusion list
 * does not concern it, but a non-empty allow list refuses it, since that list confines remediator to the namespaces
 * it names. The kinds list applies to every object.
 */
export function configScopeRefusal(target: TargetRef, scope: ScopeConfig): string | undefined {
  const where = describeTarget(target);
  if (target.namespace === undefined) {
    if (scope.namespaces.length > 0) return `${where} is cluster-scoped, and guards.scope.namespaces confines remediator to namespaces ${scope.namespaces.join(', ')}`;
  } else if (scope.excludeNamespaces.includes(target.namespace)) {
    return `${where}: namespace "${target.namespace}" is excluded (guards.scope.excludeNamespaces)`;
  } else if (scope.namespaces.length > 0 && !scope.namespaces.includes(target.namespace)) {
    return `${where}: namespace "${target.namespace}" is not in guards.scope.namespaces (${scope.namespaces.join(', ')})`;
  }
  if (scope.kinds.length > 0 && !scope.kinds.includes(target.kind)) return `${where}: kind ${target.kind} is not in guards.scope.kinds (${scope.kinds.join(', ')})`;
  return undefined;
}

/** The GitOps controller that owns an object, from its markers, or undefined. */
export function gitopsOwner(marks: ObjectMarks): { owner: string; marker: string } | undefined {
  for (const m of GITOPS_MARKERS) {
    const value = marks[m.where]?.[m.key];
    if (value !== undefined) return { owner: m.owner, marker: `${m.where === 'labels' ? 'label' : 'annotation'} ${m.key}=${value}` };
  }
  return undefined;
}

/** The object's own opt-out label and GitOps ownership. */
export function objectScopeRefusal(target: TargetRef, marks: ObjectMarks, gitops: GitopsPolicy): string | undefined {
  const where = describeTarget(target);
  if (marks.labels?.[DISABLED_LABEL] === 'true') return `${where} is labelled ${DISABLED_LABEL}=true: remediator never touches it`;
  const owned = gitopsOwner(marks);
  if (owned && gitops === 'refuse') {
    return `${where} is managed by ${owned.owner} (${owned.marker}); a change here would be reverted at the next sync (set spec.gitops: allow in the playbook to act anyway)`;
  }
  return undefined;
}

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

export interface ObjectMarks {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * What the playbook says about objects a GitOps controller owns (spec.gitops, default refuse): refuse to touch them,
 * allow it (the next sync may undo it), or suspend the owner's auto-sync for the run (src/guards/gitops-suspender.ts).
 */
export type GitopsPolicy = 'refuse' | 'allow' | 'suspend';

/**
 * The namespace and kind lists from config. A cluster-scoped object (a Node) is in no namespace: the exclusion list
 * does not concern it, but a non-empty allow list refuses it, since that list confines remediator to the namespaces
 * it names. The kinds list applies to every object.
 */
export function configScopeRefusal(target: TargetRef, scope: ScopeConfig): string | undefined {
  const where = describeTarget(target);
  if (target.namespace === undefined) {
    if (scope.namespaces.length > 0)
      return `${where} is cluster-scoped, and guards.scope.namespaces confines remediator to namespaces ${scope.namespaces.join(', ')}`;
  } else if (scope.excludeNamespaces.includes(target.namespace)) {
    return `${where}: namespace "${target.namespace}" is excluded (guards.scope.excludeNamespaces)`;
  } else if (scope.namespaces.length > 0 && !scope.namespaces.includes(target.namespace)) {
    return `${where}: namespace "${target.namespace}" is not in guards.scope.namespaces (${scope.namespaces.join(', ')})`;
  }
  if (scope.kinds.length > 0 && !scope.kinds.includes(target.kind))
    return `${where}: kind ${target.kind} is not in guards.scope.kinds (${scope.kinds.join(', ')})`;
  return undefined;
}

/** The object that drives a GitOps controller's sync of an object: what `spec.gitops: suspend` suspends. */
export interface GitopsController {
  kind: 'Application' | 'Kustomization' | 'HelmRelease';
  name: string;
  /** Absent for an Argo CD Application tracked without one: it lives in Argo CD's own namespace (config). */
  namespace?: string;
}

export interface GitopsOwner {
  owner: 'Argo CD' | 'Flux';
  /** `label app.kubernetes.io/instance=shop`: what gave it away. */
  marker: string;
  controller?: GitopsController;
}

const ARGO_ANNOTATION_PREFIX = 'argocd.argoproj.io/';

/**
 * The GitOps controller that owns an object, from the markers it puts on the objects it syncs, or undefined:
 * - Argo CD's annotation tracking, `argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<namespace>/<name>` (the
 *   default since 3.0; `<app>` is `<namespace>_<name>` for an Application outside Argo CD's namespace);
 * - Argo CD's label tracking (the default before 3.0): `app.kubernetes.io/instance: <app>`. Helm charts set that
 *   label too, so it counts only together with an `argocd.argoproj.io/…` annotation (sync options, waves, hooks,
 *   compare options); a custom tracking label `argocd.argoproj.io/instance` counts alone;
 * - Flux: `kustomize.toolkit.fluxcd.io/name` + `/namespace` (a Kustomization), `helm.toolkit.fluxcd.io/name` +
 *   `/namespace` (a HelmRelease).
 */
export function gitopsOwner(marks: ObjectMarks): GitopsOwner | undefined {
  const labels = marks.labels ?? {};
  const annotations = marks.annotations ?? {};
  const tracking = annotations['argocd.argoproj.io/tracking-id'];
  if (tracking !== undefined) {
    const app = tracking.split(':')[0] ?? '';
    return {
      owner: 'Argo CD',
      marker: `annotation argocd.argoproj.io/tracking-id=${tracking}`,
      ...(app ? { controller: argoApplication(app) } : {}),
    };
  }
  const custom = labels['argocd.argoproj.io/instance'];
  if (custom !== undefined)
    return { owner: 'Argo CD', marker: `label argocd.argoproj.io/instance=${custom}`, controller: argoApplication(custom) };
  const instance = labels['app.kubernetes.io/instance'];
  const argoAnnotation = Object.keys(annotations).find((k) => k.startsWith(ARGO_ANNOTATION_PREFIX));
  if (instance !== undefined && argoAnnotation !== undefined) {
    return {
      owner: 'Argo CD',
      marker: `label app.kubernetes.io/instance=${instance} with annotation ${argoAnnotation}`,
      controller: argoApplication(instance),
    };
  }
  for (const [kind, group] of [
    ['Kustomization', 'kustomize'],
    ['HelmRelease', 'helm'],
  ] as const) {
    const name = labels[`${group}.toolkit.fluxcd.io/name`];
    if (name === undefined) continue;
    const namespace = labels[`${group}.toolkit.fluxcd.io/namespace`];
    return {
      owner: 'Flux',
      marker: `label ${group}.toolkit.fluxcd.io/name=${name}`,
      ...(namespace ? { controller: { kind, name, namespace } } : {}),
    };
  }
  return undefined;
}

/** `shop` or `team-a_shop` (an Application in namespace team-a). */
function argoApplication(app: string): GitopsController {
  const i = app.indexOf('_');
  return i > 0 ? { kind: 'Application', namespace: app.slice(0, i), name: app.slice(i + 1) } : { kind: 'Application', name: app };
}

/**
 * Whether `spec.gitops: suspend` can pause this owner's sync: an Argo CD Application, a Flux Kustomization or a Flux
 * HelmRelease whose object names it (Flux's labels carry its namespace).
 */
export function suspendable(owned: GitopsOwner): owned is GitopsOwner & { controller: GitopsController } {
  return owned.controller !== undefined;
}

/** The object's own opt-out label and GitOps ownership. */
export function objectScopeRefusal(target: TargetRef, marks: ObjectMarks, gitops: GitopsPolicy): string | undefined {
  const where = describeTarget(target);
  if (marks.labels?.[DISABLED_LABEL] === 'true') return `${where} is labelled ${DISABLED_LABEL}=true: remediator never touches it`;
  const owned = gitopsOwner(marks);
  if (owned && gitops === 'refuse') {
    return `${where} is managed by ${owned.owner} (${owned.marker}); a change here would be reverted at the next sync (set spec.gitops: suspend or allow in the playbook to act anyway)`;
  }
  if (owned && gitops === 'suspend' && !suspendable(owned)) {
    return `${where} is managed by ${owned.owner} (${owned.marker}); spec.gitops: suspend pauses an Argo CD Application or a Flux Kustomization or HelmRelease, and this object does not name the one that syncs it (a Flux label without its …/namespace twin)`;
  }
  return undefined;
}

import type { PodTemplate, ReplicaSet, Workload } from '../ports/cluster.ts';
import { semanticEqual } from './semantic-equal.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const POD_TEMPLATE_HASH = 'pod-template-hash';
/** The pod template annotation `kubectl rollout restart` sets; a revision that differs only by it is the same release. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** kubectl's `annotationsToSkip` (pkg/polymorphichelpers/rollback.go): never copied from a ReplicaSet. */
export const ANNOTATIONS_TO_SKIP: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export type RollbackPlan =
  | { kind: 'patch'; revision: number; template: PodTemplate; annotations: Record<string, string> }
  | { kind: 'skip'; revision: number; message: string }
  | { kind: 'refuse'; message: string };

/**
 * `kubectl rollout undo` (DeploymentRollbacker.Rollback, kubernetes/kubectl pkg/polymorphichelpers/rollback.go),
 * as a pure decision over the Deployment and the ReplicaSets its selector lists:
 * 1. negative revision → refused; only ReplicaSets controlled by the Deployment (controller ownerReference, same UID)
 *    count; revision = integer annotation `deployment.kubernetes.io/revision` (missing → 0, unparsable → skipped);
 * 2. toRevision 0 → the second-highest revision, none → `no rollout history found`; N → exactly N or
 *    `unable to find specified revision N in history`;
 * 3. a paused Deployment is refused (checked after the lookup, as kubectl does);
 * 4. template equal to the current one ignoring pod-template-hash → skipped;
 * 5. otherwise: the template without pod-template-hash, and annotations = the Deployment's values for the
 *    skip-list keys plus the ReplicaSet's other annotations (kubectl sends them as one JSON Patch replacing
 *    /spec/template and then /metadata/annotations).
 *
 * `skipRestarts` (not kubectl; toRevision 0 only): the newest revision whose template differs from the current one
 * by more than pod-template-hash and `kubectl.kubernetes.io/restartedAt`. After a `rollout restart` the previous
 * revision is the same release before the restart, so plain undo would only undo the restart; this reaches the
 * release before it, which is what a person picks from `kubectl rollout history`.
 */
export function planRollback(
  deployment: Workload,
  replicaSets: readonly ReplicaSet[],
  toRevision: number,
  options: { skipRestarts?: boolean } = {},
): RollbackPlan {
  if (toRevision < 0) return { kind: 'refuse', message: `unable to find specified revision ${toRevision} in history` };
  const owned = replicaSets.filter((rs) =>
    (rs.metadata.ownerReferences ?? []).some((o) => o.controller === true && o.uid === deployment.metadata.uid),
  );
  if (toRevision === 0 && options.skipRestarts) return planPreviousRelease(deployment, owned);
  let chosen: ReplicaSet | undefined;
  let chosenRevision = -1;
  let latest: ReplicaSet | undefined;
  let latestRevision = -1;
  for (const rs of owned) {
    const v = revisionOf(rs);
    if (v === undefined) continue;
    if (toRevision === 0) {
      if (latestRevision < v) {
        chosen = latest;
        chosenRevision = latestRevision;
        latest = rs;
        latestRevision = v;
      } else if (chosenRevision < v) {
        chosen = rs;
        chosenRevision = v;
      }
    } else if (v === toRevision) {
      chosen = rs;
      chosenRevision = v;
      break;
    }
  }
  if (chosen === undefined) {
    return toRevision > 0
      ? { kind: 'refuse', message: `unable to find specified revision ${toRevision} in history` }
      : { kind: 'refuse', message: `no rollout history found for deployment "${deployment.metadata.name}"` };
  }
  return planTo(deployment, chosen, chosenRevision);
}

function planPreviousRelease(deployment: Workload, owned: readonly ReplicaSet[]): RollbackPlan {
  const current = release(deployment.spec.template);
  const newestFirst = owned
    .map((rs) => ({ rs, revision: revisionOf(rs) }))
    .filter((x): x is { rs: ReplicaSet; revision: number } => x.revision !== undefined)
    .sort((a, b) => b.revision - a.revision);
  const chosen = newestFirst.find((x) => !semanticEqual(release(x.rs.spec.template ?? {}), current));
  if (chosen === undefined)
    return {
      kind: 'refuse',
      message: `no earlier release in the rollout history of deployment "${deployment.metadata.name}" (revisions that differ only by a restart are skipped)`,
    };
  return planTo(deployment, chosen.rs, chosen.revision);
}

/** A pod template as a release: without pod-template-hash and the restart annotation. */
function release(template: PodTemplate): PodTemplate {
  const t = withoutHash(structuredClone(template));
  if (t.metadata?.annotations?.[RESTARTED_AT] !== undefined) {
    const { [RESTARTED_AT]: _restartedAt, ...annotations } = t.metadata.annotations;
    t.metadata.annotations = annotations;
  }
  return t;
}

function planTo(deployment: Workload, chosen: ReplicaSet, chosenRevision: number): RollbackPlan {
  if (deployment.spec.paused) {
    return {
      kind: 'refuse',
      message: "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    };
  }
  const rsTemplate = structuredClone(chosen.spec.template ?? {});
  if (semanticEqual(withoutHash(rsTemplate), withoutHash(structuredClone(deployment.spec.template)))) {
    return {
      kind: 'skip',
      revision: chosenRevision,
      message: `skipped rollback (current template already matches revision ${chosenRevision})`,
    };
  }
  const template = withoutHash(rsTemplate);
  const annotations: Record<string, string> = {};
  const current = deployment.metadata.annotations ?? {};
  for (const key of ANNOTATIONS_TO_SKIP) if (current[key] !== undefined) annotations[key] = current[key];
  for (const [key, value] of Object.entries(chosen.metadata.annotations ?? {})) if (!ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value;
  return { kind: 'patch', revision: chosenRevision, template, annotations };
}

/** `deploymentutil.Revision`: the annotation as an integer; absent → 0; not an integer → undefined (skipped). */
export function revisionOf(obj: { metadata: { annotations?: Record<string, string> } }): number | undefined {
  const raw = obj.metadata.annotations?.[REVISION_ANNOTATION];
  if (raw === undefined) return 0;
  return /^[+-]?\d+$/.test(raw) ? Number(raw) : undefined;
}

function withoutHash(template: PodTemplate): PodTemplate {
  if (template.metadata?.labels !== undefined) {
    const { [POD_TEMPLATE_HASH]: _hash, ...labels } = template.metadata.labels;
    template.metadata.labels = labels;
  }
  return template;
}

/**
 * A Kubernetes object a step acts on. `kind` is the API kind (`Deployment`, `Service`, `ConfigMap`, `Node`, …);
 * `namespace` is absent for a cluster-scoped object (a Node).
 */
export interface TargetRef {
  namespace?: string;
  kind: string;
  name: string;
}

/** `ns/Deployment/web`; a cluster-scoped object has an empty namespace part: `/Node/worker-1`. */
export function targetKey(t: TargetRef): string {
  return `${t.namespace ?? ''}/${t.kind}/${t.name}`;
}

/** `Deployment ns/web`, `Node worker-1`: a target in a sentence. */
export function describeTarget(t: TargetRef): string {
  return t.namespace === undefined ? `${t.kind} ${t.name}` : `${t.kind} ${t.namespace}/${t.name}`;
}

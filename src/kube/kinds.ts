/**
 * API coordinates of the kinds remediator touches by name: for RBAC checks (group + plural resource), messages
 * (`deployments.apps "web"`), and Events' involvedObject (apiVersion).
 */
export interface KindInfo {
  apiVersion: string;
  group: string;
  resource: string;
}

export const KINDS = {
  Deployment: { apiVersion: 'apps/v1', group: 'apps', resource: 'deployments' },
  StatefulSet: { apiVersion: 'apps/v1', group: 'apps', resource: 'statefulsets' },
  DaemonSet: { apiVersion: 'apps/v1', group: 'apps', resource: 'daemonsets' },
  ReplicaSet: { apiVersion: 'apps/v1', group: 'apps', resource: 'replicasets' },
  ConfigMap: { apiVersion: 'v1', group: '', resource: 'configmaps' },
  Service: { apiVersion: 'v1', group: '', resource: 'services' },
  Pod: { apiVersion: 'v1', group: '', resource: 'pods' },
  Event: { apiVersion: 'v1', group: '', resource: 'events' },
} as const satisfies Record<string, KindInfo>;

export type KnownKind = keyof typeof KINDS;

/** `deployments.apps`, `pods`: the resource as kubectl and RBAC messages spell it. */
export function qualifiedResource(kind: KnownKind, subresource?: string): string {
  const k = KINDS[kind];
  const base = k.group === '' ? k.resource : `${k.resource}.${k.group}`;
  return subresource === undefined ? base : `${base}/${subresource}`;
}

/** The permission entry a step definition lists for one verb on one kind. */
export function permission(verb: string, kind: KnownKind, namespace: string, subresource?: string) {
  const k = KINDS[kind];
  return subresource === undefined
    ? { verb, group: k.group, resource: k.resource, namespace }
    : { verb, group: k.group, resource: k.resource, subresource, namespace };
}

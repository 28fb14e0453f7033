import { KINDS } from './kinds.ts';

/**
 * Whether an API resource is cluster-scoped (Node), so its rules belong in a ClusterRole rather than a Role. Read
 * from the kinds table: an entry marked `namespaced: false` or `scope: 'Cluster'`. A resource the table does not
 * know is taken as namespaced (the narrower grant); `remediator rbac` lists it under the Role.
 */
export function isClusterScoped(group: string, resource: string): boolean {
  for (const info of Object.values(KINDS) as Array<{ group: string; resource: string; namespaced?: boolean; scope?: string }>) {
    if (info.group === group && info.resource === resource) return info.namespaced === false || info.scope === 'Cluster';
  }
  return false;
}

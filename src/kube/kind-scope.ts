import { KINDS } from './kinds.ts';

/** A row of the kinds table as RBAC sees it; the table names the plural `resource` (or `plural`). */
type Row = { group: string; resource?: string; plural?: string; namespaced?: boolean; scope?: string };

/** The API group and plural resource of a kind remediator knows, for RBAC rules; undefined for any other kind. */
export function kindResource(kind: string): { group: string; resource: string } | undefined {
  const row = (KINDS as Record<string, Row>)[kind];
  const resource = row?.resource ?? row?.plural;
  return row && resource ? { group: row.group, resource } : undefined;
}

/**
 * Whether an API resource is cluster-scoped (Node), so its rules belong in a ClusterRole rather than a Role. Read
 * from the kinds table: a row with `scope: 'Cluster'` (or `namespaced: false`). A resource the table does not know
 * is taken as namespaced (the narrower grant); `remediator rbac` lists it under the Role.
 */
export function isClusterScoped(group: string, resource: string): boolean {
  for (const row of Object.values(KINDS) as Row[]) {
    if (row.group === group && (row.resource ?? row.plural) === resource) return row.scope === 'Cluster' || row.namespaced === false;
  }
  return false;
}

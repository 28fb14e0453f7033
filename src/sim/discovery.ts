import { API_GROUPS, RESOURCE_TYPES, type ResourceType } from './resources.ts';

/**
 * Discovery documents (the legacy, unaggregated form; clients that ask for aggregated discovery accept it when the
 * Content-Type says plain `application/json`) and `/version`. kubectl builds its RESTMapper from these: short names,
 * namespaced-ness, verbs, and the `deployments/scale` entry that tells it the Scale kind is autoscaling/v1.
 */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(group: string, version: string): unknown {
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

export function apiGroupList(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: API_GROUPS.map((g) => groupEntry(g.group, g.version)) };
}

export function apiGroup(group: string): unknown | undefined {
  const g = API_GROUPS.find((x) => x.group === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...(groupEntry(g.group, g.version) as object) } : undefined;
}

function resourceEntries(t: ResourceType): unknown[] {
  const main = {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.verbs,
    ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
    ...(t.categories ? { categories: t.categories } : {}),
  };
  const subs = t.subresources.map((s) => {
    if (s === 'scale')
      return {
        name: `${t.plural}/scale`,
        singularName: '',
        namespaced: t.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: ['get', 'patch', 'update'],
      };
    if (s === 'log') return { name: `${t.plural}/log`, singularName: '', namespaced: t.namespaced, kind: 'Pod', verbs: ['get'] };
    return { name: `${t.plural}/${s}`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] };
  });
  return [main, ...subs];
}

/** The APIResourceList of one group/version ('' = core), or undefined when the server does not serve it. */
export function apiResourceList(group: string, version: string): unknown | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    ...(group ? { apiVersion: 'v1' } : {}),
    groupVersion: group ? `${group}/${version}` : version,
    resources: types.flatMap(resourceEntries),
  };
}

import { readdir } from 'node:fs/promises';
import { sep } from 'node:path';
import type { Playbook } from '../domain/playbook.ts';
import type { StepLimits } from '../ports/step-services.ts';
import type { TargetRef } from '../engine/step-definition.ts';
import { gitopsSuspendPermissions, playbookPermissions } from './playbook-permissions.ts';
import { isClusterScoped, kindResource } from './kind-scope.ts';

/** One rule of a Kubernetes Role or ClusterRole. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface PlaybookRbac {
  /** Rules on namespaced kinds: a Role, bound in each namespace the playbooks act in. */
  role: PolicyRule[];
  /** Rules on cluster-scoped kinds (a ClusterRole); empty unless a playbook touches one. */
  clusterRole: PolicyRule[];
  /** Namespaces the playbooks' triggers name (`namespace="x"`); empty when a playbook may act in any. */
  namespaces: string[];
  /** Steps whose objects could not be worked out (a templated manifest path); their writes are not in the rules. */
  unknown: string[];
}

export interface RbacOptions {
  /** Where kube.apply reads manifests, for the kinds it writes. */
  limits: Pick<StepLimits, 'manifestsDir' | 'applyKinds' | 'maxReplicas' | 'fieldManager'>;
  /** Which resources are cluster-scoped (default: the kinds table, src/kube/kind-scope.ts). */
  clusterScoped?: (group: string, resource: string) => boolean;
}

interface Need {
  verb: string;
  group: string;
  resource: string;
  /** Granted in the ClusterRole although the kind is namespaced (see PlaybookPermission.clusterWide). */
  clusterWide?: boolean;
}

/**
 * The RBAC rules for exactly what these playbooks can do: every permission their steps declare (what pre-flight
 * checks), `get` on every object a mutating step names (the guard layer reads its labels and annotations before
 * the write), and for kube.apply, whose objects live in a manifest file, `get`, `patch` and `create` on each kind the
 * manifest holds (server-side apply is a patch, authorised as a create when the object does not exist yet). With
 * `spec.gitops: suspend`, get and patch on Argo CD Applications and Flux Kustomizations and HelmReleases go to the
 * ClusterRole: they live in the controllers' namespaces, not the ones the playbook acts in.
 */
export async function playbookRbac(playbooks: readonly Playbook[], options: RbacOptions): Promise<PlaybookRbac> {
  const clusterScoped = options.clusterScoped ?? isClusterScoped;
  const needs: Need[] = playbookPermissions(playbooks).map((c) => ({
    verb: c.verb,
    group: c.group,
    resource: c.subresource ? `${c.resource}/${c.subresource}` : c.resource,
    ...(c.clusterWide ? { clusterWide: true } : {}),
  }));
  const unknown: string[] = [];
  for (const p of playbooks) {
    for (const step of p.rungs.flatMap((r) => r.steps)) {
      const def = step.definition;
      if (def.kind !== 'action' || !def.mutates) continue;
      const targets: TargetRef[] = [];
      try {
        for (const params of await concreteParams(step.uses, step.with, options.limits.manifestsDir)) {
          const got = await def.mutates(params as never, { changes: [], outputs: {}, limits: { ...options.limits } });
          targets.push(...(got === null ? [] : Array.isArray(got) ? got : [got]));
        }
      } catch (err) {
        unknown.push(`${p.name}/${step.id} (${step.uses}): ${(err as Error).message}`);
        continue;
      }
      for (const t of targets) {
        const info = kindResource(t.kind);
        if (!info) {
          unknown.push(`${p.name}/${step.id} (${step.uses}): kind ${t.kind} is not one remediator knows`);
          continue;
        }
        const verbs = step.uses === 'kube.apply' ? ['get', 'patch', 'create'] : ['get'];
        for (const verb of verbs) needs.push({ verb, group: info.group, resource: info.resource });
      }
    }
  }
  const namespaces = new Set<string>();
  let anyNamespace = false;
  for (const p of playbooks) {
    const named = p.triggers.flatMap((t) => t.matchers.filter((m) => m.name === 'namespace' && m.op === '=').map((m) => m.value));
    if (named.length === 0) anyNamespace = true;
    for (const n of named) namespaces.add(n);
  }
  const base = (r: string) => r.split('/')[0] as string;
  const inClusterRole = (n: Need) => n.clusterWide === true || clusterScoped(n.group, base(n.resource));
  return {
    role: rules(needs.filter((n) => !inClusterRole(n))),
    clusterRole: rules(needs.filter(inClusterRole)),
    namespaces: anyNamespace ? [] : [...namespaces].sort(),
    unknown,
  };
}

/**
 * The ClusterRole rules `spec.gitops: suspend` adds to any playbook's (what the Helm chart grants with
 * `rbac.gitopsSuspend`, for playbooks of your own that suspend).
 */
export function gitopsSuspendRules(): PolicyRule[] {
  return rules(gitopsSuspendPermissions().map((c) => ({ verb: c.verb, group: c.group, resource: c.resource })));
}

/**
 * The parameter sets a step can run with, as far as its objects go. A kube.apply whose manifest path is templated
 * (`manifests/{{ labels.namespace }}/{{ labels.configmap }}.yaml`) can apply any file of the manifests folder the
 * pattern matches; each such file is one parameter set. Other steps name their objects' kinds in their parameters.
 */
async function concreteParams(
  uses: string,
  params: Record<string, unknown>,
  manifestsDir: string,
): Promise<Array<Record<string, unknown>>> {
  const manifest = params.manifest;
  if (uses !== 'kube.apply' || typeof manifest !== 'string' || !manifest.includes('{{')) return [params];
  const pattern = new RegExp(
    `^${manifest
      .split(/\{\{.*?\}\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+')}$`,
  );
  const files = (await readdir(manifestsDir, { recursive: true })).map(String).filter((f) => pattern.test(f.split(sep).join('/')));
  if (files.length === 0) throw new Error(`no file of ${manifestsDir} matches the manifest pattern ${manifest}`);
  // The namespace only places the objects, and a templated one is known only at run time: the file's own counts here.
  const { namespace, ...rest } = params;
  const placed = typeof namespace === 'string' && namespace.includes('{{') ? rest : params;
  return files.sort().map((f) => ({ ...placed, manifest: f }));
}

const VERB_ORDER = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const byVerb = (a: string, b: string) => (VERB_ORDER.indexOf(a) + 1 || 99) - (VERB_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b);

/** Merges needs into rules: one per API group and verb set, resources sorted; stable, so the output can be diffed. */
function rules(needs: readonly Need[]): PolicyRule[] {
  const verbsOf = new Map<string, Set<string>>();
  for (const n of needs) {
    const key = JSON.stringify([n.group, n.resource]);
    if (!verbsOf.has(key)) verbsOf.set(key, new Set());
    verbsOf.get(key)!.add(n.verb);
  }
  const grouped = new Map<string, PolicyRule>();
  for (const [key, verbs] of verbsOf) {
    const [group, resource] = JSON.parse(key) as [string, string];
    const sorted = [...verbs].sort(byVerb);
    const gk = JSON.stringify([group, sorted]);
    if (!grouped.has(gk)) grouped.set(gk, { apiGroups: [group], resources: [], verbs: sorted });
    grouped.get(gk)!.resources.push(resource);
  }
  const out = [...grouped.values()];
  for (const r of out) r.resources.sort();
  return out.sort(
    (a, b) =>
      (a.apiGroups[0] as string).localeCompare(b.apiGroups[0] as string) ||
      (a.resources[0] as string).localeCompare(b.resources[0] as string),
  );
}

import { resolve } from 'node:path';
import { Document, isScalar, visit } from 'yaml';
import { loadConfig, defaultConfig } from '../config/load-config.ts';
import { loadPlaybookDir } from '../playbooks/playbook-catalog.ts';
import { createRegistry } from '../main.ts';
import { EVERY_SERVICE } from '../ports/step-services.ts';
import { gitopsSuspendRules, playbookRbac, type PlaybookRbac } from '../kube/playbook-rbac.ts';
import { formatProblem } from '../schema/yaml-source.ts';
import { isRemediatorError } from '../domain/errors.ts';

export interface RbacCommandOptions {
  playbooks?: string;
  config?: string;
  byPlaybook?: boolean;
}

/**
 * `remediator rbac [--playbooks DIR]`: the Role (and, only when a playbook touches a cluster-scoped kind, the
 * ClusterRole) rules for exactly what the playbooks can do, as YAML. `--by-playbook` prints them per playbook (what
 * the Helm chart keeps in files/rbac.yaml, so an install grants only what its chosen playbooks need). Exits 1 when a
 * playbook has problems, or when a step's objects cannot be worked out (its writes would be missing from the rules).
 * A playbook with `spec.gitops: suspend` gets get and patch on Argo CD Applications and Flux Kustomizations and
 * HelmReleases in the ClusterRole; `--by-playbook` also prints those rules on their own (`gitopsSuspend`).
 */
export async function rbacCommand(opts: RbacCommandOptions): Promise<void> {
  let config = defaultConfig();
  if (opts.config) {
    try {
      config = await loadConfig({ file: opts.config });
    } catch (err) {
      console.error(isRemediatorError(err) ? err.message : String(err));
      process.exit(1);
    }
  }
  const dir = opts.playbooks ?? config.playbooks.dir;
  const set = await loadPlaybookDir(dir, { registry: createRegistry(), available: EVERY_SERVICE });
  if (set.problems.length > 0) {
    for (const p of set.problems) console.error(formatProblem(p));
    console.error(`\n${set.problems.length} problem(s); fix them first (remediator lint ${dir})`);
    process.exit(1);
  }
  const limits = { ...config.kubernetes, manifestsDir: resolve(config.kubernetes.manifestsDir ?? dir) };
  const show = (r: PlaybookRbac) => ({
    ...(r.namespaces.length > 0 ? { namespaces: r.namespaces } : {}),
    role: r.role,
    ...(r.clusterRole.length > 0 ? { clusterRole: r.clusterRole } : {}),
  });
  const unknown: string[] = [];
  let doc: unknown;
  if (opts.byPlaybook) {
    const per: Record<string, unknown> = {};
    for (const p of [...set.playbooks].sort((a, b) => a.name.localeCompare(b.name))) {
      const r = await playbookRbac([p], { limits });
      unknown.push(...r.unknown);
      per[p.name] = show(r);
    }
    // What a playbook with spec.gitops: suspend adds (the chart's rbac.gitopsSuspend grants it for playbooks of your own).
    doc = { playbooks: per, gitopsSuspend: { clusterRole: gitopsSuspendRules() } };
  } else {
    const r = await playbookRbac(set.playbooks, { limits });
    unknown.push(...r.unknown);
    doc = show(r);
  }
  if (unknown.length > 0) {
    for (const u of unknown) console.error(`cannot tell what this step writes: ${u}`);
    process.exit(1);
  }
  // Lists of names (apiGroups, resources, verbs) print on one line, as RBAC rules are usually written.
  const yaml = new Document(doc);
  visit(yaml, {
    Seq: (_key, node) => {
      node.flow = node.items.every((i) => isScalar(i));
    },
  });
  process.stdout.write(
    `# RBAC rules for what the playbooks in ${dir} can do (remediator rbac${opts.byPlaybook ? ' --by-playbook' : ''}).\n` +
      `# role: namespaced kinds, to bind in each namespace the playbooks act in; clusterRole: cluster-scoped kinds, only when needed.\n` +
      yaml.toString({ flowCollectionPadding: false }),
  );
}

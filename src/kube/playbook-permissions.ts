import type { Playbook } from '../domain/playbook.ts';
import type { AccessCheck } from '../ports/cluster.ts';

/**
 * The Kubernetes permissions the steps of some playbooks need, for pre-flight. Parameters are not rendered yet at
 * load, so a templated namespace (`{{ labels.namespace }}`) is resolved from the playbook's triggers: each
 * `namespace="x"` matcher names a namespace the playbook may touch; without one the check is cluster-wide.
 */
export function playbookPermissions(playbooks: readonly Playbook[]): Array<AccessCheck & { playbook: string; step: string }> {
  const out: Array<AccessCheck & { playbook: string; step: string }> = [];
  for (const p of playbooks) {
    const namespaces = [
      ...new Set(p.triggers.flatMap((t) => t.matchers.filter((m) => m.name === 'namespace' && m.op === '=').map((m) => m.value))),
    ];
    for (const step of p.rungs.flatMap((r) => r.steps)) {
      const def = step.definition;
      if (!def.permissions) continue;
      let checks: AccessCheck[];
      try {
        checks = def.permissions(step.with as never) as AccessCheck[];
      } catch {
        continue;
      }
      for (const c of checks) {
        const templated = c.namespace?.includes('{{');
        if (!templated) out.push({ ...c, playbook: p.name, step: step.id });
        else if (namespaces.length === 0) out.push({ ...c, namespace: undefined, playbook: p.name, step: step.id });
        else for (const ns of namespaces) out.push({ ...c, namespace: ns, playbook: p.name, step: step.id });
      }
    }
  }
  return out;
}

/**
 * Steps whose permissions cannot be worked out before an alert (a templated kind, for example): pre-flight cannot
 * say whether they could act, so it reports them as unchecked rather than leaving them out silently.
 */
export function uncheckedSteps(playbooks: readonly Playbook[]): Array<{ playbook: string; step: string; why: string }> {
  const out: Array<{ playbook: string; step: string; why: string }> = [];
  for (const p of playbooks) {
    for (const step of p.rungs.flatMap((r) => r.steps)) {
      if (!step.definition.permissions) continue;
      try {
        step.definition.permissions(step.with as never);
      } catch {
        const templated = Object.entries(step.with)
          .filter(([, v]) => typeof v === 'string' && v.includes('{{'))
          .map(([k]) => k);
        out.push({
          playbook: p.name,
          step: step.id,
          why: `its permissions depend on ${templated.length ? templated.join(', ') : 'values'} known only when an alert arrives`,
        });
      }
    }
  }
  return out;
}

import { stat } from 'node:fs/promises';
import { loadConfig, defaultConfig } from '../config/load-config.ts';
import { loadPlaybookDir, loadPlaybookFiles } from '../playbooks/playbook-catalog.ts';
import { createRegistry, configuredServices } from '../main.ts';
import { formatProblem, type SourceProblem } from '../schema/yaml-source.ts';
import { isRemediatorError } from '../engine/errors.ts';
import type { StepServices } from '../engine/step-services.ts';

const EVERY_SERVICE: ReadonlyArray<keyof StepServices> = ['kube', 'prometheus', 'alertmanager', 'escalation', 'limits'];

/**
 * `remediator lint [paths]`: the same checks as start-up and reload, printed as file:line:column lines. Without
 * `--config` the playbooks are checked on their own, as if every service (Kubernetes, Prometheus, Alertmanager,
 * escalation) were configured; with `--config` they are checked against that deployment, so a playbook needing a
 * service the config lacks is reported as it would be at start-up.
 */
export async function lintCommand(paths: string[], opts: { config?: string }): Promise<void> {
  const problems: string[] = [];
  let config = defaultConfig();
  if (opts.config) {
    try {
      config = await loadConfig({ file: opts.config });
    } catch (err) {
      problems.push(isRemediatorError(err) ? err.message : String(err));
    }
  }
  const available = opts.config ? configuredServices(config) : new Set<keyof StepServices>(EVERY_SERVICE);
  const ctx = { registry: createRegistry(), available };
  const targets = paths.length > 0 ? paths : [config.playbooks.dir];
  let count = 0;
  for (const p of targets) {
    let set: { playbooks: unknown[]; problems: SourceProblem[] };
    const isDir = await stat(p).then((s) => s.isDirectory(), () => false);
    if (isDir) set = await loadPlaybookDir(p, ctx);
    else set = await loadPlaybookFiles([p], ctx).catch((err: Error) => ({ playbooks: [], problems: [{ file: p, line: 1, column: 1, message: err.message }] }));
    count += set.playbooks.length;
    problems.push(...set.problems.map(formatProblem));
  }
  if (problems.length > 0) {
    for (const line of problems) console.error(line);
    console.error(`\n${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log(`ok: ${count} playbook(s) valid`);
}

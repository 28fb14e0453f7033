import { stat } from 'node:fs/promises';
import { loadConfig, defaultConfig } from '../config/load-config.ts';
import { loadPlaybookDir, loadPlaybookFiles } from '../playbooks/playbook-catalog.ts';
import { createRegistry, createServices, availableServices } from '../main.ts';
import { formatProblem, type SourceProblem } from '../schema/yaml-source.ts';
import { isRemediatorError } from '../engine/errors.ts';

/** `remediator lint [paths]`: the same checks as start-up and reload, printed as file:line:column lines. */
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
  const services = createServices(config);
  const ctx = { registry: createRegistry(), available: availableServices(services) };
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

import { stat } from 'node:fs/promises';
import { loadConfig, defaultConfig } from '../config/load-config.ts';
import { loadPlaybookDir, loadPlaybookFiles, type UnservablePlaybook } from '../playbooks/playbook-catalog.ts';
import { checkServiceConfig, createRegistry, preflightConfig, servicesEnabledBy } from '../main.ts';
import type { Playbook } from '../domain/playbook.ts';
import { describeDenied } from '../kube/step-preflight.ts';
import { uncheckedSteps } from '../kube/playbook-permissions.ts';
import { formatProblem, type SourceProblem } from '../schema/yaml-source.ts';
import { isRemediatorError } from '../domain/errors.ts';
import { EVERY_SERVICE, type StepServices } from '../ports/step-services.ts';

/**
 * `remediator lint [paths]`: the same checks as start-up and reload, printed as file:line:column lines. Without
 * `--config` the playbooks are checked on their own, as if every service (Kubernetes, Prometheus, Alertmanager,
 * escalation) were configured; with `--config` they are checked against the services that config enables
 * (escalation included), so a playbook needing a service the config lacks is reported (start-up runs without it and
 * reports it in /readyz; lint, the check before deploying, fails on it).
 * A Kubernetes configuration that cannot be loaded is reported as a problem, like start-up would refuse it.
 *
 * Pre-flight (with `--config` and Kubernetes enabled, unless `--no-preflight`): one SelfSubjectAccessReview per
 * permission the playbooks' steps need, asked of the API server the config names as the identity it gives. Every step
 * that could not act is a problem (`file: playbook X step Y cannot patch deployments.apps (namespace shop)`), so lint
 * fails before an incident would. An API server that cannot be reached is a warning, not a problem: lint also runs
 * where the cluster is not reachable (CI), and says that pre-flight did not run.
 */
export interface LintOptions {
  config?: string;
  preflight?: boolean;
}

export async function lintCommand(paths: string[], opts: LintOptions): Promise<void> {
  const problems: string[] = [];
  let configOk = false;
  let config = defaultConfig();
  let available: ReadonlySet<keyof StepServices> = EVERY_SERVICE;
  if (opts.config) {
    try {
      config = await loadConfig({ file: opts.config });
      available = servicesEnabledBy(config);
      // Builds nothing and calls nothing: a kubeconfig that is missing or names no cluster fails here.
      await checkServiceConfig(config);
      configOk = true;
    } catch (err) {
      problems.push(`${opts.config}: ${isRemediatorError(err) ? err.message : String(err)}`);
    }
  }
  const ctx = { registry: createRegistry(), available };
  const targets = paths.length > 0 ? paths : [config.playbooks.dir];
  let count = 0;
  const loaded: Playbook[] = [];
  for (const p of targets) {
    let set: { playbooks: Playbook[]; problems: SourceProblem[]; unservable: UnservablePlaybook[] };
    const isDir = await stat(p).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isDir) set = await loadPlaybookDir(p, ctx);
    else
      set = await loadPlaybookFiles([p], ctx).catch((err: Error) => ({
        playbooks: [],
        problems: [{ file: p, line: 1, column: 1, message: err.message }],
        unservable: [],
      }));
    count += set.playbooks.length;
    loaded.push(...set.playbooks);
    problems.push(...set.problems.map(formatProblem));
    // `serve` runs without these (and says so in /readyz); lint is the check before deploying, so it fails on them.
    for (const u of set.unservable) problems.push(...u.reasons.map((r) => `${u.file}: playbook ${u.name} would not be in force: ${r}`));
  }
  if (configOk && config.kubernetes.enabled && opts.preflight !== false && loaded.length > 0) {
    try {
      const denied = await preflightConfig(config, loaded, AbortSignal.timeout(20_000));
      for (const d of denied)
        problems.push(`${loaded.find((p) => p.name === d.playbook)?.file ?? d.playbook}: ${describeDenied(d)} (REM_ERR_PREFLIGHT_DENIED)`);
      for (const u of uncheckedSteps(loaded))
        console.error(
          `warning: ${loaded.find((p) => p.name === u.playbook)?.file ?? u.playbook}: playbook ${u.playbook} step ${u.step} is unchecked by pre-flight: ${u.why}`,
        );
    } catch (err) {
      console.error(
        `warning: pre-flight did not run: the API server could not be asked (${err instanceof Error ? err.message : String(err)}); the permissions of the playbooks' steps are unchecked`,
      );
    }
  }
  if (problems.length > 0) {
    for (const line of problems) console.error(line);
    console.error(`\n${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log(`ok: ${count} playbook(s) valid`);
}

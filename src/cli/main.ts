import { Command, Option } from 'commander';
import { packageVersion } from '../observability/package-version.ts';

/**
 * `remediator` — one binary for the service and its tools. Each subcommand is one file in src/cli, imported when it
 * runs: the service alone loads over a thousand modules, which `--version`, `lint` or `rbac` do not need.
 */
const program = new Command('remediator')
  .description(
    'Alertmanager webhook remediation: receives alerts, runs guarded Kubernetes playbooks, verifies the fix, pages a human when automation cannot.',
  )
  .version(packageVersion, '-V, --version', 'print the version (package.json)')
  .showHelpAfterError();

program
  .command('serve')
  .description('Run the service: the webhook receiver and operator API, the worker that runs playbooks, or both.')
  .option('-c, --config <file>', 'config file (YAML); see config/default.yaml')
  .addOption(
    new Option('--role <role>', 'what this process does; receivers and workers scale apart on one Redis')
      .choices(['all', 'receiver', 'worker'])
      .default('all'),
  )
  .action(async (opts: import('./serve.ts').ServeOptions) => {
    const { serveCommand } = await import('./serve.ts');
    await serveCommand(opts);
  });

program
  .command('lint')
  .description('Check playbooks (and a config file) without running anything; exits non-zero with file:line:column messages.')
  .argument('[paths...]', 'playbook files or folders (default: the configured playbooks folder)')
  .option('-c, --config <file>', 'config file to check and to take the playbooks folder from')
  .option(
    '--no-preflight',
    'with --config and Kubernetes enabled: do not ask the API server (SelfSubjectAccessReviews) whether every step may act',
  )
  .action(async (paths: string[], opts: import('./lint.ts').LintOptions) => {
    const { lintCommand } = await import('./lint.ts');
    await lintCommand(paths, opts);
  });

program
  .command('demo')
  .description(
    'Start a local Redis, a simulated cluster whose pods are real processes, and remediator; kill phone-gateway and show the loop (Prometheus and Alertmanager when installed, else a recorded webhook) until the fix is verified.',
  )
  .option('--once', 'exit after the scenario (status 0 on success)')
  .action(async (opts: import('./demo.ts').DemoOptions) => {
    const { demoCommand } = await import('./demo.ts');
    await demoCommand(opts);
  });

program
  .command('replay')
  .description(
    'Replay a recorded stream of Alertmanager deliveries (repeats, HA twins, resolve races) through the real engine against the simulated cluster and print every decision with its reason.',
  )
  .argument('<file>', 'replay stream (YAML); see docs/replay.md and test/fixtures/replays/')
  .option('-p, --playbooks <dir>', 'playbooks folder (default: the config\'s playbooks.dir, "playbooks")')
  .option('-c, --config <file>', 'take guards, runs and worker settings from this config (escalation targets are never used)')
  .option('--prometheus-url <url>', "a real Prometheus for playbooks with Prometheus gates (wins over the stream's world.prometheus)")
  .option(
    '--alertmanager-url <url>',
    "a real Alertmanager API for playbooks with Alertmanager gates (wins over the stream's world.alertmanager)",
  )
  .option('--redis-url <url>', 'use this Redis (fresh key prefix) instead of starting a redis-server')
  .option('--settle <duration>', 'alert time runs get after the last delivery to end', '1h')
  .option('--timeout <duration>', 'real time the replay may take', '5m')
  .option('--json', 'print the report as JSON')
  .option('-v, --verbose', 'engine logs on stderr')
  .action(async (file: string, opts: import('./replay.ts').ReplayCommandOptions) => {
    const { replayCommand } = await import('./replay.ts');
    await replayCommand(file, opts);
  });

program
  .command('test')
  .description(
    'Run playbook tests (playbooks/tests/*.test.yaml) through the real engine against the simulated cluster, with Prometheus, Alertmanager and HTTP answered from the test file; exits 1 when a case fails.',
  )
  .argument('[paths...]', 'test files or folders (default: playbooks/tests)')
  .option('-f, --filter <text>', 'run only the cases whose name contains this text')
  .option('-v, --verbose', 'engine logs on stderr')
  .option('--junit <file>', 'also write a JUnit XML report (one testcase per case) for CI systems')
  .action(async (paths: string[], opts: import('./test.ts').TestCommandOptions) => {
    const { testCommand } = await import('./test.ts');
    await testCommand(paths, opts);
  });

program
  .command('sim')
  .description(
    'Start the simulated cluster on its own (the four ai-ninja Deployments of the runbook) and write a kubeconfig for kubectl or remediator.',
  )
  .option('-p, --port <port>', 'port on 127.0.0.1 (default: a free one)')
  .option('-k, --kubeconfig <file>', 'where to write the kubeconfig', 'sim.kubeconfig')
  .action(async (opts: { port?: string; kubeconfig: string }) => {
    const { simCommand } = await import('./sim.ts');
    await simCommand(opts);
  });

program
  .command('rbac')
  .description(
    'Print the Kubernetes Role rules (and ClusterRole rules, only when a playbook touches a cluster-scoped kind) for exactly what the playbooks can do.',
  )
  .option('-p, --playbooks <dir>', 'playbooks folder (default: the config\'s playbooks.dir, "playbooks")')
  .option('-c, --config <file>', 'take playbooks.dir and kubernetes.manifestsDir from this config')
  .option('--by-playbook', 'rules per playbook (what helm/remediator/files/rbac.yaml holds)')
  .action(async (opts: import('./rbac.ts').RbacCommandOptions) => {
    const { rbacCommand } = await import('./rbac.ts');
    await rbacCommand(opts);
  });

program
  .command('schema')
  .description('Write the playbook JSON Schema (with every action and gate) for editors.')
  .option('-o, --out <file>', 'where to write it', 'playbooks/playbook.schema.json')
  .action(async (opts: import('./schema.ts').SchemaOptions) => {
    const { schemaCommand } = await import('./schema.ts');
    await schemaCommand(opts);
  });

program
  .command('config-defaults')
  .description('Print the default configuration with every key documented (what config/default.yaml contains).')
  .action(async () => {
    const { renderDefaultConfig } = await import('../config/render-default-config.ts');
    process.stdout.write(renderDefaultConfig());
  });

await program.parseAsync(process.argv);

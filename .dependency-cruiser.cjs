/**
 * The layers of src/, checked by `npm run lint` (docs/architecture.md draws them). From the bottom:
 *
 * - core: the domain model (src/domain), the ports (src/ports), the pure engine (src/engine) and schema helpers
 *   (src/schema). It imports nothing above it.
 * - adapters: the Redis store, the BullMQ run queue, the Kubernetes client, the axios HTTP client, the HTTP API
 *   clients of the gates.
 * - application: receive (alerts), route (playbooks), run (queue's run lifecycle, runs), guards, escalation, the
 *   actions and gates, observability.
 * - interfaces: HTTP (src/http), the CLI (src/cli), the config that gathers every section, and src/main.ts, the
 *   composition root.
 * - tooling: the simulated cluster, replay, playbook tests and the local processes (src/sim, src/replay,
 *   src/playbook-test, src/dev). Only the CLI and main.ts may import it.
 *
 * A layer may import its own and the ones below it. The parser is swc because dependency-cruiser cannot load
 * TypeScript 7; type-only imports count like any other.
 */
const CORE = '^src/(domain|ports|engine|schema)/';
const ADAPTERS =
  '^src/(store/|kube/|http-client/|queue/(bullmq-run-queue|run-queue|run-wakes|stranded-clients|queue-factory)\\.ts$|gates/[^/]+-http-api\\.ts$|gates/http-auth\\.ts$)';
const APPLICATION =
  '^src/(alerts|playbooks|runs|guards|escalation|actions|observability)/|^src/gates/(?![^/]+-http-api\\.ts$|http-auth\\.ts$)|^src/queue/(?!(bullmq-run-queue|run-queue|run-wakes|stranded-clients|queue-factory)\\.ts$)';
const INTERFACES = '^src/(http|cli|config)/|^src/main\\.ts$';
const TOOLING = '^src/(sim|replay|playbook-test|virtual-time|dev)/';

/**
 * The two places the ports still name types defined above them: the Cluster port's kinds table and object shapes
 * (src/kube/kinds.ts, src/kube/objects.ts) and the Escalator port (src/escalation/escalator.ts). Allowed from
 * src/ports only. Both are `import type` today; the swc parser does not tell type-only imports apart, so that part is
 * kept by review, not by this file.
 */
const PORT_TYPE_EXCEPTIONS = '^src/(kube/(kinds|objects)|escalation/escalator)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles anywhere in src/.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-is-pure',
      comment: 'The engine decides; it reaches playbooks, Kubernetes, escalation and gates only through src/domain and src/ports.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: {
        path: [
          '^src/(playbooks|kube|escalation|gates|store|queue|guards|alerts|runs|actions|http|cli|config)/',
          '(^|/)node_modules/(bullmq|ioredis|@kubernetes/client-node|fastify|@fastify/[^/]+|axios)/',
        ],
      },
    },
    {
      name: 'ports-are-interfaces',
      comment: 'A port names what the core needs; the library behind it lives in an adapter.',
      severity: 'error',
      from: { path: '^src/(ports|domain)/' },
      to: { path: '(^|/)node_modules/(bullmq|ioredis|@kubernetes/client-node|fastify|@fastify/[^/]+|axios)/' },
    },
    {
      name: 'core-imports-nothing-above',
      comment: 'domain, ports, engine and schema sit at the bottom.',
      severity: 'error',
      from: { path: CORE },
      to: { path: `${ADAPTERS}|${APPLICATION}|${INTERFACES}|${TOOLING}`, pathNot: PORT_TYPE_EXCEPTIONS },
    },
    {
      name: 'core-only-ports-name-upper-types',
      comment: 'Outside src/ports, the core does not even name those types.',
      severity: 'error',
      from: { path: CORE, pathNot: '^src/ports/' },
      to: { path: PORT_TYPE_EXCEPTIONS },
    },
    {
      name: 'adapters-below-application',
      comment: 'Adapters implement ports; they do not call the application, the interfaces or the tooling.',
      severity: 'error',
      from: { path: ADAPTERS },
      to: { path: `${APPLICATION}|${INTERFACES}|${TOOLING}` },
    },
    {
      name: 'application-below-interfaces',
      comment: 'The application does not import HTTP, the CLI, the config loader or the composition root.',
      severity: 'error',
      from: { path: APPLICATION },
      to: { path: `${INTERFACES}|${TOOLING}` },
    },
    {
      name: 'tooling-stays-out-of-product',
      comment: 'Only the CLI and main.ts start the tooling; no product module imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: `${TOOLING}|^src/cli/|^src/main\\.ts$` },
      to: { path: TOOLING },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
  },
};

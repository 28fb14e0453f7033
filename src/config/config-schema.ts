import { Type, type Static } from '@sinclair/typebox';
import { Duration } from '../domain/duration.ts';
import { GuardsConfigSchema } from '../guards/guards-config.ts';
import { RedisConfigSchema } from '../store/redis-config.ts';
import { EscalationConfig } from '../escalation/escalation-config.ts';
import { OPERATOR_ROLES, DEFAULT_OPERATOR_ROLE } from '../http/operator-roles.ts';
import { ConsoleConfigSchema } from '../http/console/console-config.ts';
import { literals } from '../schema/literals.ts';

/**
 * The whole configuration. `config/default.yaml` documents every key with its default (a test keeps the two in
 * sync); secrets and addresses are better given by environment (see `env-overrides.ts`).
 */
const Server = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address to listen on. Use 0.0.0.0 in a container.' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'HTTP port (0 picks a free one).' }),
    bodyLimit: Type.Integer({
      minimum: 1024,
      default: 16 * 1024 * 1024,
      description: 'Largest request body in bytes. Alertmanager never retries a 413, so keep it well above your largest group.',
    }),
    publicUrl: Type.Optional(
      Type.String({ description: 'Base URL people use to reach this service; links in pages and Slack messages use it.' }),
    ),
  },
  { additionalProperties: false, default: {} },
);

const Auth = Type.Object(
  {
    webhook: Type.Object(
      {
        bearerTokens: Type.Array(Type.String({ minLength: 16 }), {
          default: [],
          description:
            'Tokens Alertmanager may send as `Authorization: Bearer` (http_config.authorization). Env: REMEDIATOR_WEBHOOK_TOKENS (comma-separated).',
        }),
        basic: Type.Optional(
          Type.Object(
            { username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 8 }) },
            {
              additionalProperties: false,
              description: 'http_config.basic_auth credentials. Env: REMEDIATOR_WEBHOOK_BASIC (user:password).',
            },
          ),
        ),
        insecure: Type.Boolean({
          default: false,
          description: 'Accept webhooks without credentials. Never in production; start-up says so loudly.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    operators: Type.Array(
      Type.Object(
        {
          name: Type.String({
            minLength: 1,
            maxLength: 100,
            pattern: '^[A-Za-z0-9][A-Za-z0-9._@+-]*$',
            description: 'Who holds the token: recorded on every run, decision and pause they make. Letters, digits and . _ @ + -.',
          }),
          token: Type.String({ minLength: 16, description: 'The bearer token (never logged or recorded).' }),
          role: literals(OPERATOR_ROLES, {
            default: DEFAULT_OPERATOR_ROLE,
            description:
              'viewer (read), operator (also manual runs, retry, cancel), approver (also approve and reject), admin (also pauses, lifting the storm breaker, reload). Default viewer.',
          }),
        },
        { additionalProperties: false },
      ),
      {
        default: [],
        description:
          'Operator API tokens, one per person: name, token and role (each role includes the ones before it; default viewer). Env: REMEDIATOR_OPERATOR_TOKENS (name:role:token,…; name:token gives a viewer).',
      },
    ),
  },
  { additionalProperties: false, default: {} },
);

const Playbooks = Type.Object(
  {
    dir: Type.String({ default: 'playbooks', description: 'Folder of playbook YAML files (relative to the working directory).' }),
    watch: Type.Boolean({
      default: true,
      description: 'Reload when a file changes (SIGHUP always reloads). A broken reload keeps the last good set.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Worker = Type.Object(
  {
    concurrency: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 8,
      description: 'Steps run at once by one worker process. Waiting steps hold no slot.',
    }),
    lockDuration: Duration({
      default: '30s',
      description: 'BullMQ job lock of runs and page deliveries; a worker that dies loses them to another after about this long.',
    }),
    stalledInterval: Duration({ default: '15s', description: 'How often workers look for runs and page deliveries whose worker died.' }),
    shutdownGrace: Duration({
      default: '25s',
      description: 'On SIGTERM, how long the step in flight may take to finish before its signal is aborted.',
    }),
    healthPort: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65535,
        description:
          'A `--role worker` process serves /healthz, /readyz and /metrics on this port (on server.host), for probes and scraping. Unset: no listener.',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

const Runs = Type.Object(
  {
    maxRecords: Type.Integer({
      minimum: 10,
      default: 10000,
      description: 'Run records kept; the oldest finished ones are removed beyond this.',
    }),
    maxAge: Duration({ default: '30d', description: 'Finished run records older than this are removed.' }),
    dryRun: Type.Boolean({
      default: false,
      description: 'Run every playbook as a dry run (server-side dry-run of every mutation; the plan is recorded).',
    }),
    maxObservations: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'Gate observations kept per step (the first and the most recent).',
    }),
    maxDuration: Duration({
      default: '30m',
      description:
        'Longest a run may take from its creation to its end, waits and approvals included. A run past it (a gate that never settles, a worker that keeps dying, a lost job) ends escalated with a `timed_out` decision, and a human is paged once. A playbook may override it (spec.maxDuration).',
    }),
    sweepInterval: Duration({
      default: '30s',
      description:
        'How often every process (receivers too) looks for stuck runs: runs recorded whose job was never queued are queued, runs past their maximum duration that no worker holds are closed (about this long after their deadline), and runs whose closing a crash cut short (the page of an escalated run not yet enqueued) are completed.',
    }),
    closingGrace: Duration({
      default: '60s',
      description:
        'How long the closing of an ended run (its final decision, the page of an escalated run, resolving or noting its incident) may stay unconfirmed before a sweep takes it for cut short by a crash and completes it. Closing normally takes milliseconds; redoing one still in progress can add one extra note to an incident.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Approvals = Type.Object(
  {
    requireDifferentApprover: Type.Boolean({
      default: true,
      description:
        "Four eyes: whoever started or retried a run may not approve or reject its plans (403 REM_ERR_SELF_APPROVAL, recorded as an approval_refused decision). They can still cancel it. Likewise whoever wrote a customer notice's text (proposed it, or edits it while approving) may not approve it.",
    }),
  },
  { additionalProperties: false, default: {} },
);

const Kubernetes = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Connect to a cluster. When false, playbooks with kube.* steps are refused at load.',
    }),
    kubeconfig: Type.Optional(
      Type.String({ description: 'Path to a kubeconfig. Unset: in-cluster service account, then $KUBECONFIG, then ~/.kube/config.' }),
    ),
    context: Type.Optional(Type.String({ description: 'kubeconfig context to use.' })),
    inCluster: Type.Boolean({ default: false, description: 'Use the pod service account only.' }),
    requestTimeout: Duration({ default: '10s', description: 'Timeout of one API call.' }),
    maxReplicas: Type.Integer({ minimum: 1, default: 50, description: 'Ceiling for kube.scale, whatever a playbook asks.' }),
    applyKinds: Type.Array(Type.String(), { default: ['ConfigMap', 'NetworkPolicy'], description: 'Kinds kube.apply may write.' }),
    manifestsDir: Type.Optional(Type.String({ description: 'Folder kube.apply reads manifests from (default: the playbooks folder).' })),
    fieldManager: Type.String({ default: 'remediator', description: 'Field manager of every write.' }),
  },
  { additionalProperties: false, default: {} },
);

const Endpoint = (what: string, env: string) =>
  Type.Object(
    {
      url: Type.Optional(Type.String({ description: `${what} base URL. Env: ${env}.` })),
      bearerToken: Type.Optional(Type.String()),
      timeout: Duration({ default: '10s' }),
    },
    { additionalProperties: false, default: {} },
  );

const Logging = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    pretty: Type.Optional(
      Type.Boolean({
        description: 'Human-readable logs (true) or JSON (false). Unset: human-readable when stdout is a terminal, JSON otherwise.',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    server: Server,
    auth: Auth,
    redis: RedisConfigSchema,
    playbooks: Playbooks,
    worker: Worker,
    runs: Runs,
    approvals: Approvals,
    kubernetes: Kubernetes,
    prometheus: Endpoint('Prometheus', 'PROMETHEUS_URL'),
    alertmanager: Endpoint('Alertmanager API', 'ALERTMANAGER_URL'),
    logging: Logging,
    guards: GuardsConfigSchema,
    console: ConsoleConfigSchema,
    escalation: Type.Optional({
      ...EscalationConfig,
      description:
        'Paging targets (PagerDuty, Opsgenie, Slack, signed webhook), the P0-P3 severity policy and delivery options. Unset: escalations are recorded, nothing is sent.',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/**
 * A config document as written (file, environment, test and demo overrides), before the schema has checked it:
 * arbitrary YAML, so any key may be read or set here and only the validated result is a `Config`.
 */
// biome-ignore lint/suspicious/noExplicitAny: unvalidated YAML; the schema check that follows is what gives it a type
export type RawConfig = Record<string, any>;

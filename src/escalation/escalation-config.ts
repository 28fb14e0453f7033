import { Type, type Static } from '@sinclair/typebox';
import { Duration, parseDuration } from '../domain/duration.ts';
import { RemediatorError } from '../domain/errors.ts';
import { SeverityPolicyConfig } from './severity-policy.ts';

/**
 * The `escalation:` section of the main config. Secrets (routing keys, API keys, webhook URLs, HMAC secrets) may be
 * written as `env:NAME` to read them from the environment at start-up, so no secret needs to live in a file.
 */

const Secret = (description: string) =>
  Type.String({ minLength: 1, description: `${description} Secret: write \`env:NAME\` to read it from the environment.` });
const Role = Type.Optional(
  Type.Union([Type.Literal('page'), Type.Literal('notify')], {
    description:
      'Whether the severity policy treats this target as paging or notifying. Default: page for pagerduty/opsgenie, notify for slack/webhook.',
  }),
);

export const PagerDutyTargetConfig = Type.Object(
  {
    type: Type.Literal('pagerduty'),
    routingKey: Secret('Events API v2 integration (routing) key.'),
    url: Type.Optional(
      Type.String({
        format: 'uri',
        default: 'https://events.pagerduty.com/v2/enqueue',
        description: 'Events API enqueue URL. Default https://events.pagerduty.com/v2/enqueue.',
      }),
    ),
    role: Role,
    rateLimit: Type.Optional(
      Type.Object(
        {
          max: Type.Integer({
            minimum: 1,
            default: 120,
            description: 'Events per window per routing key. Default 120 (PagerDuty: ~120/min per integration key).',
          }),
          window: Duration({ default: '60s', description: 'Sliding window. Default 60s.' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const OpsgenieTargetConfig = Type.Object(
  {
    type: Type.Literal('opsgenie'),
    apiKey: Secret('API integration key, sent as `Authorization: GenieKey <key>`.'),
    url: Type.Optional(
      Type.String({
        format: 'uri',
        default: 'https://api.opsgenie.com',
        description: 'API base URL. Default https://api.opsgenie.com (EU: https://api.eu.opsgenie.com).',
      }),
    ),
    role: Role,
  },
  { additionalProperties: false },
);

export const SlackTargetConfig = Type.Object(
  {
    type: Type.Literal('slack'),
    webhookUrl: Secret('Incoming webhook URL (https://hooks.slack.com/services/…); the URL itself is the credential.'),
    role: Role,
  },
  { additionalProperties: false },
);

/**
 * The operator roles (src/http/operator-roles.ts, which the HTTP layer checks this list against): a Slack member
 * acts with the role given here, as an operator token would.
 */
export const SLACK_USER_ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type SlackUserRole = (typeof SLACK_USER_ROLES)[number];

export const SlackAppTargetConfig = Type.Object(
  {
    type: Type.Literal('slack-app'),
    token: Secret('Bot token (`xoxb-…`), sent as `Authorization: Bearer <token>` to chat.postMessage and chat.update.'),
    channel: Type.String({ minLength: 1, description: 'Channel id (C…) the bot posts in; the bot must be a member.' }),
    signingSecret: Type.Optional(
      Secret(
        "The app's signing secret: button clicks (POST /v1/slack/interactions) are accepted only with a valid `X-Slack-Signature`. Without it the messages carry no buttons.",
      ),
    ),
    users: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[UW][A-Z0-9]+$', description: 'Slack member id (U…/W…).' }),
        Type.Object(
          {
            name: Type.String({ minLength: 1, description: 'The operator name decisions are recorded under.' }),
            role: Type.Union(
              SLACK_USER_ROLES.map((r) => Type.Literal(r)),
              { description: 'approver (or admin): Approve/Reject; operator: Cancel/Take over.' },
            ),
          },
          { additionalProperties: false },
        ),
        {
          default: {},
          description:
            'Who may press the buttons: Slack member id → operator name and role. Anyone else is refused with an ephemeral reply.',
        },
      ),
    ),
    apiUrl: Type.Optional(
      Type.String({ format: 'uri', default: 'https://slack.com/api', description: 'Web API base URL. Default https://slack.com/api.' }),
    ),
    role: Role,
    rateLimit: Type.Optional(
      Type.Object(
        {
          max: Type.Integer({
            minimum: 1,
            default: 50,
            description:
              'Events per window to this channel (each is a chat.update and at most one reply). Default 50 (chat.update is Tier 3, 50+/min).',
          }),
          window: Duration({ default: '60s', description: 'Sliding window. Default 60s.' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const WebhookTargetConfig = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ format: 'uri', description: 'Where to POST the JSON event.' }),
    secret: Secret('HMAC-SHA256 key; the request carries `X-Remediator-Signature: sha256=<hex>` over `<timestamp>.<raw body>`.'),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Extra headers (e.g. Authorization). Their values are treated as secrets in logs and errors.',
      }),
    ),
    role: Role,
  },
  { additionalProperties: false },
);

export const StatuspageTargetConfig = Type.Object(
  {
    type: Type.Literal('statuspage'),
    apiKey: Secret('Statuspage API key, sent as `Authorization: OAuth <key>`.'),
    pageId: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9]+$', description: "The page id (from the page's API info)." }),
    componentIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9]+$' }), {
        description:
          'Components the incident affects; their status follows the level (P0 major_outage, P1 partial_outage, P2/P3 degraded_performance) and is set back to operational on resolve.',
      }),
    ),
    componentStatus: Type.Optional(
      Type.Union(
        (['degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance'] as const).map((v) => Type.Literal(v)),
        { description: "Status of the affected components while the incident is open, instead of the level's." },
      ),
    ),
    deliverNotifications: Type.Optional(
      Type.Boolean({
        default: true,
        description: "Whether Statuspage notifies the page's subscribers of each incident change. Default true.",
      }),
    ),
    url: Type.Optional(
      Type.String({
        format: 'uri',
        default: 'https://api.statuspage.io/v1',
        description: 'API base URL. Default https://api.statuspage.io/v1.',
      }),
    ),
    role: Role,
  },
  {
    additionalProperties: false,
    description:
      'Atlassian Statuspage: the incident and its components, for customers. remediator writes only neutral text there by itself; words for customers come from an approved customer notice.',
  },
);

export const TargetConfig = Type.Union([
  PagerDutyTargetConfig,
  OpsgenieTargetConfig,
  SlackTargetConfig,
  SlackAppTargetConfig,
  WebhookTargetConfig,
  StatuspageTargetConfig,
]);
export type TargetConfig = Static<typeof TargetConfig>;
export type SlackAppTargetConfig = Static<typeof SlackAppTargetConfig>;

export const ApprovalNoticeConfig = Type.Object(
  {
    targets: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), {
        description: 'Targets told when a run starts waiting for approval. Default: every slack-app target and every notify target.',
      }),
    ),
    remindBefore: Type.Optional(
      Duration({
        default: '5m',
        description:
          'A reminder goes to the same targets this long before the approval window closes (skipped when the window is shorter). Default 5m.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ApprovalNoticeConfig = Static<typeof ApprovalNoticeConfig>;

export const DeliveryConfig = Type.Object(
  {
    timeout: Type.Optional(Duration({ default: '10s', description: 'Per-request timeout. Default 10s.' })),
    attempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 12,
        description: 'Tries per event before it goes to the dead letter. Default 12 (with the default backoff, about an hour).',
      }),
    ),
    backoff: Type.Optional(
      Duration({ default: '2s', description: 'Delay before the first retry; doubles each time (with ±20% jitter). Default 2s.' }),
    ),
    maxBackoff: Type.Optional(Duration({ default: '10m', description: 'Largest delay between retries. Default 10m.' })),
    maxRetryAfter: Type.Optional(
      Duration({ default: '1h', description: 'Longest Retry-After honoured; longer ones are capped. Default 1h.' }),
    ),
    concurrency: Type.Optional(
      Type.Integer({ minimum: 1, default: 4, description: 'Deliveries in flight per worker (different episodes/targets). Default 4.' }),
    ),
    queue: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'escalation', description: 'BullMQ queue name. Default "escalation".' }),
    ),
    prefix: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]+$',
        default: 'rem',
        description: 'Prefix of Redis keys and the BullMQ prefix. Default "rem" (use redis.prefix).',
      }),
    ),
    deadLetterKeep: Type.Optional(
      Type.Integer({ minimum: 1, default: 1000, description: 'Dead-letter records kept (newest first). Default 1000.' }),
    ),
    openIncidentTtl: Type.Optional(
      Duration({
        default: '30d',
        description: 'How long the record of an open incident per episode is kept without a resolve. Default 30d.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DeliveryConfig = Static<typeof DeliveryConfig>;

export const InboundConfig = Type.Object(
  {
    onHumanAck: Type.Optional(
      Type.Union([Type.Literal('stop'), Type.Literal('continue-notes')], {
        default: 'stop',
        description:
          "What a run does when a person acknowledges its incident in PagerDuty or Opsgenie: `stop` (default) cancels the runs of the episode, interrupting the step each is running (`step_interrupted`), so nothing is mutated behind the person's back; `continue-notes` lets automation go on and keeps adding its rungs as notes. Either way a `human_ack` decision names the person.",
      }),
    ),
    pagerduty: Type.Optional(
      Type.Object(
        {
          secrets: Type.Array(
            Secret('Signing secret of a PagerDuty v3 webhook subscription (returned once, when the subscription is created).'),
            {
              minItems: 1,
              description: 'Every secret accepted for `X-PagerDuty-Signature` (v1 = HMAC-SHA256 of the raw body); list two while rotating.',
            },
          ),
          apiToken: Type.Optional(
            Secret(
              "A read-only REST API key. Only used for events that carry no incident key: incidents of grouped alerts and notes (`incident.annotated`, which name their incident by id only); the incident's alerts are read to find remediator's dedup key. Without it such events are ignored.",
            ),
          ),
          apiUrl: Type.Optional(
            Type.String({
              format: 'uri',
              default: 'https://api.pagerduty.com',
              description: 'REST API base URL. Default https://api.pagerduty.com.',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    opsgenie: Type.Optional(
      Type.Object(
        {
          header: Type.Optional(
            Type.String({
              minLength: 1,
              pattern: '^[A-Za-z0-9-]+$',
              default: 'x-remediator-token',
              description: 'The custom header the Opsgenie outgoing webhook sends. Default x-remediator-token.',
            }),
          ),
          token: Secret('The value of that header (Opsgenie signs nothing; use a long random value).'),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Acknowledgements and resolves that people make in PagerDuty (v3 webhooks, POST /v1/hooks/pagerduty) and Opsgenie (outgoing webhook, POST /v1/hooks/opsgenie). A provider left out has no hook.',
  },
);
export type InboundConfig = Static<typeof InboundConfig>;

export const NoticeConfig = Type.Object(
  {
    targets: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description:
        'Targets an approved customer notice goes to (a statuspage target, a webhook to the mailer). Nothing is sent before an approver approves its text.',
    }),
    product: Type.Optional(Type.String({ minLength: 1, description: 'The product as customers know it. Default: the affected services.' })),
    team: Type.Optional(Type.String({ minLength: 1, description: 'Signature line. Default "The engineering team".' })),
  },
  {
    additionalProperties: false,
    description:
      'The customer notice (impact, expected recovery, apology), drafted from the incident and sent only once an approver approved its text (GET/POST /v1/incidents/:episode/notice).',
  },
);
export type NoticeConfig = Static<typeof NoticeConfig>;

export const EscalationConfig = Type.Object(
  {
    inbound: Type.Optional(InboundConfig),
    notice: Type.Optional(NoticeConfig),
    targets: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), TargetConfig, {
      default: {},
      description: 'Named paging targets. Default none (escalation records only).',
    }),
    policy: Type.Optional(SeverityPolicyConfig),
    delivery: Type.Optional(DeliveryConfig),
    approvals: Type.Optional(ApprovalNoticeConfig),
  },
  { additionalProperties: false },
);
export type EscalationConfig = Static<typeof EscalationConfig>;

/** Delivery options with every default applied, in milliseconds. */
export interface DeliverySettings {
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  maxRetryAfterMs: number;
  concurrency: number;
  queue: string;
  prefix: string;
  deadLetterKeep: number;
  openIncidentTtlMs: number;
}

export function deliverySettings(c: DeliveryConfig = {}): DeliverySettings {
  return {
    timeoutMs: parseDuration(c.timeout ?? '10s'),
    attempts: c.attempts ?? 12,
    backoffMs: parseDuration(c.backoff ?? '2s'),
    maxBackoffMs: parseDuration(c.maxBackoff ?? '10m'),
    maxRetryAfterMs: parseDuration(c.maxRetryAfter ?? '1h'),
    concurrency: c.concurrency ?? 4,
    queue: c.queue ?? 'escalation',
    prefix: c.prefix ?? 'rem',
    deadLetterKeep: c.deadLetterKeep ?? 1000,
    openIncidentTtlMs: parseDuration(c.openIncidentTtl ?? '30d'),
  };
}

/**
 * Reads `env:NAME` secrets. Fails with REM_ERR_CONFIG_INVALID naming the variable (never a value) when it is unset.
 */
export function resolveSecret(value: string, where: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!value.startsWith('env:')) return value;
  const name = value.slice(4);
  const v = env[name];
  if (v === undefined || v === '') throw new RemediatorError('REM_ERR_CONFIG_INVALID', `${where}: environment variable ${name} is not set`);
  return v;
}

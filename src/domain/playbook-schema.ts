import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Duration } from './duration.ts';

/**
 * The playbook file format, version `remediator.io/v1`. This TypeBox schema is the single source: the loader
 * validates with it, and `remediator schema` writes it (plus every action's and gate's params) to
 * `playbooks/playbook.schema.json` for editors (`# yaml-language-server: $schema=./playbook.schema.json`).
 */
export const API_VERSION = 'remediator.io/v1';

const StepId = Type.String({
  pattern: '^[a-z][a-z0-9-]{0,62}$',
  description: 'Unique within the playbook; later steps refer to its output as {{ steps.<id>.… }}.',
});
const Outcome = Type.Union(['succeeded', 'failed', 'skipped'].map((o) => Type.Literal(o)));

export const WhenSchema = Type.Object(
  {
    steps: Type.Optional(
      Type.Record(Type.String(), Type.Union([Outcome, Type.Array(Outcome, { minItems: 1 })]), {
        description: 'Outcome each named earlier step must have had.',
      }),
    ),
    alert: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'Alertmanager matchers the alert labels must satisfy.' })),
    dryRun: Type.Optional(Type.Boolean({ description: 'Run only in (true) or outside (false) a dry run.' })),
  },
  {
    additionalProperties: false,
    description: 'Run the step only when every condition holds; otherwise it is skipped (recorded with its reason).',
  },
);

export const RetrySchema = Type.Object(
  {
    attempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 20,
        default: 1,
        description:
          "Total attempts (1 = no retry). Only retryable failures are retried. remediator's own Redis being away (a failover) gets at least 5 attempts whatever this says.",
      }),
    ),
    backoff: Type.Optional(Duration({ default: '1s', description: 'Wait before the second attempt.' })),
    factor: Type.Optional(Type.Number({ minimum: 1, maximum: 10, default: 2, description: 'Each further wait is multiplied by this.' })),
    maxBackoff: Type.Optional(Duration({ default: '1m', description: 'Upper bound of one wait.' })),
  },
  { additionalProperties: false },
);

export const ApprovalSchema = Type.Object(
  {
    required: Type.Optional(Type.Boolean({ default: true })),
    timeout: Type.Optional(
      Duration({ default: '15m', description: 'How long the plan waits for an operator; on expiry the run escalates.' }),
    ),
  },
  { additionalProperties: false },
);

const StepCommon = {
  id: StepId,
  name: Type.Optional(Type.String({ description: 'Shown in run records and pages.' })),
  with: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: 'Parameters of the action or gate; checked against its schema when the playbook loads.',
    }),
  ),
  when: Type.Optional(WhenSchema),
  onFailure: Type.Optional(
    Type.String({
      pattern: '^(next-rung|abort|continue|escalate|[a-z][a-z0-9-]{0,62})$',
      description: 'What a failure leads to: next-rung (default), abort, continue, escalate, or the id of a later step to go to.',
    }),
  ),
  deadline: Type.Optional(Duration({ description: 'Total time for the step across attempts or polls.' })),
};

export const ActionStepSchema = Type.Object(
  {
    ...StepCommon,
    action: Type.String({ description: 'A registered action, e.g. kube.rolloutRestart.' }),
    timeout: Type.Optional(Duration({ description: 'Timeout of one attempt (default 60s).' })),
    retry: Type.Optional(RetrySchema),
    approval: Type.Optional(ApprovalSchema),
  },
  { additionalProperties: false },
);

export const GateStepSchema = Type.Object(
  {
    ...StepCommon,
    gate: Type.String({ description: 'A registered verification gate, e.g. kube.rolloutStatus.' }),
    timeout: Type.Optional(Duration({ description: 'How long the gate may take to pass (default from the gate).' })),
    interval: Type.Optional(Duration({ description: 'Time between polls (default from the gate).' })),
    successes: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Consecutive passing polls required.' })),
    pollTimeout: Type.Optional(Duration({ description: 'Timeout of one poll (default 10s).' })),
  },
  { additionalProperties: false },
);

export const StepSchema = Type.Union([ActionStepSchema, GateStepSchema]);

export const RungSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$', description: 'The fix this rung tries (restart, rollback, degrade …).' }),
    description: Type.Optional(Type.String()),
    steps: Type.Array(StepSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const TriggerSchema = Type.Object(
  {
    matchers: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'Alertmanager matchers on the alert labels, e.g. alertname="ServiceDown", severity=~"critical|page".',
    }),
    status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved'), Type.Literal('any')], { default: 'firing' })),
  },
  { additionalProperties: false },
);

export const TargetSchema = Type.Object(
  {
    namespace: Type.Optional(
      Type.String({ description: 'Template, e.g. {{ labels.namespace }}. Omitted for a cluster-scoped kind (Node).' }),
    ),
    kind: Type.Optional(Type.String({ default: 'Deployment' })),
    name: Type.String({ description: 'Template, e.g. {{ labels.deployment }}.' }),
  },
  { additionalProperties: false, description: 'The object this playbook remediates; runs are listed, locked and budgeted by it.' },
);

export const PlaybookSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('Playbook'),
    metadata: Type.Object(
      {
        name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', description: 'Unique name (DNS-1123 label).' }),
        description: Type.Optional(Type.String()),
        owner: Type.Optional(Type.String({ description: 'Team or person who owns the service; shown in pages.' })),
        runbookUrl: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
    spec: Type.Object(
      {
        priority: Type.Integer({ default: 0, description: 'Higher runs first when several playbooks match one alert.' }),
        stop: Type.Boolean({ default: false, description: 'When this playbook matches, do not match lower-priority ones.' }),
        dryRun: Type.Boolean({ default: false, description: 'Always run this playbook as a dry run.' }),
        triggers: Type.Array(TriggerSchema, { minItems: 1 }),
        target: Type.Optional(TargetSchema),
        params: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Unknown(), {
          default: {},
          description: 'Defaults of {{ params.* }}; a manual run may override them.',
        }),
        steps: Type.Optional(Type.Array(StepSchema, { minItems: 1, description: 'A playbook of one rung.' })),
        rungs: Type.Optional(
          Type.Array(RungSchema, { minItems: 1, description: 'The remediation ladder: each rung is tried when the one before it failed.' }),
        ),
        onExhausted: Type.Optional(
          Type.Object(
            {
              escalate: Type.Optional(Type.Boolean({ default: true })),
              level: Type.Optional(Type.Union(['P0', 'P1', 'P2', 'P3'].map((l) => Type.Literal(l)))),
              targets: Type.Optional(Type.Array(Type.String())),
            },
            { additionalProperties: false, description: 'What happens when the last rung fails (default: escalate).' },
          ),
        ),
        onResolved: Type.Union([Type.Literal('continue'), Type.Literal('skip-waits')], {
          default: 'continue',
          description:
            'What a resolved notification does to a running run: nothing until the next poll (continue), or make a gate that waits for its next poll check again at once (skip-waits; once per run). A resolve is never proof of health: the gate still decides.',
        }),
        concurrency: Type.Optional(
          Type.Union([Type.Literal('wait'), Type.Literal('skip')], {
            default: 'wait',
            description: 'When another run holds the target: wait for it (default) or end this run as skipped.',
          }),
        ),
        budget: Type.Optional(
          Type.Object(
            {
              runs: Type.Optional(
                Type.Integer({ minimum: 1, description: 'Mutating runs allowed per target within `window` (default guards.budget.runs).' }),
              ),
              window: Type.Optional(Duration({ description: 'The budget window (default guards.budget.window).' })),
              cooldown: Type.Optional(
                Duration({ description: 'Least time between two mutating runs on the target (default guards.budget.cooldown).' }),
              ),
            },
            { additionalProperties: false, description: 'Overrides of the per-target budget for this playbook.' },
          ),
        ),
        maxDuration: Type.Optional(
          Duration({
            description:
              'Longest a run of this playbook may take, waits and approvals included (default runs.maxDuration); past it the run ends escalated (`timed_out`).',
          }),
        ),
        gitops: Type.Optional(
          Type.Union([Type.Literal('refuse'), Type.Literal('allow'), Type.Literal('suspend')], {
            default: 'refuse',
            description:
              "Objects managed by Argo CD or Flux: refuse to change them (default); allow it (the playbook handles the sync itself); or suspend: before the first change of such an object, pause its Argo CD Application's automated sync (spec.syncPolicy.automated removed) or its Flux Kustomization or HelmRelease (spec.suspend: true), and resume it when the run ends (the stuck-run sweeper resumes it after a crash). Recorded as gitops_suspended / gitops_resumed decisions.",
          }),
        ),
        fleet: Type.Optional(
          Type.Object(
            {
              by: Type.Optional(
                Type.String({
                  minLength: 1,
                  default: 'deployment',
                  description: 'The alert label that names the service (default deployment).',
                }),
              ),
              namespaceLabel: Type.Optional(
                Type.String({
                  minLength: 1,
                  default: 'namespace',
                  description: 'The alert label that names the namespace (default namespace).',
                }),
              ),
              min: Type.Optional(
                Type.Integer({
                  minimum: 2,
                  default: 2,
                  description: 'This many distinct services of one namespace firing within `window` open one fleet run (default 2).',
                }),
              ),
              window: Type.Optional(Duration({ description: 'How close together the services must go down (default 2m).' })),
              hold: Type.Optional(
                Duration({
                  description:
                    "How long the runs of a service this fleet counts wait before they start (default 0s), so a fleet that opens meanwhile absorbs them. Useful when Alertmanager sends each service's alert on its own (group_by per service); it delays every single-service run by as much.",
                }),
              ),
            },
            {
              additionalProperties: false,
              description:
                "Correlated incidents: this playbook runs once for several services of one namespace that go down together (its triggers select the alerts). The run gets params.namespace and params.services (in the order they went down); the services' own runs still queued are absorbed into it, and their later alerts are absorbed too.",
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type PlaybookDoc = Static<typeof PlaybookSchema>;
export type StepDoc = Static<typeof StepSchema>;
export type ActionStepDoc = Static<typeof ActionStepSchema>;
export type GateStepDoc = Static<typeof GateStepSchema>;
export type WhenDoc = Static<typeof WhenSchema>;
export type RetryDoc = Static<typeof RetrySchema>;
export type SchemaOf = TSchema;

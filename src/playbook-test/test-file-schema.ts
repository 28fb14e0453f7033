import { Type, type Static } from '@sinclair/typebox';
import { Duration } from '../domain/duration.ts';
import { DECISION_REASONS } from '../engine/decision.ts';
import { literals } from '../schema/literals.ts';

/**
 * The playbook test file format (`playbooks/tests/<name>.test.yaml`, docs/playbook-tests.md), as one TypeBox
 * schema: the loader validates with it (unknown keys are errors with file:line:column, like playbooks) and the
 * runner is typed by it. Every `expect` key is optional; only what is given is checked.
 */

const LabelSet = Type.Record(Type.String(), Type.String());
const Strict = { additionalProperties: false } as const;

const RUN_STATUSES = ['succeeded', 'completed', 'failed', 'escalated', 'skipped', 'cancelled'] as const;
const STEP_OUTCOMES = ['succeeded', 'failed', 'skipped', 'pending', 'running', 'not-run'] as const;

export const TestAlertSchema = Type.Object(
  {
    file: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'A recorded Alertmanager webhook body (JSON), relative to the test file. Excludes the other alert keys.',
      }),
    ),
    labels: Type.Optional(LabelSet),
    annotations: Type.Optional(LabelSet),
    status: Type.Optional(literals(['firing', 'resolved'], { description: 'Default firing.' })),
    startsAt: Type.Optional(
      Type.String({
        description: 'RFC 3339; default: when the case started (the same for every alert of the case, so repeats are one episode).',
      }),
    ),
    endsAt: Type.Optional(Type.String({ description: 'RFC 3339; default: the zero time when firing, the post time when resolved.' })),
    generatorURL: Type.Optional(Type.String()),
    wait: Type.Optional(
      Duration({
        description:
          "Post this long (virtual time, the playbooks' clock) after the previous alert instead of after every run so far has ended.",
      }),
    ),
  },
  Strict,
);

const PromAnswer = Type.Array(Type.Union([Type.Number(), Type.String({ pattern: '^(NaN|[+-]?Inf)$' })]), {
  description: "The instant vector's sample values; [] = no data.",
});
const HttpAnswer = Type.Union([
  Type.Integer({ minimum: 100, maximum: 599 }),
  Type.Object(
    { status: Type.Integer({ minimum: 100, maximum: 599 }), body: Type.Optional(Type.Unknown()), headers: Type.Optional(LabelSet) },
    Strict,
  ),
]);

export const WorldSchema = Type.Object(
  {
    prometheus: Type.Optional(
      Type.Array(
        Type.Object(
          {
            query: Type.String({ minLength: 1, description: 'Answers any query that contains this text.' }),
            answers: Type.Array(PromAnswer, { minItems: 1, description: 'One per call, in order; the last one repeats.' }),
          },
          Strict,
        ),
      ),
    ),
    http: Type.Optional(
      Type.Array(
        Type.Object(
          {
            url: Type.String({ pattern: '^http://', description: 'The exact http:// URL a step calls (https cannot be scripted).' }),
            method: Type.Optional(Type.String({ description: 'Only this method (default: any).' })),
            answers: Type.Array(HttpAnswer, {
              minItems: 1,
              description: 'A status, or {status, body, headers}, per call; the last one repeats.',
            }),
          },
          Strict,
        ),
      ),
    ),
    alertmanager: Type.Optional(
      Type.Object(
        {
          resolved: Type.Array(Type.Boolean(), {
            minItems: 1,
            description: 'Per poll: true when the alert is no longer active; the last one repeats.',
          }),
        },
        Strict,
      ),
    ),
  },
  {
    ...Strict,
    description: 'Answers of the outside world, consumed in order; the last one repeats. A call nothing answers fails the case.',
  },
);

const RunExpect = {
  status: Type.Optional(literals(RUN_STATUSES)),
  rungs: Type.Optional(Type.Array(Type.String(), { description: 'Names of the rungs started, in order.' })),
  decisions: Type.Optional(
    Type.Array(literals(DECISION_REASONS), { description: 'Reason codes recorded on the run: a subsequence, in order.' }),
  ),
  steps: Type.Optional(Type.Record(Type.String(), literals(STEP_OUTCOMES), { description: 'Outcome per step id (a subset).' })),
};

export const ExpectSchema = Type.Object(
  {
    ...RunExpect,
    mutations: Type.Optional(
      Type.Array(Type.String(), { description: 'Every write the cluster received, in order, as "<METHOD> <resource>/<name>".' }),
    ),
    escalations: Type.Optional(Type.Array(literals(['P0', 'P1', 'P2', 'P3']), { description: 'Levels paged, in order; [] = no page.' })),
    runs: Type.Optional(
      Type.Array(Type.Object({ playbook: Type.Optional(Type.String()), ...RunExpect }, Strict), {
        description:
          'Every run of the case, in the order they were created (status, rungs, decisions and steps above describe the last one).',
      }),
    ),
  },
  Strict,
);

export const FaultsSchema = Type.Object(
  {
    failRollouts: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9-]+/[a-z0-9.-]+$' }), {
        description: '<namespace>/<deployment>: its next rollout hangs (ProgressDeadlineExceeded).',
      }),
    ),
    crashImages: Type.Optional(
      Type.Record(Type.String(), literals(['CrashLoopBackOff', 'OOMKilled', 'Error']), { description: 'Pods running this image crash.' }),
    ),
    apiErrors: Type.Optional(
      Type.Array(
        Type.Object(
          {
            status: Type.Union([Type.Literal(500), Type.Literal(429), Type.Literal(409)]),
            count: Type.Optional(Type.Integer({ minimum: 1 })),
            method: Type.Optional(Type.String()),
            pathIncludes: Type.Optional(Type.String()),
          },
          Strict,
        ),
        { description: 'The API server answers this status to matching calls (all of them, or the next `count`).' },
      ),
    ),
  },
  Strict,
);

export const TestCaseSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    timeout: Type.Optional(Duration({ description: 'Real-time bound of the case (default 60s); the playbooks run on virtual time.' })),
    cluster: Type.Optional(
      Type.Object(
        {
          objects: Type.Optional(
            Type.Array(Type.Object({ apiVersion: Type.String(), kind: Type.String(), metadata: Type.Object({ name: Type.String() }) })),
          ),
          faults: Type.Optional(FaultsSchema),
        },
        Strict,
      ),
    ),
    alerts: Type.Array(TestAlertSchema, { minItems: 1 }),
    world: Type.Optional(WorldSchema),
    expect: Type.Optional(ExpectSchema),
  },
  Strict,
);

export const TestFileSchema = Type.Object(
  {
    playbooks: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'Playbook files under test, relative to this file. Default: every playbook in the parent folder.',
      }),
    ),
    tests: Type.Array(TestCaseSchema, { minItems: 1 }),
  },
  Strict,
);

export type TestFileDoc = Static<typeof TestFileSchema>;
export type TestCaseDoc = Static<typeof TestCaseSchema>;
export type TestAlertDoc = Static<typeof TestAlertSchema>;
export type WorldDoc = Static<typeof WorldSchema>;
export type ExpectDoc = Static<typeof ExpectSchema>;
export type RunExpectDoc = Pick<ExpectDoc, 'status' | 'rungs' | 'decisions' | 'steps'>;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];
export const DEFAULT_CASE_TIMEOUT_MS = 60_000;

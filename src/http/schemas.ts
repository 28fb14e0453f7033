import { Type } from '@sinclair/typebox';

/** Response shapes shared by routes (they also become the OpenAPI document). */
export const ErrorBody = Type.Object(
  { code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) },
  { $id: 'Error' },
);

export const AlertSummarySchema = Type.Object({
  fingerprint: Type.String(),
  status: Type.String(),
  startsAt: Type.String(),
  episode: Type.String(),
  decision: Type.String({ description: 'started | deduplicated | unmatched | resolved | absorbed (a fleet run handles it)' }),
  runs: Type.Array(Type.Object({ playbook: Type.String(), runId: Type.String(), decision: Type.String() })),
});

export const RunViewSchema = Type.Object(
  {
    id: Type.String(),
    playbook: Type.String(),
    status: Type.String(),
    trigger: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    episodeId: Type.Optional(Type.String()),
    dryRun: Type.Boolean(),
    target: Type.Optional(Type.Object({ namespace: Type.Optional(Type.String()), kind: Type.String(), name: Type.String() })),
    operator: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
    retryOf: Type.Optional(Type.String()),
    revertOf: Type.Optional(Type.String({ description: 'a revert run: the run whose changes it puts back' })),
    alert: Type.Unknown(),
    params: Type.Unknown(),
    state: Type.Optional(Type.Unknown()),
    cancel: Type.Optional(Type.Unknown()),
    alertResolvedAt: Type.Optional(Type.String()),
    escalationEnqueuedAt: Type.Optional(Type.String({ description: 'when the page of an escalated run was handed to the escalator' })),
    finalDecisionAt: Type.Optional(
      Type.String({
        description: 'when the decision that closes the run was recorded; an ended run without it is still recording its closing decision',
      }),
    ),
    decisions: Type.Array(Type.Unknown()),
  },
  { additionalProperties: true },
);

export const Errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };

/**
 * The 4xx answer of a route that takes no input (probes, metrics): a request refused before the handler (a
 * malformed request, or an access rule in front of it) still gets the error body.
 */
export const Refused = { '4xx': { ...ErrorBody, description: 'The request was refused before it reached the route.' } };

const HumanMarkSchema = Type.Object({
  person: Type.String(),
  source: Type.String({ description: 'pagerduty | opsgenie | slack' }),
  at: Type.String({ format: 'date-time' }),
});

/** GET /v1/runs/:id/deliveries: each page of the run's episode at each target, and what people did to the incident. */
export const RunDeliveriesSchema = Type.Object(
  {
    episodeKey: Type.String(),
    deliveries: Type.Array(
      Type.Object({
        deliveryId: Type.String(),
        target: Type.String({ description: 'the configured target name' }),
        type: Type.String({ description: 'pagerduty | opsgenie | slack | slack-app | webhook | statuspage' }),
        action: Type.String({ description: 'trigger | update | resolve' }),
        level: Type.String(),
        runId: Type.Optional(
          Type.String({ description: 'the run whose report the event carries (another run of the episode, or this one)' }),
        ),
        enqueuedAt: Type.String({ format: 'date-time' }),
        state: Type.Union(
          ['queued', 'sent', 'retrying', 'failed', 'dead-lettered'].map((s) => Type.Literal(s)),
          {
            description:
              'queued: not tried yet; sent: the target took it; retrying: the last attempt failed, another goes at nextAt; failed: the target refused it (dead letter); dead-lettered: given up (attempts used up, target gone, or its trigger refused)',
          },
        ),
        at: Type.String({ format: 'date-time', description: 'when it came to this state' }),
        attempts: Type.Integer({ minimum: 0 }),
        nextAt: Type.Optional(Type.String({ format: 'date-time' })),
        status: Type.Optional(Type.Integer({ description: 'HTTP status of the last answer' })),
        error: Type.Optional(Type.String({ description: 'why the last attempt failed (secrets removed)' })),
      }),
    ),
    human: Type.Object({
      ack: Type.Optional(HumanMarkSchema),
      takeover: Type.Optional(HumanMarkSchema),
      resolve: Type.Optional(HumanMarkSchema),
    }),
  },
  { $id: 'RunDeliveries' },
);

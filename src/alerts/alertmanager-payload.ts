import { Type, type Static } from '@sinclair/typebox';
import type { FastifySchemaCompiler } from 'fastify';
import { createAjv } from '../schema/validator.ts';

/**
 * Alertmanager's webhook body, version 4 (notify/webhook/webhook.go `Message`). Unknown top-level fields are
 * accepted because Alertmanager keeps adding them (`notification_reason` in 0.32, `routeLabels` in 0.34). Firing
 * alerts carry `endsAt: 0001-01-01T00:00:00Z`. The group `status` is "firing" if any alert fires, so decisions are
 * made per alert from `alerts[].status`.
 */
const LabelSet = Type.Record(Type.String(), Type.String());
const Timestamp = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'RFC 3339',
});

export const WebhookAlertSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
    labels: LabelSet,
    annotations: Type.Optional(LabelSet),
    startsAt: Timestamp,
    endsAt: Type.Optional(Timestamp),
    generatorURL: Type.Optional(Type.String()),
    fingerprint: Type.String({ pattern: '^[0-9a-f]{1,16}$', description: 'FNV-1a 64 of the label set, lowercase hex' }),
  },
  { additionalProperties: true },
);

export const WebhookPayloadSchema = Type.Object(
  {
    version: Type.Literal('4'),
    groupKey: Type.String(),
    truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
    status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
    receiver: Type.String(),
    groupLabels: Type.Optional(LabelSet),
    commonLabels: Type.Optional(LabelSet),
    commonAnnotations: Type.Optional(LabelSet),
    externalURL: Type.Optional(Type.String()),
    notification_reason: Type.Optional(Type.String()),
    routeLabels: Type.Optional(LabelSet),
    alerts: Type.Array(WebhookAlertSchema, { minItems: 1 }),
  },
  { additionalProperties: true },
);

export type WebhookPayload = Static<typeof WebhookPayloadSchema>;
export type WebhookAlert = Static<typeof WebhookAlertSchema>;

/**
 * The webhook body is checked as Alertmanager sends it, without type coercion: label and annotation values are
 * strings and `version` is the string "4". Fastify's own Ajv coerces (4 → "4", 500 → "500"), which would let a sender
 * that is not Alertmanager through with values changed behind its back; here it gets a 400 naming the field instead.
 */
export const validateWebhookPayload = createAjv({ coerce: false }).compile(WebhookPayloadSchema);

/** The route's validator compiler: the body gets `validateWebhookPayload`; the route declares no other part. */
export const webhookValidatorCompiler: FastifySchemaCompiler<unknown> = ({ httpPart, url }) => {
  if (httpPart !== 'body') throw new Error(`${url}: only the body of the webhook has a schema (got one for ${String(httpPart)})`);
  return validateWebhookPayload;
};

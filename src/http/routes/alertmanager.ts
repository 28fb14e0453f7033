import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { WebhookPayloadSchema, webhookValidatorCompiler, type WebhookPayload } from '../../alerts/alertmanager-payload.ts';
import { ingestWebhook } from '../../alerts/ingest-webhook.ts';
import { AlertSummarySchema, Errors } from '../schemas.ts';
import type { AppDeps } from '../app-deps.ts';

/**
 * POST /v1/alertmanager — the URL an Alertmanager `webhook_config` points at. Authenticates before the body is
 * read, validates the v4 payload, records every alert durably (on replicated Redis: until replicas hold the writes,
 * see src/store/durability-barrier.ts), then answers 202 with what happened to each alert.
 * 503 when Redis is away (Alertmanager retries 5xx), 400 for a payload that will never be valid (it does not retry
 * 4xx within the window); never 429.
 */
export async function alertmanagerRoute(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post<{ Body: WebhookPayload }>(
    '/v1/alertmanager',
    {
      // Authenticated before the body is read (access-control.ts).
      config: { role: 'webhook' },
      schema: {
        operationId: 'receiveAlertmanagerWebhook',
        summary: 'Receive an Alertmanager webhook (payload version 4)',
        tags: ['alertmanager'],
        body: WebhookPayloadSchema,
        response: { 202: Type.Object({ accepted: Type.Integer(), alerts: Type.Array(AlertSummarySchema) }), ...Errors, 413: Errors[400] },
      },
      // No coercion: a label value 500 or `version: 4` is refused with the field's path, never turned into a string.
      validatorCompiler: webhookValidatorCompiler,
    },
    async (req, reply) => {
      const log = req.log as unknown as AppDeps['log'];
      try {
        const alerts = await ingestWebhook(req.body, {
          store: deps.store,
          queue: deps.queue,
          catalog: deps.catalog,
          metrics: deps.metrics,
          clock: deps.clock,
          log,
          dryRun: deps.config.runs.dryRun,
          ...(deps.fleet ? { fleet: deps.fleet } : {}),
          ...(deps.knownEpisodes ? { known: deps.knownEpisodes } : {}),
        });
        // The 202 promises the alerts are recorded: on replicated Redis, only once replicas hold them.
        await deps.durability?.confirm();
        deps.metrics.webhooks.inc({ code: '202' });
        // A notification that only repeats what runs already handle (repeat_interval, the HA twin, a retry) is logged
        // at debug: in a storm those are most deliveries, and each one's decision is counted on its episode anyway.
        const level = alerts.every((a) => a.decision === 'deduplicated') ? 'debug' : 'info';
        if (log.isLevelEnabled(level))
          log[level](
            { receiver: req.body.receiver, alerts: alerts.map((a) => `${a.fingerprint}:${a.decision}`) },
            `webhook: ${alerts.length} alert(s)`,
          );
        return reply.code(202).send({ accepted: alerts.length, alerts });
      } catch (err) {
        deps.metrics.webhooks.inc({ code: String((err as { statusCode?: number }).statusCode ?? 500) });
        throw err;
      }
    },
  );
}

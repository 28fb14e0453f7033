import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { RemediatorError } from '../../domain/errors.ts';
import { parseOpsgenieEvent, verifyOpsgenieToken } from '../../escalation/inbound/opsgenie-webhook.ts';
import type { AppDeps } from '../app-deps.ts';
import { Errors } from '../schemas.ts';
import { HookAnswer } from './pagerduty-hook.ts';

const OpsgenieWebhook = Type.Object(
  {
    action: Type.String(),
    alert: Type.Object(
      { alertId: Type.Optional(Type.String()), alias: Type.Optional(Type.String()), username: Type.Optional(Type.String()) },
      { additionalProperties: true },
    ),
    source: Type.Optional(
      Type.Object({ name: Type.Optional(Type.String()), type: Type.Optional(Type.String()) }, { additionalProperties: true }),
    ),
  },
  { additionalProperties: true, description: 'An Opsgenie outgoing-webhook delivery.' },
);

/**
 * POST /v1/hooks/opsgenie — the URL of an Opsgenie outgoing webhook integration (actions Acknowledge and Close).
 * Opsgenie signs nothing: the integration sends the configured custom header, compared in constant time before the
 * body is validated. Wrong or missing → 401 (REM_ERR_SIGNATURE_INVALID), nothing changes.
 */
export async function opsgenieHookRoute(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const inbound = deps.inbound;
  if (!inbound?.opsgenie) return;
  const { header, token } = inbound.opsgenie;
  app.post(
    '/v1/hooks/opsgenie',
    {
      config: { role: 'public' },
      schema: {
        operationId: 'receiveOpsgenieWebhook',
        summary: 'Acknowledgements and closes made by people in Opsgenie (outgoing webhook, header credential)',
        tags: ['hooks'],
        security: [],
        body: OpsgenieWebhook,
        response: { 202: HookAnswer, ...Errors },
      },
      preValidation: async (req) => {
        if (!verifyOpsgenieToken(req.headers[header.toLowerCase()], token)) {
          req.log.warn('Opsgenie webhook refused: credential header missing or wrong');
          throw new RemediatorError('REM_ERR_SIGNATURE_INVALID', `the ${header} header is missing or wrong`);
        }
      },
    },
    async (req, reply) => {
      const event = parseOpsgenieEvent(req.body);
      if ('ignored' in event) {
        req.log.info({ reason: event.ignored }, 'Opsgenie event ignored');
        return reply.code(202).send({ outcome: 'ignored', reason: event.ignored });
      }
      const done = await inbound.apply(event, AbortSignal.timeout(4000));
      return reply.code(202).send({ outcome: done.outcome, episode: done.episodeKey, runs: done.runs });
    },
  );
}

import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { RemediatorError } from '../../domain/errors.ts';
import { parsePagerDutyEvent, verifyPagerDutySignature } from '../../escalation/inbound/pagerduty-webhook.ts';
import type { HumanEvent, IgnoredEvent } from '../../escalation/inbound/human-event.ts';
import type { AppDeps } from '../app-deps.ts';
import { Errors } from '../schemas.ts';
import { keepRawJson, rawBody } from './raw-json.ts';

const PagerDutyWebhook = Type.Object(
  {
    event: Type.Object(
      {
        id: Type.Optional(Type.String()),
        event_type: Type.String(),
        resource_type: Type.Optional(Type.String()),
        occurred_at: Type.Optional(Type.String()),
        agent: Type.Optional(
          Type.Union([
            Type.Null(),
            Type.Object(
              { id: Type.Optional(Type.String()), type: Type.String(), summary: Type.Optional(Type.String()) },
              { additionalProperties: true },
            ),
          ]),
        ),
        data: Type.Optional(Type.Object({}, { additionalProperties: true })),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true, description: 'A PagerDuty v3 webhook delivery (one event).' },
);

export const HookAnswer = Type.Object({
  outcome: Type.String({ description: 'acted | repeated | ignored' }),
  episode: Type.Optional(Type.String()),
  runs: Type.Optional(Type.Array(Type.String())),
  reason: Type.Optional(Type.String({ description: 'why an event was ignored' })),
});

/**
 * POST /v1/hooks/pagerduty — the URL of a PagerDuty v3 webhook subscription (events incident.acknowledged,
 * incident.resolved, incident.annotated). Public, because PagerDuty sends no bearer token: the `X-PagerDuty-Signature` over the raw body is
 * the credential, checked before the body is even validated; a forged or unsigned request is a 401
 * (REM_ERR_SIGNATURE_INVALID) and changes nothing. A valid event is answered 202 whether acted on or ignored
 * (PagerDuty retries only 5xx/429, and a redelivery is recognised), 503 when Redis is away so PagerDuty retries.
 */
export async function pagerDutyHookRoute(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const inbound = deps.inbound;
  if (!inbound?.pagerduty) return;
  const { secrets, lookup } = inbound.pagerduty;
  keepRawJson(app);
  app.post(
    '/v1/hooks/pagerduty',
    {
      config: { role: 'public' },
      schema: {
        operationId: 'receivePagerDutyWebhook',
        summary: 'Acknowledgements, resolves and notes made by people in PagerDuty (v3 webhook, signed)',
        tags: ['hooks'],
        security: [],
        body: PagerDutyWebhook,
        response: { 202: HookAnswer, ...Errors },
      },
      preValidation: async (req) => {
        if (!verifyPagerDutySignature(rawBody(req), req.headers['x-pagerduty-signature'], secrets)) {
          req.log.warn({ webhookId: req.headers['x-webhook-id'] }, 'PagerDuty webhook refused: signature does not verify');
          throw new RemediatorError(
            'REM_ERR_SIGNATURE_INVALID',
            'X-PagerDuty-Signature is missing or does not verify against any configured secret',
          );
        }
      },
    },
    async (req, reply) => {
      const parsed = parsePagerDutyEvent(req.body);
      // PagerDuty wants an answer within 5 s: the lookup and the records share 4 s.
      const signal = AbortSignal.timeout(4000);
      let event: HumanEvent | IgnoredEvent =
        'incidentId' in parsed
          ? {
              ignored: `${parsed.kind === 'note' ? 'a note names its incident by id only' : 'the incident carries no incident key'} and no REST key is configured to look it up (escalation.inbound.pagerduty.apiToken)`,
            }
          : parsed;
      if ('incidentId' in parsed && lookup) {
        const { incidentId, ...rest } = parsed;
        const episodeKey = await lookup(incidentId, signal).catch((err: unknown) => {
          req.log.warn({ incidentId, error: (err as Error).message }, 'PagerDuty incident lookup failed');
          return undefined;
        });
        event = episodeKey ? { ...rest, episodeKey } : { ignored: `no alert of incident ${incidentId} was opened by remediator` };
      }
      if ('ignored' in event) {
        req.log.info({ reason: event.ignored }, 'PagerDuty event ignored');
        return reply.code(202).send({ outcome: 'ignored', reason: event.ignored });
      }
      const done = await inbound.apply(event, signal);
      return reply.code(202).send({ outcome: done.outcome, episode: done.episodeKey, runs: done.runs });
    },
  );
}

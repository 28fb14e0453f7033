import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppDeps } from '../app-deps.ts';
import { Errors } from '../schemas.ts';
import { RemediatorError } from '../../domain/errors.ts';
import type { PauseRecord, PauseScope } from '../../guards/pause-policy.ts';

const Scope = Type.Union([Type.Literal('global'), Type.Literal('namespace'), Type.Literal('playbook')], {
  description: 'global, or one namespace, or one playbook',
});
const Value = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
  description: 'The namespace or playbook name (not for global).',
});

const SetBody = Type.Object(
  {
    scope: Scope,
    value: Type.Optional(Value),
    reason: Type.String({ minLength: 3, description: 'Why; shown on every run the pause stops.' }),
    until: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the pause ends by itself (RFC 3339); default: until lifted.' }),
    ),
  },
  { additionalProperties: false },
);
const LiftBody = Type.Object(
  { scope: Scope, value: Type.Optional(Value), reason: Type.String({ minLength: 3, description: 'Why it is lifted; recorded.' }) },
  { additionalProperties: false },
);

const PauseView = Type.Object({
  scope: Type.String(),
  value: Type.Optional(Type.String()),
  reason: Type.String(),
  code: Type.String({ description: 'storm_paused (set by the storm breaker) or paused (set by an operator)' }),
  by: Type.String(),
  since: Type.String(),
  until: Type.Optional(Type.String()),
});
const PauseEventView = Type.Object({ event: Type.String(), at: Type.String(), by: Type.String(), reason: Type.String(), pause: PauseView });

function view(p: PauseRecord): Static<typeof PauseView> {
  const { untilMs: _ms, ...rest } = p;
  return rest;
}

function scopeValue(scope: PauseScope, value: string | undefined): string | undefined {
  if (scope === 'global') {
    if (value !== undefined) throw new RemediatorError('REM_ERR_BAD_REQUEST', 'a global pause takes no value');
    return undefined;
  }
  if (value === undefined) throw new RemediatorError('REM_ERR_BAD_REQUEST', `a ${scope} pause needs a value (the ${scope} name)`);
  return value;
}

/**
 * Pauses of automatic mutations: anyone may read them (viewer), only an admin sets or lifts one. A paused scope refuses automatic mutations (manual runs still
 * work); the storm breaker's fleet-wide pause is listed here too and lifted the same way.
 */
export async function pauseRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const pauses = deps.pauses;
  if (!pauses) return;

  app.get(
    '/v1/pause',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'listPauses',
        summary: 'Pauses in force and the latest pause events',
        tags: ['pause'],
        response: { 200: Type.Object({ pauses: Type.Array(PauseView), history: Type.Array(PauseEventView) }), ...Errors },
      },
    },
    async () => {
      const [active, history] = await Promise.all([pauses.active(deps.clock.now()), pauses.history(50)]);
      return { pauses: active.map(view), history: history.map((e) => ({ ...e, pause: view(e.pause) })) };
    },
  );

  app.post<{ Body: Static<typeof SetBody> }>(
    '/v1/pause',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'setPause',
        summary: 'Pause automatic mutations globally, in a namespace or for a playbook',
        tags: ['pause'],
        body: SetBody,
        response: { 201: PauseView, ...Errors },
      },
    },
    async (req, reply) => {
      const now = deps.clock.now();
      const value = scopeValue(req.body.scope, req.body.value);
      const untilMs = req.body.until === undefined ? undefined : Date.parse(req.body.until);
      if (untilMs !== undefined && untilMs <= now)
        throw new RemediatorError('REM_ERR_BAD_REQUEST', `until ${req.body.until} is not in the future`);
      const pause: PauseRecord = {
        scope: req.body.scope,
        ...(value === undefined ? {} : { value }),
        reason: req.body.reason,
        code: 'paused',
        by: req.operator,
        since: new Date(now).toISOString(),
        ...(untilMs === undefined ? {} : { until: new Date(untilMs).toISOString(), untilMs }),
      };
      await pauses.set(pause);
      req.log.warn({ pause: view(pause) }, `pause set by ${req.operator}`);
      return reply.code(201).send(view(pause));
    },
  );

  app.delete<{ Body: Static<typeof LiftBody> }>(
    '/v1/pause',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'liftPause',
        summary: "Lift a pause (the storm breaker's too); recorded with who and why",
        tags: ['pause'],
        body: LiftBody,
        response: { 200: Type.Object({ lifted: PauseView }), ...Errors },
      },
    },
    async (req) => {
      const value = scopeValue(req.body.scope, req.body.value);
      const lifted = await pauses.lift(req.body.scope, value, req.operator, req.body.reason, deps.clock.now());
      if (!lifted) throw new RemediatorError('REM_ERR_NOT_FOUND', `no ${req.body.scope} pause${value ? ` for "${value}"` : ''} is set`);
      req.log.warn({ pause: view(lifted), reason: req.body.reason }, `pause lifted by ${req.operator}`);
      return { lifted: view(lifted) };
    },
  );
}

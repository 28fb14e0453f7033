import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../app-deps.ts';
import { Refused } from '../schemas.ts';
import { playbookReadiness, recordPlaybookGauges } from '../../playbooks/playbook-health.ts';

const Check = Type.Object({
  ok: Type.Boolean(),
  required: Type.Optional(Type.Boolean({ description: 'false: detail only; readiness does not depend on it' })),
  detail: Type.Optional(Type.Unknown()),
});

/**
 * /healthz: the process answers. /readyz: ready (200) when Redis answers and a playbook set is loaded, 503 otherwise;
 * other entries (Kubernetes reachability, the RBAC pre-flight) are detail marked `required: false` and never make the
 * instance unready, because the webhook records alerts without them. /metrics.
 */
/** What the health routes read; a worker's health listener has only these. */
export type HealthDeps = Pick<AppDeps, 'store' | 'queue' | 'catalog' | 'metrics' | 'readinessChecks'>;

export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get(
    '/healthz',
    {
      config: { role: 'public' },
      schema: {
        operationId: 'liveness',
        summary: 'Liveness',
        tags: ['health'],
        response: { 200: Type.Object({ ok: Type.Boolean() }), ...Refused },
      },
    },
    async () => ({ ok: true }),
  );

  app.get(
    '/readyz',
    {
      config: { role: 'public' },
      schema: {
        operationId: 'readiness',
        summary: 'Readiness with details',
        tags: ['health'],
        response: {
          ...Refused,
          200: Type.Object({ ok: Type.Boolean(), checks: Type.Record(Type.String(), Check) }),
          503: Type.Object({ ok: Type.Boolean(), checks: Type.Record(Type.String(), Check) }),
        },
      },
    },
    async (_req, reply) => {
      const checks: Record<string, { ok: boolean; required?: boolean; detail?: unknown }> = {};
      try {
        await deps.store.ping();
        checks.redis = { ok: true };
      } catch (err) {
        checks.redis = { ok: false, detail: (err as Error).message };
      }
      checks.playbooks = playbookReadiness(deps.catalog);
      for (const [name, check] of Object.entries(deps.readinessChecks ?? {})) {
        try {
          checks[name] = await check();
        } catch (err) {
          checks[name] = { ok: false, required: false, detail: (err as Error).message };
        }
      }
      const ok = Object.values(checks).every((c) => c.ok || c.required === false);
      return reply.code(ok ? 200 : 503).send({ ok, checks });
    },
  );

  app.get(
    '/metrics',
    {
      config: { role: 'public' },
      schema: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        tags: ['health'],
        produces: ['text/plain'],
        response: { 200: Type.String(), ...Refused },
      },
    },
    async (_req, reply) => {
      // The same bounded ping as /readyz (redis.commandTimeout), so a Redis outage is a metric an alert can fire on.
      deps.metrics.redisUp.set(
        await deps.store.ping().then(
          () => 1,
          () => 0,
        ),
      );
      try {
        const counts = await deps.queue.counts();
        for (const [state, n] of Object.entries(counts)) deps.metrics.queueDepth.set({ state }, n);
      } catch {
        /* Redis away: the gauge keeps its last value; remediator_redis_up and /readyz tell */
      }
      recordPlaybookGauges(deps.metrics, deps.catalog);
      return reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    },
  );
}

import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { healthRoutes, type HealthDeps } from './routes/health.ts';

/**
 * The listener of a `--role worker` process: /healthz, /readyz and /metrics only (the worker's step and run metrics
 * live in its own process, so they are scraped here), no webhook and no operator API.
 */
export async function buildHealthApp(deps: HealthDeps & { log: Logger }): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.log, logController: new LogController({ disableRequestLogging: true }) });
  await app.register(async (scope) => healthRoutes(scope, deps));
  return app as unknown as FastifyInstance;
}

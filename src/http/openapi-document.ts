import type { FastifyInstance } from 'fastify';
import { buildApp } from './build-app.ts';
import type { AppDeps } from './app-deps.ts';
import { defaultConfig } from '../config/load-config.ts';
import { silentLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { systemClock } from '../ports/clock.ts';
import { createRegistry } from '../main.ts';

/**
 * The OpenAPI document a receiver serves at /openapi.json, built without Redis or a cluster: every route group is
 * registered (pauses, timelines, the customer notice and the provider hooks included) with stand-ins for the adapters, which no handler calls because no
 * request is made. For checking the document (npm run lint) and publishing it.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const unused = {} as never;
  const deps: AppDeps = {
    config: defaultConfig(),
    log: silentLogger(),
    metrics: new Metrics(),
    store: unused,
    queue: unused,
    catalog: unused,
    commands: unused,
    clock: systemClock,
    registry: createRegistry(),
    pauses: unused,
    incidentReport: () => unused,
    slack: unused,
    episodeReport: async () => undefined,
    notices: unused,
    // Stand-in credentials: the hooks are documented, never called here.
    inbound: { pagerduty: { secrets: ['unused'] }, opsgenie: { header: 'x-remediator-token', token: 'unused' }, apply: () => unused },
  };
  const app: FastifyInstance = await buildApp(deps);
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

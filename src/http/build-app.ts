import Fastify, { LogController, type FastifyInstance } from 'fastify';
import sensible from '@fastify/sensible';
import swagger from '@fastify/swagger';
import type { AppDeps } from './app-deps.ts';
import { packageVersion } from '../observability/package-version.ts';
import { errorHandler } from './error-handler.ts';
import { alertmanagerRoute } from './routes/alertmanager.ts';
import { playbookRoutes } from './routes/playbooks.ts';
import { runRoutes } from './routes/runs.ts';
import { healthRoutes } from './routes/health.ts';
import { pauseRoutes } from './routes/pause.ts';
import { reloadRoute } from './routes/reload.ts';
import { slackRoutes } from './routes/slack.ts';
import { accessControl } from './access-control.ts';
import { pagerDutyHookRoute } from './routes/pagerduty-hook.ts';
import { opsgenieHookRoute } from './routes/opsgenie-hook.ts';
import { incidentRoutes } from './routes/incidents.ts';
import { noticeRoutes } from './routes/notice.ts';
import { registerConsoleAuth, type ConsoleAuth } from './console/console-auth.ts';
import { consoleRoutes } from './console/console-routes.ts';

/**
 * Builds the HTTP app from its dependencies. It never listens: `main.ts` does, and tests use `inject` or listen on
 * port 0. Every route declares who may call it (`config: { role }`); one hook (access-control.ts) enforces it.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: deps.config.server.bodyLimit,
    // Request lines are not logged by Fastify: the routes log what matters (decisions, run ids) themselves.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });
  // The console's sessions are read before access control decides (a session stands where a bearer token would).
  let consoleAuth: ConsoleAuth | undefined;
  if (deps.consoleSessions && deps.config.console.enabled)
    consoleAuth = await registerConsoleAuth(
      app as unknown as FastifyInstance,
      deps.config.console,
      deps.consoleSessions.store,
      deps.consoleSessions.secret,
    );
  accessControl(app as unknown as FastifyInstance, deps, consoleAuth);
  await app.register(sensible);
  // Every answer is counted by its route pattern (bounded: the routes are fixed), never by the raw URL.
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpRequests.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'remediator',
        version: packageVersion,
        description: 'Alertmanager webhook remediation service: receiver and operator API.',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      // Relative: the document is served by the receiver it describes (server.publicUrl when set).
      servers: [{ url: deps.config.server.publicUrl ?? '/', description: 'this receiver' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'REM_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` }));

  await app.register(async (scope) => healthRoutes(scope, deps));
  await app.register(async (scope) => alertmanagerRoute(scope, deps));
  await app.register(async (scope) => playbookRoutes(scope, deps));
  await app.register(async (scope) => runRoutes(scope, deps));
  await app.register(async (scope) => pauseRoutes(scope, deps));
  await app.register(async (scope) => reloadRoute(scope, deps));
  await app.register(async (scope) => slackRoutes(scope, deps));
  await app.register(async (scope) => incidentRoutes(scope, deps));
  await app.register(async (scope) => noticeRoutes(scope, deps));
  await app.register(async (scope) => pagerDutyHookRoute(scope, deps));
  await app.register(async (scope) => opsgenieHookRoute(scope, deps));
  const auth = consoleAuth;
  if (auth) await app.register(async (scope) => consoleRoutes(scope, deps, auth));
  app.get('/openapi.json', { schema: { hide: true }, config: { role: 'public' } }, async () => app.swagger());
  return app as unknown as FastifyInstance;
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from './app-deps.ts';
import { authenticateOperator, authenticateWebhookCaller } from './auth.ts';
import { isOperatorRole, roleAllows, OPERATOR_ROLES, type OperatorRole } from './operator-roles.ts';
import type { ConsoleAuth } from './console/console-auth.ts';

/**
 * Who may call a route: `public` (anyone: health, readiness, metrics, the OpenAPI document), `webhook`
 * (Alertmanager's credentials), `signed` (a provider that signs the raw body, e.g. Slack's interactivity requests:
 * the signature can only be checked once the body is read, so the route checks it first thing and does nothing
 * before), or the least operator role it needs.
 */
export type RouteAccess = 'public' | 'webhook' | 'signed' | OperatorRole;

export const ROUTE_ACCESS: readonly RouteAccess[] = ['public', 'webhook', 'signed', ...OPERATOR_ROLES];

export interface DeclaredRoute {
  method: string;
  url: string;
  role: RouteAccess;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (see RouteAccess); every route must say. */
    role?: RouteAccess;
    /** A console page: someone not signed in is sent to the sign-in page rather than answered 401. */
    page?: boolean;
  }
  interface FastifyRequest {
    /** The operator's name from their token (operator routes only). */
    operator: string;
    /** The role of that token. */
    operatorRole: OperatorRole;
  }
  interface FastifyInstance {
    /** Every route registered, with the role it declared, in registration order. */
    routeAccess: readonly DeclaredRoute[];
  }
}

function isRouteAccess(value: unknown): value is RouteAccess {
  return typeof value === 'string' && (value === 'public' || value === 'webhook' || value === 'signed' || isOperatorRole(value));
}

async function refuse(reply: FastifyReply, status: 401 | 403, message: string, code?: 'REM_ERR_CSRF'): Promise<void> {
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  await reply.code(status).send({ code: code ?? (status === 401 ? 'REM_ERR_UNAUTHORIZED' : 'REM_ERR_FORBIDDEN'), message });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Access control in one place. Each route declares its role as data (`config: { role: 'approver' }`); one onRequest
 * hook checks it before the body is read. A route that declares none cannot be registered, so a new route is never
 * open by omission. Refusals name the operator and the role needed, never the token.
 *
 * A request without an Authorization header may come from the console (`consoleAuth`): a signed-in session or a
 * trusted authenticating proxy. Such a request gets the same role check, and a state-changing one must also carry
 * the session's CSRF token (REM_ERR_CSRF). A request with a bearer token is judged by the token alone.
 *
 * Must be called on the root instance before any route is added.
 */
export function accessControl(app: FastifyInstance, deps: AppDeps, consoleAuth?: ConsoleAuth): void {
  const { operators, webhook } = deps.config.auth;
  const declared: DeclaredRoute[] = [];
  app.decorate('routeAccess', declared);
  app.decorateRequest('operator', '');
  app.decorateRequest('operatorRole', 'viewer');

  app.addHook('onRoute', (route) => {
    const role = route.config?.role;
    if (!isRouteAccess(role))
      throw new Error(`route ${String(route.method)} ${route.url} declares no role: set config.role to one of ${ROUTE_ACCESS.join(', ')}`);
    for (const method of [route.method].flat()) declared.push({ method, url: route.url, role });
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // Unknown URLs answer 404 whoever asks; every registered route has a role (onRoute above).
    if (req.is404) return;
    const needs = req.routeOptions.config.role;
    // `signed`: the route verifies the provider's signature over the raw body before anything else.
    if (needs === 'public' || needs === 'signed') return;
    if (needs === 'webhook') {
      const auth = authenticateWebhookCaller(req.headers.authorization, webhook, operators);
      if (auth.ok) return;
      const status = auth.forbidden ? 403 : 401;
      deps.metrics.webhooks.inc({ code: String(status) });
      req.log.warn({ reason: auth.reason }, 'webhook refused');
      return refuse(reply, status, auth.reason);
    }
    if (!isRouteAccess(needs)) return refuse(reply, 403, 'this route declares no role');
    if (consoleAuth && req.headers.authorization === undefined) {
      const who = consoleAuth.identify(req);
      if (who && 'refused' in who) return refuse(reply, 403, who.refused);
      if (who) {
        if (!SAFE_METHODS.has(req.method) && !consoleAuth.csrfValid(req))
          return refuse(reply, 403, 'missing or invalid CSRF token (header x-csrf-token): reload the page', 'REM_ERR_CSRF');
        if (!roleAllows(who.role, needs))
          return refuse(reply, 403, `${req.method} ${req.routeOptions.url} needs the ${needs} role; ${who.principal} has ${who.role}`);
        req.operator = who.principal;
        req.operatorRole = who.role;
        return;
      }
      if (req.routeOptions.config.page) return reply.redirect(`/sign-in?next=${encodeURIComponent(req.url)}`, 303);
    }
    const auth = authenticateOperator(req.headers.authorization, operators, webhook.bearerTokens);
    if (!auth.ok) return refuse(reply, auth.forbidden ? 403 : 401, auth.reason);
    if (!roleAllows(auth.role, needs)) {
      req.log.warn(
        { operator: auth.principal, role: auth.role, needs, route: `${req.method} ${req.routeOptions.url}` },
        'operator refused: role too low',
      );
      return refuse(reply, 403, `${req.method} ${req.routeOptions.url} needs the ${needs} role; ${auth.principal} has ${auth.role}`);
    }
    req.operator = auth.principal;
    req.operatorRole = auth.role;
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import session, { type FastifySessionOptions } from '@fastify/session';
import Tokens from '@fastify/csrf';
import proxyAddr from '@fastify/proxy-addr';
import type { ConsoleConfig } from './console-config.ts';
import type { OperatorRole } from '../operator-roles.ts';
import { parseDuration } from '../../domain/duration.ts';

declare module 'fastify' {
  interface Session {
    /** The person signed in (their operator name, or the proxy's user) and their role. */
    operator?: string;
    role?: OperatorRole;
    /** The secret the console's CSRF tokens are made from. */
    csrf?: string;
  }
}

/** Who a console request comes from, when it carries no bearer token. */
export interface ConsoleIdentity {
  principal: string;
  role: OperatorRole;
  via: 'session' | 'proxy';
}

/** The session store @fastify/session is given (src/store/console-session-store.ts in the service). */
export interface SessionStoreLike {
  set(sessionId: string, session: unknown, callback: (err?: unknown) => void): void;
  // biome-ignore lint/suspicious/noExplicitAny: @fastify/session's store contract types the session it reads back as any
  get(sessionId: string, callback: (err: unknown, session?: any) => void): void;
  destroy(sessionId: string, callback: (err?: unknown) => void): void;
}

/** How the access-control hook recognises console users (see access-control.ts). */
export interface ConsoleAuth {
  /** Who the request is from: a trusted proxy's headers first, then the session cookie. */
  identify(req: FastifyRequest): ConsoleIdentity | { refused: string } | undefined;
  /** Whether a state-changing request carries the session's CSRF token (header `x-csrf-token`, or a form's `_csrf`). */
  csrfValid(req: FastifyRequest): boolean;
  /** The CSRF token to put in a page (makes the session's secret on first use). */
  csrfToken(req: FastifyRequest): string;
}

export const SESSION_COOKIE = 'remediator_session';

/**
 * Cookies, sessions and CSRF tokens for the console, on the root instance so the access-control hook sees the
 * session. Sessions live in Redis (`store`) and their cookie is signed with `secret`, the same on every replica, so
 * any replica serves anyone signed in. The cookie is HttpOnly and SameSite=Strict; state-changing requests made with
 * it must also carry the session's CSRF token. Bearer-token requests are judged by their token alone, and the routes
 * machines call (the webhook, providers' signed callbacks) get no session at all.
 */
export async function registerConsoleAuth(
  app: FastifyInstance,
  config: ConsoleConfig,
  store: SessionStoreLike,
  secret: string,
): Promise<ConsoleAuth> {
  await app.register(cookie);
  // The session plugin's hooks, run only where a session can matter (see machineRoute): registered on the root
  // through a view of it whose addHook wraps them, since the plugin itself has no way to skip routes.
  await new Promise<void>((resolve, reject) =>
    session(withoutMachineRoutes(app), sessionOptions(config, store, secret), (err?: Error) => (err ? reject(err) : resolve())),
  );
  if (config.secureCookie === 'auto') {
    app.addHook('onSend', async (req, reply) => {
      if (req.protocol !== 'https') return;
      const set = reply.getHeader('set-cookie');
      if (set === undefined) return;
      const secure = (c: string) => (c.startsWith(`${SESSION_COOKIE}=`) && !/;\s*secure/i.test(c) ? `${c}; Secure` : c);
      reply.header('set-cookie', Array.isArray(set) ? set.map(String).map(secure) : secure(String(set)));
    });
  }
  const tokens = Tokens();
  const trusted = proxyAddr.compile(config.proxy.trustedAddresses);
  const { userHeader, emailHeader, people } = config.proxy;

  const fromProxy = (req: FastifyRequest): ConsoleIdentity | { refused: string } | undefined => {
    if (config.proxy.trustedAddresses.length === 0) return undefined;
    const address = req.raw.socket.remoteAddress ?? '';
    if (!trusted(address, 0)) return undefined;
    const user = header(req, userHeader);
    const email = header(req, emailHeader);
    if (!user && !email) return undefined;
    const person = people.find(
      (p) =>
        (p.user !== undefined && p.user === user) ||
        (p.email !== undefined && email !== undefined && p.email.toLowerCase() === email.toLowerCase()),
    );
    if (!person) return { refused: `${user ?? email} is signed in at the proxy but not listed in console.proxy.people` };
    return { principal: user ?? email!, role: person.role, via: 'proxy' };
  };

  return {
    identify(req) {
      const proxied = fromProxy(req);
      if (proxied) return proxied;
      const s = req.session;
      if (s?.operator && s.role) return { principal: s.operator, role: s.role, via: 'session' };
      return undefined;
    },
    csrfValid(req) {
      const secret = req.session?.csrf;
      const body = req.body as { _csrf?: unknown } | undefined;
      const token = header(req, 'x-csrf-token') ?? (typeof body?._csrf === 'string' ? body._csrf : undefined);
      return Boolean(secret && token && tokens.verify(secret, token));
    },
    csrfToken(req) {
      if (!req.session.csrf) req.session.csrf = tokens.secretSync();
      return tokens.create(req.session.csrf);
    },
  };
}

/** @fastify/session's options: sessions in `store`, the cookie signed with `secret`. */
function sessionOptions(config: ConsoleConfig, store: SessionStoreLike, secret: string): FastifySessionOptions {
  return {
    secret,
    cookieName: SESSION_COOKIE,
    store,
    saveUninitialized: false,
    rolling: false,
    // Not the library's `secure: 'auto'`: over plain HTTP it lowers SameSite to Lax. `auto` is done below instead.
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: config.secureCookie === true,
      maxAge: parseDuration(config.sessionTtl),
    },
  };
}

/**
 * Routes that machines call (Alertmanager's webhook, providers' signed callbacks) never read a session: they are
 * authenticated by their own credentials before any session would be looked at (access-control.ts). Their requests
 * skip the session hooks, which would otherwise make, sign and hash an unused session for every alert delivery.
 */
function machineRoute(req: FastifyRequest): boolean {
  const role = req.routeOptions.config?.role;
  return role === 'webhook' || role === 'signed';
}

type SessionHook = (req: FastifyRequest, reply: FastifyReply, ...rest: unknown[]) => void;

/** `app` as the session plugin sees it: the same instance, with its hooks skipped for machineRoute requests. */
function withoutMachineRoutes(app: FastifyInstance): FastifyInstance {
  const addHook = (name: string, hook: SessionHook) => {
    const skipping =
      name === 'onSend'
        ? (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) =>
            machineRoute(req) ? done(null, payload) : hook(req, reply, payload, done)
        : (req: FastifyRequest, reply: FastifyReply, done: () => void) => (machineRoute(req) ? done() : hook(req, reply, done));
    return (app.addHook as (name: string, hook: unknown) => FastifyInstance)(name, skipping);
  };
  return new Proxy(app, {
    get(target, prop) {
      if (prop === 'addHook') return addHook;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() ? s.trim() : undefined;
}

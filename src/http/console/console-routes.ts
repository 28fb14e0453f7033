import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import { Type, type Static } from '@sinclair/typebox';
import type { AppDeps } from '../app-deps.ts';
import type { ConsoleAuth } from './console-auth.ts';
import { authenticateOperator } from '../auth.ts';
import { layout, type Viewer } from './layout.ts';
import { html } from './html.ts';
import { runsPage, WINDOWS, type RunsQuery } from './runs-page.ts';
import { runPage } from './run-page.ts';
import { playbooksPage, type BudgetRow } from './playbooks-page.ts';
import { guardSettings } from '../../guards/guards-config.ts';
import { budgetLimits } from '../../guards/budget-policy.ts';
import { targetKey } from '../../domain/target-ref.ts';
import { pausesPage } from './pauses-page.ts';
import { planPreview } from './plan-preview.ts';
import type { RunStatus } from '../../engine/run-state.ts';
import type { RunView } from '../../store/run-record.ts';
import { buildIncidentReport } from '../../runs/incident-report.ts';
import { renderTimelineMarkdown } from '../../escalation/render/timeline-markdown.ts';
import { RemediatorError } from '../../domain/errors.ts';
import { runEpisodeId } from '../../alerts/episode.ts';

const ASSETS = fileURLToPath(new URL('./assets/', import.meta.url));

/** Pages may load only this receiver's own scripts and styles, and may not be framed. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

const RunsQuerySchema = Type.Object(
  {
    status: Type.Optional(Type.String({ maxLength: 40 })),
    playbook: Type.Optional(Type.String({ maxLength: 253 })),
    target: Type.Optional(Type.String({ maxLength: 400 })),
    since: Type.Optional(Type.String({ maxLength: 10 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
const SignInBody = Type.Object(
  { token: Type.String({ maxLength: 1000 }), next: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
const CsrfBody = Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 200 })) });

/**
 * A sign-in or sign-out form posted from another site (the browser names it in `Origin`) is refused: no one can be
 * signed in as someone else, or out, by a page elsewhere.
 */
function foreignOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/** Only a path on this receiver (`/…`, never `//host`) is followed after sign-in. */
function localPath(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) ? next : '/';
}

/**
 * The web console: server-rendered pages at `/`, `/runs/:id`, `/playbooks` and `/pauses`, the sign-in and sign-out
 * forms, its static scripts, the live-update stream (`/console/events`) and the plan preview. Pages read the same
 * store and catalog as the JSON API; every action the pages offer is a request to the JSON API itself (with the
 * session cookie and the CSRF token), so roles and records are the API's.
 */
export async function consoleRoutes(app: FastifyInstance, deps: AppDeps, auth: ConsoleAuth): Promise<void> {
  await app.register(formbody);
  await app.register(fastifyStatic, { root: ASSETS, serve: false });
  const streams = new Set<ServerResponse>();
  // Open event streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => {
    for (const s of streams) s.end();
  });

  const viewer = (req: FastifyRequest): Viewer => {
    const who = auth.identify(req);
    const via = who && !('refused' in who) && req.headers.authorization === undefined ? who.via : 'token';
    return { name: req.operator, role: req.operatorRole, via, csrf: auth.csrfToken(req) };
  };
  const page = (reply: FastifyReply, status: number, text: string) =>
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('cache-control', 'no-store')
      .send(text);
  const pageConfig = { role: 'viewer' as const, page: true };

  app.get<{ Params: { file: string } }>(
    '/console/assets/:file',
    {
      schema: { hide: true, params: Type.Object({ file: Type.String({ pattern: '^[a-z0-9-]+\\.(js|css)$' }) }) },
      config: { role: 'public' },
    },
    (req, reply) => reply.sendFile(req.params.file),
  );

  app.get<{ Querystring: { next?: string; error?: string } }>(
    '/sign-in',
    { schema: { hide: true }, config: { role: 'public' } },
    async (req, reply) => {
      const who = auth.identify(req);
      if (who && !('refused' in who)) return reply.redirect(localPath(req.query.next), 303);
      return page(reply, 200, signInPage(req.query.next, undefined));
    },
  );

  app.post<{ Body: Static<typeof SignInBody> }>(
    '/sign-in',
    { schema: { hide: true, body: SignInBody }, config: { role: 'public' } },
    async (req, reply) => {
      if (foreignOrigin(req)) throw new RemediatorError('REM_ERR_CSRF', "sign-in is accepted only from this receiver's own page");
      const result = authenticateOperator(
        `Bearer ${req.body.token.trim()}`,
        deps.config.auth.operators,
        deps.config.auth.webhook.bearerTokens,
      );
      if (!result.ok) {
        req.log.warn({ reason: result.reason }, 'console sign-in refused');
        return page(
          reply,
          401,
          signInPage(
            req.body.next,
            result.forbidden ? 'That is a webhook token; sign in with an operator token.' : 'That token is not accepted.',
          ),
        );
      }
      // A new session id at sign-in: a session id planted before cannot be carried into the signed-in session.
      await req.session.regenerate();
      req.session.operator = result.principal;
      req.session.role = result.role;
      req.log.info({ operator: result.principal, role: result.role }, 'console sign-in');
      return reply.redirect(localPath(req.body.next), 303);
    },
  );

  app.post<{ Body: Static<typeof CsrfBody> }>(
    '/sign-out',
    { schema: { hide: true, body: CsrfBody }, config: { role: 'public' } },
    async (req, reply) => {
      // Only a signed-in session has something to end; ending it needs the page's CSRF token (no forced sign-out).
      if (foreignOrigin(req)) throw new RemediatorError('REM_ERR_CSRF', "sign-out is accepted only from this receiver's own page");
      if (req.session.operator) {
        if (!auth.csrfValid(req)) throw new RemediatorError('REM_ERR_CSRF', 'sign-out needs the CSRF token of the page it was sent from');
        req.log.info({ operator: req.session.operator }, 'console sign-out');
        await req.session.destroy();
      }
      return reply.redirect('/sign-in', 303);
    },
  );

  app.get<{ Querystring: Static<typeof RunsQuerySchema> }>(
    '/',
    { schema: { hide: true, querystring: RunsQuerySchema }, config: pageConfig },
    async (req, reply) => {
      const q: RunsQuery = req.query;
      const windowMs = WINDOWS[q.since ?? '']?.ms;
      const since = windowMs === undefined ? undefined : deps.clock.now() - windowMs;
      const status = q.status && q.status !== '' ? (q.status as RunStatus) : undefined;
      const [list, counts] = await Promise.all([
        deps.store.listRuns({
          limit: 50,
          ...(status ? { status } : {}),
          ...(q.playbook ? { playbook: q.playbook } : {}),
          ...(q.target ? { target: q.target } : {}),
          ...(since === undefined ? {} : { since }),
          ...(q.cursor ? { cursor: q.cursor } : {}),
        }),
        deps.store.countRuns(since === undefined ? {} : { since }),
      ]);
      const body = runsPage({
        q,
        runs: list.runs,
        ...(list.next ? { next: list.next } : {}),
        counts,
        playbooks: deps.catalog.list().map((p) => p.name),
      });
      return page(reply, 200, layout({ title: 'Runs', viewer: viewer(req), current: '/', body, live: 'runs' }));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/runs/:id',
    { schema: { hide: true, params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }) }) }, config: pageConfig },
    async (req, reply) => {
      const run = await deps.store.getRun(req.params.id);
      const v = viewer(req);
      if (!run)
        return page(
          reply,
          404,
          layout({ title: 'No such run', viewer: v, body: html`<h1>No run ${req.params.id}</h1><p><a href="/">All runs</a></p>` }),
        );
      const report = deps.incidentReport ? deps.incidentReport(run) : buildIncidentReport(run, { level: 'P2' });
      const links = {
        prometheus: deps.config.console.prometheusLink ?? deps.config.prometheus.url,
        alertmanager: deps.config.console.alertmanagerLink ?? deps.config.alertmanager.url,
      };
      const pb = deps.catalog.get(run.playbook);
      const ladder = pb?.rungs.map((r) => ({ name: r.name, steps: r.steps.map((s) => ({ id: s.id, uses: s.uses, kind: s.kind })) }));
      const deliveries = deps.deliveries ? await deps.deliveries(runEpisodeId(run)) : undefined;
      const body = runPage({
        run,
        role: v.role,
        ...(deliveries ? { deliveries } : {}),
        links: withoutUndefined(links),
        timeline: renderTimelineMarkdown(report),
        now: deps.clock.now(),
        ...(ladder ? { ladder } : {}),
      });
      return page(reply, 200, layout({ title: `Run ${run.id}`, viewer: v, current: '/', body, live: `run:${run.id}` }));
    },
  );

  app.get('/playbooks', { schema: { hide: true }, config: pageConfig }, async (req, reply) => {
    const playbooks = deps.catalog.list();
    const lastRuns = new Map<string, RunView[]>();
    const budgets = new Map<string, BudgetRow[]>();
    const defaults = guardSettings(deps.config.guards).budget;
    const now = deps.clock.now();
    await Promise.all(
      playbooks.map(async (p) => {
        const recent = (await deps.store.listRuns({ playbook: p.name, limit: 20 })).runs;
        lastRuns.set(p.name, recent.slice(0, 5));
        // The budget of each target the playbook acted on lately: runs counted in the window, of how many allowed.
        const limits = budgetLimits(defaults, p.budget);
        const targets = [...new Set(recent.flatMap((r) => (r.target ? [targetKey(r.target)] : [])))];
        budgets.set(
          p.name,
          await Promise.all(
            targets.map(async (target) => ({ target, used: await deps.store.budgetUsed(p.name, target, now - limits.windowMs), limits })),
          ),
        );
      }),
    );
    const v = viewer(req);
    const body = playbooksPage({
      playbooks,
      generation: deps.catalog.generation,
      problems: deps.catalog.lastProblems,
      lastRuns,
      budgets,
      role: v.role,
    });
    return page(reply, 200, layout({ title: 'Playbooks', viewer: v, current: '/playbooks', body }));
  });

  app.get('/pauses', { schema: { hide: true }, config: pageConfig }, async (req, reply) => {
    const v = viewer(req);
    if (!deps.pauses)
      return page(
        reply,
        200,
        layout({
          title: 'Pauses',
          viewer: v,
          current: '/pauses',
          body: html`<h1>Pauses</h1><p>Pauses are not available on this receiver.</p>`,
        }),
      );
    const [active, history] = await Promise.all([deps.pauses.active(deps.clock.now()), deps.pauses.history(30)]);
    return page(
      reply,
      200,
      layout({
        title: 'Pauses',
        viewer: v,
        current: '/pauses',
        body: pausesPage({ pauses: active, history, role: v.role }),
        live: 'pauses',
      }),
    );
  });

  app.get<{ Querystring: { labels?: string } }>(
    '/console/preview',
    {
      schema: { hide: true, querystring: Type.Object({ labels: Type.Optional(Type.String({ maxLength: 10_000 })) }) },
      config: { role: 'viewer' },
    },
    async (req) => planPreview(deps.catalog, req.query.labels ?? '', deps.clock.now()),
  );

  app.get('/console/events', { schema: { hide: true }, config: { role: 'viewer' } }, async (req, reply) => {
    const events = deps.runEvents;
    if (!events) throw new RemediatorError('REM_ERR_NOT_FOUND', 'live updates are not available on this receiver');
    const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' };
    if (req.method === 'HEAD') return reply.headers(headers).send();
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { ...headers, connection: 'keep-alive' });
    raw.write('retry: 2000\n\n');
    streams.add(raw);
    // A comment now and then keeps proxies from closing an idle stream.
    const ping = setInterval(() => raw.write(': ping\n\n'), 15_000);
    let ended = false;
    let unsubscribe = () => {};
    const done = () => {
      if (ended) return;
      ended = true;
      clearInterval(ping);
      unsubscribe();
      streams.delete(raw);
    };
    // Listened for before subscribing: a browser that leaves at once must not leave the ping behind.
    req.raw.on('close', done);
    raw.on('close', done);
    const off = await events.subscribe((e) => raw.write(`event: run\ndata: ${JSON.stringify(e)}\n\n`));
    if (ended) off();
    else unsubscribe = off;
  });
}

function withoutUndefined<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

function signInPage(next: string | undefined, error: string | undefined): string {
  const body = html`<h1>Sign in</h1>
<p>Sign in with your operator token (the one you use as <code>Authorization: Bearer</code> with the API).</p>
${error ? html`<p class="error" role="alert" data-testid="sign-in-error">${error}</p>` : ''}
<form method="post" action="/sign-in" class="sign-in">
  <input type="hidden" name="next" value="${localPath(next)}">
  <label for="token">Operator token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>`;
  return layout({ title: 'Sign in', body });
}

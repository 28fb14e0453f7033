import t from 'tap';
import Fastify from 'fastify';
import { startTestService, fixture, WEBHOOK_TOKEN } from '../support/harness.ts';
import { accessControl, type RouteAccess } from '../../src/http/access-control.ts';
import { OPERATOR_ROLES, roleAllows, type OperatorRole } from '../../src/http/operator-roles.ts';
import { defaultConfig } from '../../src/config/load-config.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { AppDeps } from '../../src/http/app-deps.ts';

// Every registered route, called by every kind of caller: nobody, Alertmanager, and one operator of each role.
// A caller whose role includes the route's gets the route's normal answer; anyone else a 403 (401 without a token).

const TOKENS: Record<OperatorRole, string> = {
  viewer: 'route-test-viewer-token-0001',
  operator: 'route-test-operator-token-02',
  approver: 'route-test-approver-token-3',
  admin: 'route-test-admin-token-00004',
};
const NAMES: Record<OperatorRole, string> = { viewer: 'vera', operator: 'otto', approver: 'april', admin: 'adam' };

const quick = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: quick }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  steps:
    - { id: note, action: log, with: { message: "hello" } }
`;
const slow = quick
  .replace('name: quick', 'name: slow')
  .replace('    - { id: note', '    - { id: hold, action: wait, with: { duration: 5m } }\n    - { id: note');
const approval = quick
  .replace('name: quick', 'name: needs-approval')
  .replace('with: { message: "hello" } }', 'with: { message: "risky" }, approval: { timeout: 10m } }');

const svc = await startTestService({
  playbooks: { 'quick.yaml': quick, 'slow.yaml': slow, 'approval.yaml': approval },
  overrides: (c) => {
    // Beside the harness's own operators (its waitForRun polls as one of them).
    c.auth.operators.push(...OPERATOR_ROLES.map((role) => ({ name: NAMES[role], token: TOKENS[role], role })));
  },
});

type Caller = 'nobody' | 'alertmanager' | OperatorRole;
const CALLERS: Caller[] = ['nobody', 'alertmanager', ...OPERATOR_ROLES];

async function call(caller: Caller, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const token = caller === 'nobody' ? undefined : caller === 'alertmanager' ? WEBHOOK_TOKEN : TOKENS[caller];
  const res = await fetch(svc.url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A console page answers someone not signed in with a redirect to the sign-in page: seen as such.
    redirect: 'manual',
  });
  // The live-update stream stays open: its answer is its status.
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, body: '' };
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** A run started by hand by the operator-role user, once it satisfies `until`. */
async function startRun(playbook: string, until: (r: any) => boolean): Promise<string> {
  const res = await call('operator', 'POST', `/v1/playbooks/${playbook}/runs`, { reason: 'route table' });
  if (res.status !== 202) throw new Error(`could not start ${playbook}: ${res.status} ${JSON.stringify(res.body)}`);
  await svc.waitForRun(res.body.id, until);
  return res.body.id;
}

const finished = await startRun('quick', (r) => r.status === 'completed');
let pauseCount = 0;
const pausePlaybook = async () => {
  const value = `paused-${++pauseCount}`;
  const res = await call('admin', 'POST', '/v1/pause', { scope: 'playbook', value, reason: 'route table' });
  if (res.status !== 201) throw new Error(`could not set a pause: ${res.status}`);
  return value;
};

interface Sample {
  path: string;
  body?: unknown;
  /** The route's normal answer to a caller allowed in. */
  status: number;
  /** A run whose status a refused call must leave as it was. */
  untouched?: string;
}

/** One request per route that gets its normal answer; state a call consumes is made fresh for each call. */
const SAMPLES: Record<string, { role: RouteAccess; sample: () => Promise<Sample> }> = {
  'GET /healthz': { role: 'public', sample: async () => ({ path: '/healthz', status: 200 }) },
  'GET /readyz': { role: 'public', sample: async () => ({ path: '/readyz', status: 200 }) },
  'GET /metrics': { role: 'public', sample: async () => ({ path: '/metrics', status: 200 }) },
  'GET /openapi.json': { role: 'public', sample: async () => ({ path: '/openapi.json', status: 200 }) },
  'POST /v1/alertmanager': {
    role: 'webhook',
    sample: async () => ({ path: '/v1/alertmanager', body: await fixture('alertmanager/firing.json'), status: 202 }),
  },
  'GET /v1/playbooks': { role: 'viewer', sample: async () => ({ path: '/v1/playbooks', status: 200 }) },
  'GET /v1/playbooks/:name': { role: 'viewer', sample: async () => ({ path: '/v1/playbooks/quick', status: 200 }) },
  'POST /v1/playbooks/:name/runs': {
    role: 'operator',
    sample: async () => ({ path: '/v1/playbooks/quick/runs', body: { reason: 'by hand' }, status: 202 }),
  },
  'GET /v1/runs': { role: 'viewer', sample: async () => ({ path: '/v1/runs', status: 200 }) },
  'GET /v1/runs/counts': { role: 'viewer', sample: async () => ({ path: '/v1/runs/counts?since=2026-01-01T00:00:00Z', status: 200 }) },
  'GET /v1/runs/:id': { role: 'viewer', sample: async () => ({ path: `/v1/runs/${finished}`, status: 200 }) },
  'GET /v1/runs/:id/timeline': { role: 'viewer', sample: async () => ({ path: `/v1/runs/${finished}/timeline`, status: 200 }) },
  'GET /v1/runs/:id/deliveries': { role: 'viewer', sample: async () => ({ path: `/v1/runs/${finished}/deliveries`, status: 200 }) },
  'GET /v1/incidents/:episode/report': { role: 'viewer', sample: async () => ({ path: `/v1/incidents/${finished}/report`, status: 200 }) },
  'POST /v1/runs/:id/retry': {
    role: 'operator',
    sample: async () => ({ path: `/v1/runs/${finished}/retry`, body: { reason: 'again' }, status: 202 }),
  },
  'POST /v1/runs/:id/cancel': {
    role: 'operator',
    sample: async () => {
      const id = await startRun('slow', (r) => r.status === 'waiting');
      return { path: `/v1/runs/${id}/cancel`, body: { reason: 'enough' }, status: 202, untouched: id };
    },
  },
  'POST /v1/runs/:id/approve': {
    role: 'approver',
    sample: async () => {
      const id = await startRun('needs-approval', (r) => r.status === 'awaiting_approval');
      return { path: `/v1/runs/${id}/approve`, body: { reason: 'looks right' }, status: 202, untouched: id };
    },
  },
  'POST /v1/runs/:id/reject': {
    role: 'approver',
    sample: async () => {
      const id = await startRun('needs-approval', (r) => r.status === 'awaiting_approval');
      return { path: `/v1/runs/${id}/reject`, body: { reason: 'not now' }, status: 202, untouched: id };
    },
  },
  // The quick run changed nothing: its revert plan is empty (a revert itself is 409, nothing to put back).
  'POST /v1/runs/:id/revert': {
    role: 'approver',
    sample: async () => ({ path: `/v1/runs/${finished}/revert?dryRun=true`, body: { reason: 'show the plan' }, status: 200 }),
  },
  'GET /v1/pause': { role: 'viewer', sample: async () => ({ path: '/v1/pause', status: 200 }) },
  'POST /v1/pause': {
    role: 'admin',
    sample: async () => ({
      path: '/v1/pause',
      body: { scope: 'playbook', value: `set-${++pauseCount}`, reason: 'route table' },
      status: 201,
    }),
  },
  'DELETE /v1/pause': {
    role: 'admin',
    sample: async () => ({
      path: '/v1/pause',
      body: { scope: 'playbook', value: await pausePlaybook(), reason: 'route table' },
      status: 200,
    }),
  },
  'POST /v1/reload': { role: 'admin', sample: async () => ({ path: '/v1/reload', status: 200 }) },
  // The console: its pages send someone not signed in to the sign-in page (303); the rest answer like the API.
  'GET /console/assets/:file': { role: 'public', sample: async () => ({ path: '/console/assets/console.js', status: 200 }) },
  'GET /sign-in': { role: 'public', sample: async () => ({ path: '/sign-in', status: 200 }) },
  'POST /sign-in': { role: 'public', sample: async () => ({ path: '/sign-in', body: { token: TOKENS.viewer }, status: 303 }) },
  'POST /sign-out': { role: 'public', sample: async () => ({ path: '/sign-out', body: {}, status: 303 }) },
  'GET /': { role: 'viewer', sample: async () => ({ path: '/', status: 200 }) },
  'GET /runs/:id': { role: 'viewer', sample: async () => ({ path: `/runs/${finished}`, status: 200 }) },
  'GET /playbooks': { role: 'viewer', sample: async () => ({ path: '/playbooks', status: 200 }) },
  'GET /pauses': { role: 'viewer', sample: async () => ({ path: '/pauses', status: 200 }) },
  'GET /console/preview': { role: 'viewer', sample: async () => ({ path: '/console/preview?labels=alertname%3DNever', status: 200 }) },
  'GET /console/events': { role: 'viewer', sample: async () => ({ path: '/console/events', status: 200 }) },
};

const PAGES = new Set(['/', '/runs/:id', '/playbooks', '/pauses']);

/** What a caller must get from a route that needs `role`, given the route's normal answer. */
function expected(role: RouteAccess, caller: Caller, normal: number, url: string): number {
  if (role === 'public') return normal;
  // Signed by a provider (Slack): no bearer token of any kind is a signature (test/escalation/slack-app.test.ts).
  if (role === 'signed') return 401;
  if (caller === 'nobody') return PAGES.has(url) ? 303 : 401;
  if (role === 'webhook') return caller === 'alertmanager' ? normal : 403;
  if (caller === 'alertmanager') return 403;
  return roleAllows(caller, role) ? normal : 403;
}

/** Why a 403: the other audience's token, or a role too low (named, with the operator's own). */
function refusal(route: { method: string; url: string; role: RouteAccess }, caller: Caller): string {
  if (caller === 'alertmanager') return 'webhook tokens are not accepted by the operator API';
  if (route.role === 'webhook') return 'operator tokens are not accepted by the webhook';
  return `${route.method} ${route.url} needs the ${route.role} role; ${NAMES[caller as OperatorRole]} has ${caller}`;
}

const routes = svc.service.app!.routeAccess;

t.test('every registered route is in the table, with the role the table expects', async (t) => {
  const registered = routes.map((r) => `${r.method} ${r.url}`);
  // HEAD routes are Fastify's copies of GET routes and carry the GET route's role.
  const own = routes.filter((r) => r.method !== 'HEAD');
  t.same(own.map((r) => `${r.method} ${r.url}`).sort(), Object.keys(SAMPLES).sort(), 'a new route needs a row here');
  for (const r of own) t.equal(r.role, SAMPLES[`${r.method} ${r.url}`]?.role, `${r.method} ${r.url} needs ${r.role}`);
  for (const r of routes.filter((r) => r.method === 'HEAD')) t.equal(r.role, SAMPLES[`GET ${r.url}`]?.role, `HEAD ${r.url} as its GET`);
  t.ok(registered.length > Object.keys(SAMPLES).length, 'the HEAD copies are enumerated too');
});

t.test('every route against every caller', async (t) => {
  for (const route of routes) {
    const row = SAMPLES[`${route.method === 'HEAD' ? 'GET' : route.method} ${route.url}`];
    if (!row) continue; // the test above fails for it
    for (const caller of CALLERS) {
      const sample = await row.sample();
      const before = sample.untouched ? (await call('admin', 'GET', `/v1/runs/${sample.untouched}`)).body.status : undefined;
      const res = await call(caller, route.method, sample.path, sample.body);
      const want = expected(route.role, caller, sample.status, route.url);
      const label = `${route.method} ${route.url} (${route.role}) as ${caller}: ${want}`;
      t.equal(res.status, want, label, { got: res.body });
      if (route.method === 'HEAD' || want < 400) continue;
      t.equal(res.body.code, want === 401 ? 'REM_ERR_UNAUTHORIZED' : 'REM_ERR_FORBIDDEN', `${label}, with its code`);
      if (want === 403) t.equal(res.body.message, refusal(route, caller), `${label}, saying why`);
      if (sample.untouched)
        t.equal((await call('admin', 'GET', `/v1/runs/${sample.untouched}`)).body.status, before, `${label}: the run is left as it was`);
    }
  }
});

t.test('a route that declares no role cannot be registered', async (t) => {
  const app = Fastify({ loggerInstance: silentLogger() });
  accessControl(app as never, { config: defaultConfig(), metrics: new Metrics() } as AppDeps);
  app.get('/declared', { config: { role: 'viewer' } }, async () => ({}));
  t.throws(() => app.get('/forgotten', async () => ({})), /route GET \/forgotten declares no role/);
  await app.close();
});

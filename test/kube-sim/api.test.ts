import t from 'tap';
import { addDeployment, startKubeSim } from '../../src/sim/index.ts';

// The REST contract over plain HTTP: Status errors, concurrency, patch types, dryRun, selectors, RBAC, faults, watch.
const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 20, logRequests: true });
t.teardown(() => sim.close());
await sim.settle();

const NS = '/api/v1/namespaces/ai-ninja';
const APPS = '/apis/apps/v1/namespaces/ai-ninja';

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${sim.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text/plain answers (logs) stay strings
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

t.test('a missing object is the exact NotFound Status of the real server', async (t) => {
  const r = await call('GET', `${APPS}/deployments/missing`);
  t.equal(r.status, 404);
  t.same(r.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'deployments.apps "missing" not found',
    reason: 'NotFound',
    details: { name: 'missing', group: 'apps', kind: 'deployments' },
    code: 404,
  });
  const pod = await call('GET', `${NS}/pods/nope`);
  t.equal(pod.body.message, 'pods "nope" not found');
  t.same(pod.body.details, { name: 'nope', kind: 'pods' }, 'core-group details carry no group');
});

t.test('a wrong or missing bearer token is 401', async (t) => {
  const wrong = await fetch(`${sim.url}${APPS}/deployments`, { headers: { Authorization: 'Bearer nope' } });
  t.equal(wrong.status, 401);
  t.match(await wrong.json(), { kind: 'Status', reason: 'Unauthorized', code: 401 });
  const missing = await fetch(`${sim.url}/api/v1`);
  t.equal(missing.status, 401);
});

t.test('discovery publishes what kubectl needs', async (t) => {
  const apps = await call('GET', '/apis/apps/v1');
  const scale = apps.body.resources.find((r: any) => r.name === 'deployments/scale');
  t.match(scale, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  t.ok(apps.body.resources.find((r: any) => r.name === 'deployments')?.shortNames.includes('deploy'));
  const groups = await call('GET', '/apis', undefined, {
    Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
  });
  t.equal(groups.headers.get('content-type'), 'application/json', 'answers plain discovery and says so');
  t.same(
    groups.body.groups.map((g: any) => g.name),
    [
      'apps',
      'authorization.k8s.io',
      'discovery.k8s.io',
      'networking.k8s.io',
      'metrics.k8s.io',
      'argoproj.io',
      'kustomize.toolkit.fluxcd.io',
      'helm.toolkit.fluxcd.io',
    ],
  );
  const index = await call('GET', '/openapi/v3');
  t.match(
    index.body.paths['apis/apps/v1'],
    { serverRelativeURL: /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/ },
    'OpenAPI v3 lists each group/version',
  );
  const ns = await call('GET', '/api/v1/namespaces/ai-ninja');
  t.match(ns.body, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'ai-ninja' }, status: { phase: 'Active' } });
  t.ok((await call('GET', '/api/v1/namespaces')).body.items.some((n: any) => n.metadata.name === 'default'));
});

t.test('a write with a stale resourceVersion is a 409 Conflict with the real wording', async (t) => {
  const d = (await call('GET', `${APPS}/deployments/profile-analytics`)).body;
  const ok = await call('PUT', `${APPS}/deployments/profile-analytics`, {
    ...d,
    metadata: { ...d.metadata, labels: { ...d.metadata.labels, tier: 'web' } },
  });
  t.equal(ok.status, 200);
  t.not(ok.body.metadata.resourceVersion, d.metadata.resourceVersion, 'a write moves the resourceVersion');
  t.equal(ok.body.metadata.generation, d.metadata.generation, 'metadata-only writes keep the generation');
  const stale = await call('PUT', `${APPS}/deployments/profile-analytics`, d);
  t.equal(stale.status, 409);
  t.match(stale.body, {
    reason: 'Conflict',
    message:
      'Operation cannot be fulfilled on deployments.apps "profile-analytics": the object has been modified; please apply your changes to the latest version and try again',
    details: { name: 'profile-analytics', group: 'apps', kind: 'deployments' },
  });
  const noRv = await call('PUT', `${APPS}/deployments/profile-analytics`, {
    ...d,
    metadata: { ...d.metadata, resourceVersion: undefined },
  });
  t.equal(noRv.status, 422, 'Deployments refuse unconditional updates');

  const scale = (await call('GET', `${APPS}/deployments/profile-analytics/scale`)).body;
  t.match(scale, {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    spec: { replicas: 2 },
    status: { replicas: 2, selector: 'app=profile-analytics' },
  });
  const staleScale = await call('PUT', `${APPS}/deployments/profile-analytics/scale`, {
    ...scale,
    metadata: { ...scale.metadata, resourceVersion: d.metadata.resourceVersion },
    spec: { replicas: 4 },
  });
  t.equal(staleScale.status, 409);
  t.equal(sim.get('Deployment', 'ai-ninja', 'profile-analytics').spec.replicas, 2);
});

t.test('deleting a pod with stale preconditions is refused; the controller replaces a deleted pod', async (t) => {
  const pod = sim.list('Pod', 'ai-ninja').find((p) => p.metadata.labels.app === 'phone-gateway');
  const badUid = await call('DELETE', `${NS}/pods/${pod.metadata.name}`, { preconditions: { uid: 'not-the-uid' } });
  t.equal(badUid.status, 409);
  t.equal(
    badUid.body.message,
    `Operation cannot be fulfilled on pods "${pod.metadata.name}": Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${pod.metadata.uid}`,
  );
  const badRv = await call('DELETE', `${NS}/pods/${pod.metadata.name}`, { preconditions: { resourceVersion: '1' } });
  t.equal(badRv.status, 409);
  t.match(badRv.body.message, 'Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ');
  t.ok(sim.get('Pod', 'ai-ninja', pod.metadata.name), 'still there');

  const ok = await call('DELETE', `${NS}/pods/${pod.metadata.name}`, {
    propagationPolicy: 'Background',
    preconditions: { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
  });
  t.equal(ok.status, 200);
  t.equal(ok.body.kind, 'Pod');
  t.ok(ok.body.metadata.deletionTimestamp);
  await sim.settle();
  const pods = sim.list('Pod', 'ai-ninja').filter((p) => p.metadata.labels.app === 'phone-gateway');
  t.equal(pods.length, 2, 'the ReplicaSet made a new pod');
  t.notOk(pods.some((p) => p.metadata.uid === pod.metadata.uid));
  t.ok(pods.every((p) => p.status.phase === 'Running'));
});

t.test('PATCH content types: 415 for unknown, 400 for an object sent as JSON Patch, 422 for a failed test op', async (t) => {
  const path = `${APPS}/deployments/phone-gateway`;
  const wrong = await call('PATCH', path, { spec: { replicas: 3 } }, { 'Content-Type': 'application/json' });
  t.equal(wrong.status, 415);
  t.equal(wrong.body.reason, 'UnsupportedMediaType');
  const asJsonPatch = await call('PATCH', path, { spec: { replicas: 3 } }, { 'Content-Type': 'application/json-patch+json' });
  t.equal(asJsonPatch.status, 400);
  t.same(asJsonPatch.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp',
    reason: 'BadRequest',
    code: 400,
  });
  const failedTest = await call(
    'PATCH',
    path,
    [
      { op: 'test', path: '/metadata/resourceVersion', value: '1' },
      { op: 'replace', path: '/spec/replicas', value: 3 },
    ],
    { 'Content-Type': 'application/json-patch+json' },
  );
  t.equal(failedTest.status, 422);
  t.same(failedTest.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server rejected our request due to an error in our request',
    reason: 'Invalid',
    details: {},
    code: 422,
  });
  t.equal(sim.get('Deployment', 'ai-ninja', 'phone-gateway').spec.replicas, 2, 'nothing changed');

  const rv = sim.get('Service', 'ai-ninja', 'phone-gateway').metadata.resourceVersion;
  const guarded = await call(
    'PATCH',
    `${NS}/services/phone-gateway`,
    [
      { op: 'test', path: '/metadata/resourceVersion', value: rv },
      { op: 'replace', path: '/spec/selector', value: { app: 'phone-gateway-backup' } },
    ],
    { 'Content-Type': 'application/json-patch+json' },
  );
  t.equal(guarded.status, 200);
  t.same(guarded.body.spec.selector, { app: 'phone-gateway-backup' });
});

t.test('strategic merge patch merges containers and env by name and deletes with null', async (t) => {
  addDeployment(sim, { namespace: 'ai-ninja', name: 'smp', image: 'smp:1', env: { A: '1', B: '2' }, labels: { app: 'smp', keep: 'yes' } });
  const r = await call(
    'PATCH',
    `${APPS}/deployments/smp?fieldManager=test`,
    {
      metadata: { labels: { keep: null, added: 'x' } },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'smp',
                env: [
                  { name: 'B', value: '3' },
                  { name: 'C', value: '4' },
                ],
              },
            ],
          },
        },
      },
    },
    { 'Content-Type': 'application/strategic-merge-patch+json' },
  );
  t.equal(r.status, 200);
  t.same(r.body.metadata.labels, { app: 'smp', added: 'x' });
  const c = r.body.spec.template.spec.containers;
  t.equal(c.length, 1);
  t.equal(c[0].image, 'smp:1', 'unmentioned container fields stay');
  t.same(c[0].env, [
    { name: 'A', value: '1' },
    { name: 'B', value: '3' },
    { name: 'C', value: '4' },
  ]);
  t.equal(r.body.metadata.generation, 2, 'a spec change bumps the generation');

  const merge = await call(
    'PATCH',
    `${APPS}/deployments/smp`,
    { spec: { template: { spec: { containers: [{ name: 'other', image: 'o:1' }] } } } },
    { 'Content-Type': 'application/merge-patch+json' },
  );
  t.same(
    merge.body.spec.template.spec.containers.map((x: any) => x.name),
    ['other'],
    'a JSON merge patch replaces lists',
  );

  const bad = await call(
    'PATCH',
    `${APPS}/deployments/smp`,
    { spec: { replicas: -1 } },
    { 'Content-Type': 'application/merge-patch+json' },
  );
  t.equal(bad.status, 422);
  t.equal(bad.body.message, 'Deployment.apps "smp" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
});

t.test('create validates names and refuses duplicates', async (t) => {
  const bad = await call('POST', `${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' }, data: {} });
  t.equal(bad.status, 422);
  t.match(bad.body.message, /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  const dup = await call('POST', `${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: {} });
  t.equal(dup.status, 409);
  t.equal(dup.body.reason, 'AlreadyExists');
  t.equal(dup.body.message, 'configmaps "app-config" already exists');
});

t.test('dryRun=All validates and answers without changing anything', async (t) => {
  const before = sim.get('ConfigMap', 'ai-ninja', 'app-config');
  const r = await call(
    'PATCH',
    `${NS}/configmaps/app-config?dryRun=All`,
    { data: { DEGRADED_MODE: 'true' } },
    { 'Content-Type': 'application/merge-patch+json' },
  );
  t.equal(r.status, 200);
  t.equal(r.body.data.DEGRADED_MODE, 'true', 'answers the would-be object');
  t.same(sim.get('ConfigMap', 'ai-ninja', 'app-config'), before, 'stored object untouched');
  const scale = await call(
    'PATCH',
    `${APPS}/deployments/phone-gateway/scale?dryRun=All`,
    { spec: { replicas: 7 } },
    { 'Content-Type': 'application/merge-patch+json' },
  );
  t.equal(scale.body.spec.replicas, 7);
  t.equal(sim.get('Deployment', 'ai-ninja', 'phone-gateway').spec.replicas, 2);
  const del = await call('DELETE', `${NS}/services/phone-gateway?dryRun=All`);
  t.equal(del.status, 200);
  t.ok(sim.get('Service', 'ai-ninja', 'phone-gateway'));
});

t.test('server-side apply creates and updates ConfigMaps and NetworkPolicies', async (t) => {
  const yaml =
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n';
  const noManager = await call('PATCH', '/apis/networking.k8s.io/v1/namespaces/ai-ninja/networkpolicies/deny-all', yaml, {
    'Content-Type': 'application/apply-patch+yaml',
  });
  t.equal(noManager.status, 422, 'fieldManager is required for apply');
  const created = await call(
    'PATCH',
    '/apis/networking.k8s.io/v1/namespaces/ai-ninja/networkpolicies/deny-all?fieldManager=remediator&force=true',
    yaml,
    { 'Content-Type': 'application/apply-patch+yaml' },
  );
  t.equal(created.status, 201);
  t.match(created.body, {
    kind: 'NetworkPolicy',
    metadata: { name: 'deny-all', namespace: 'ai-ninja' },
    spec: { policyTypes: ['Ingress'] },
  });
  const cm = await call(
    'PATCH',
    `${NS}/configmaps/app-config?fieldManager=remediator`,
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { DEGRADED_MODE: 'true' } }),
    { 'Content-Type': 'application/apply-patch+yaml' },
  );
  t.equal(cm.status, 200);
  t.equal(cm.body.data.DEGRADED_MODE, 'true');
  t.equal(cm.body.data.LOG_LEVEL, 'info', 'other keys kept');
});

t.test('label and field selectors filter lists', async (t) => {
  const q = async (qs: string) => (await call('GET', `${APPS}/deployments?${qs}`)).body.items.map((d: any) => d.metadata.name).sort();
  t.same(await q('labelSelector=app%3Dphone-gateway'), ['phone-gateway']);
  t.same(await q('labelSelector=app%20in%20(phone-gateway,realtime-processor)'), ['phone-gateway', 'realtime-processor']);
  t.same(await q('labelSelector=app%20notin%20(phone-gateway),app!%3Dsmp,app'), [
    'conversation-engine',
    'phone-gateway-backup',
    'profile-analytics',
    'realtime-processor',
  ]);
  t.same(await q('labelSelector=!app'), []);
  t.same(await q('fieldSelector=metadata.name%3Dprofile-analytics&limit=1'), ['profile-analytics']);
  const events = (await call('GET', `${NS}/events?fieldSelector=involvedObject.name%3Dphone-gateway,involvedObject.kind%3DDeployment`)).body
    .items;
  t.ok(events.length > 0);
  t.ok(events.every((e: any) => e.involvedObject.name === 'phone-gateway' && e.involvedObject.kind === 'Deployment'));
  t.ok(events.some((e: any) => e.reason === 'ScalingReplicaSet'));
});

t.test('RBAC denials are 403 and SelfSubjectAccessReview agrees', async (t) => {
  sim.denyAccess({ verb: 'patch', resource: 'deployments', subresource: 'scale', group: 'apps', namespace: 'ai-ninja' });
  const r = await call(
    'PATCH',
    `${APPS}/deployments/phone-gateway/scale`,
    { spec: { replicas: 3 } },
    { 'Content-Type': 'application/merge-patch+json' },
  );
  t.equal(r.status, 403);
  t.equal(
    r.body.message,
    'deployments.apps "phone-gateway" is forbidden: User "system:serviceaccount:remediator:remediator" cannot patch resource "deployments/scale" in API group "apps" in the namespace "ai-ninja"',
  );
  const review = (attrs: object) =>
    call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: attrs },
    });
  const denied = await review({ namespace: 'ai-ninja', verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale' });
  t.equal(denied.status, 201);
  t.equal(denied.body.status.allowed, false);
  const allowed = await review({ namespace: 'ai-ninja', verb: 'patch', group: 'apps', resource: 'deployments' });
  t.equal(allowed.body.status.allowed, true, 'the main resource is still allowed');
});

t.test('injected faults: 429 with Retry-After for the next N calls, then normal service', async (t) => {
  sim.faults.injectErrors({ status: 429, count: 2, match: { method: 'GET', pathIncludes: '/configmaps/app-config' } });
  const a = await call('GET', `${NS}/configmaps/app-config`);
  t.equal(a.status, 429);
  t.equal(a.headers.get('retry-after'), '1');
  t.equal(a.body.reason, 'TooManyRequests');
  t.equal((await call('GET', `${NS}/services/phone-gateway`)).status, 200, 'other paths unaffected');
  t.equal((await call('GET', `${NS}/configmaps/app-config`)).status, 429);
  t.equal((await call('GET', `${NS}/configmaps/app-config`)).status, 200, 'count exhausted');
  sim.faults.injectErrors({ status: 500, match: { pathIncludes: 'realtime-processor' } });
  const e = await call('GET', `${APPS}/deployments/realtime-processor`);
  t.equal(e.status, 500);
  t.equal(e.body.reason, 'InternalError');
  sim.faults.clear();
  t.equal((await call('GET', `${APPS}/deployments/realtime-processor`)).status, 200);
});

t.test('pod logs are text/plain and honour tailLines', async (t) => {
  const pod = sim.list('Pod', 'ai-ninja').find((p) => p.metadata.labels.app === 'conversation-engine');
  const res = await fetch(`${sim.url}${NS}/pods/${pod.metadata.name}/log?tailLines=2&container=conversation-engine`, {
    headers: { Authorization: `Bearer ${sim.token}` },
  });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain/);
  const lines = (await res.text()).trim().split('\n');
  t.equal(lines.length, 2);
  const wrong = await call('GET', `${NS}/pods/${pod.metadata.name}/log?container=nope`);
  t.equal(wrong.status, 400);
});

t.test('a watch streams changes after a resourceVersion', async (t) => {
  const list = (await call('GET', `${APPS}/deployments?fieldSelector=metadata.name%3Dconversation-engine`)).body;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  const res = await fetch(
    `${sim.url}${APPS}/deployments?watch=true&fieldSelector=metadata.name%3Dconversation-engine&resourceVersion=${list.metadata.resourceVersion}`,
    {
      headers: { Authorization: `Bearer ${sim.token}` },
      signal: controller.signal,
    },
  );
  t.equal(res.status, 200);
  const scaled = await call(
    'PATCH',
    `${APPS}/deployments/conversation-engine`,
    { spec: { replicas: 3 } },
    { 'Content-Type': 'application/merge-patch+json' },
  );
  t.equal(scaled.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const seen: any[] = [];
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && !seen.some((e) => e.object.spec.replicas === 3 && e.object.status?.readyReplicas === 3)) {
    const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      seen.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  }
  clearTimeout(timer);
  controller.abort();
  t.ok(seen.length > 0);
  t.ok(seen.every((e) => e.type === 'MODIFIED' && e.object.kind === 'Deployment' && e.object.metadata.name === 'conversation-engine'));
  t.ok(
    seen.some((e) => e.object.status?.readyReplicas === 3),
    'saw the scale-up complete',
  );
  const rvs = seen.map((e) => Number(e.object.metadata.resourceVersion));
  t.same(
    rvs,
    [...rvs].sort((a, b) => a - b),
    'resourceVersions increase',
  );
});

t.test('the request log records what clients sent', async (t) => {
  const patch = sim.requests.find((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/smp') && r.query.fieldManager === 'test');
  t.ok(patch);
  t.equal(patch?.contentType, 'application/strategic-merge-patch+json');
  t.match(JSON.parse(patch!.body), { spec: { template: {} } });
  t.equal(patch?.status, 200);
});

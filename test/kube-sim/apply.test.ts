import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startKubeSim } from '../../src/sim/index.ts';
import { kubectlAvailable, kubectlFor } from '../../src/sim/kubectl.ts';

// `kubectl apply` against the simulated cluster with validation on (kubectl reads /openapi/v3, sees that the server
// validates fields, and sends fieldValidation=Strict): client-side apply with its last-applied annotation and
// three-way merge, server-side apply with field managers, conflicts and --force-conflicts.
if (!kubectlAvailable()) {
  t.plan(0, 'kubectl is not on PATH');
} else {
  const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 20, logRequests: true });
  const kubectl = await kubectlFor(sim, 'ai-ninja');
  const dir = await mkdtemp(join(tmpdir(), 'kube-sim-apply-'));
  t.teardown(async () => {
    await sim.close();
    await kubectl.cleanup();
    await rm(dir, { recursive: true, force: true });
  });
  await sim.settle();
  const ok = async (t: Test, args: string[]) => {
    const r = await kubectl(args);
    t.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    t.equal(r.stderr, '', 'no warnings');
    return r.stdout;
  };
  const manifest = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };
  const deployment = (replicas: number, image: string, env: Record<string, string>) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${image}
        env:
${Object.entries(env)
  .map(([k, v]) => `        - {name: ${k}, value: "${v}"}`)
  .join('\n')}
`;

  t.test('OpenAPI v3 index and documents say the server validates fields and takes strategic merge patches', async (t) => {
    const index = JSON.parse(await ok(t, ['get', '--raw', '/openapi/v3']));
    t.same(Object.keys(index.paths).sort(), [
      'api/v1',
      'apis/apps/v1',
      'apis/argoproj.io/v1alpha1',
      'apis/authorization.k8s.io/v1',
      'apis/discovery.k8s.io/v1',
      'apis/helm.toolkit.fluxcd.io/v2',
      'apis/kustomize.toolkit.fluxcd.io/v1',
      'apis/metrics.k8s.io/v1beta1',
      'apis/networking.k8s.io/v1',
    ]);
    const apps = JSON.parse(await ok(t, ['get', '--raw', index.paths['apis/apps/v1'].serverRelativeURL]));
    const patch = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    t.match(patch, {
      operationId: 'patchAppsV1NamespacedDeployment',
      'x-kubernetes-action': 'patch',
      'x-kubernetes-group-version-kind': { group: 'apps', version: 'v1', kind: 'Deployment' },
    });
    t.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query'));
    t.ok(patch.requestBody.content['application/strategic-merge-patch+json']);
    t.ok(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].put, 'subresources are documented');
    t.notOk(
      JSON.parse(await ok(t, ['get', '--raw', '/openapi/v3/apis/metrics.k8s.io/v1beta1'])).paths[
        '/apis/metrics.k8s.io/v1beta1/nodes/{name}'
      ].patch,
      'the read-only metrics API has no patch',
    );
    const v2 = JSON.parse(await ok(t, ['get', '--raw', '/openapi/v2']));
    t.equal(v2.swagger, '2.0');
    t.match(v2.paths['/api/v1/namespaces/{namespace}/secrets/{name}'].patch.consumes, [
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]);
    // kubectl's own protobuf parser reads the v2 document; kind schemas carry no group-version-kind, so explain finds none.
    const explain = await kubectl(['explain', 'pods', '--output=plaintext-openapiv2']);
    t.match(
      explain.stderr,
      'couldn\'t find resource for "/v1, Kind=Pod"',
      'parsed, and no kind schema (a parse failure reads differently)',
    );
  });

  t.test('client-side apply: create, then a three-way merge that removes what the manifest no longer has', async (t) => {
    const v1 = await manifest('web-1.yaml', deployment(2, 'nginx:1.26', { A: '1', B: '2' }));
    t.match(await ok(t, ['apply', '-f', v1]), 'deployment.apps/web created');
    const last = JSON.parse(
      await ok(t, [
        'get',
        'deployment',
        'web',
        '-o',
        'jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}',
      ]),
    );
    t.match(last, { kind: 'Deployment', spec: { replicas: 2 } }, 'the last-applied annotation records the manifest');
    t.match(await ok(t, ['apply', '-f', v1]), 'deployment.apps/web unchanged', 'the same manifest again is no change');

    await ok(t, ['set', 'env', 'deployment/web', 'C=3']);
    const v2 = await manifest('web-2.yaml', deployment(3, 'nginx:1.27', { A: '1' }));
    t.match(await ok(t, ['apply', '-f', v2]), 'deployment.apps/web configured');
    const d = sim.get('Deployment', 'ai-ninja', 'web');
    t.equal(d.spec.replicas, 3);
    t.equal(d.spec.template.spec.containers[0].image, 'nginx:1.27');
    t.same(
      d.spec.template.spec.containers[0].env.map((e: any) => e.name),
      ['A', 'C'],
      'B was in the last applied manifest and is gone; C was set by someone else and stays',
    );
    const sent = sim.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/web')).at(-1)!;
    t.equal(sent.contentType, 'application/strategic-merge-patch+json');
    t.equal(sent.query.fieldValidation, 'Strict');
    const v2Read = sim.requests.filter((r) => r.path === '/openapi/v2').at(-1);
    t.match(
      v2Read,
      { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', status: 200 },
      'kubectl read the v2 document in protobuf on its way to its compiled-in merge keys',
    );
  });

  t.test('a field the kind does not have is refused, as with strict validation on a real server', async (t) => {
    const typo = await manifest('typo.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndat:\n  A: b\n');
    const r = await kubectl(['apply', '-f', typo]);
    t.not(r.code, 0);
    t.match(r.stderr, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dat"');
    t.notOk(sim.get('ConfigMap', 'ai-ninja', 'typo'));
  });

  t.test('server-side apply: managedFields, a conflict with another manager, --force-conflicts takes the field', async (t) => {
    const cm = await manifest(
      'app-config.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  LOG_LEVEL: debug\n',
    );
    t.match(await ok(t, ['apply', '--server-side', '-f', cm]), 'configmap/app-config serverside-applied');
    const managers = await ok(t, [
      'get',
      'configmap',
      'app-config',
      '--show-managed-fields',
      '-o',
      'jsonpath={range .metadata.managedFields[*]}{.manager}/{.operation} {end}',
    ]);
    t.match(managers, 'kubectl/Apply');
    const fields = JSON.parse(
      await ok(t, [
        'get',
        'configmap',
        'app-config',
        '--show-managed-fields',
        '-o',
        'jsonpath={.metadata.managedFields[?(@.manager=="kubectl")].fieldsV1}',
      ]),
    );
    t.same(fields, { 'f:data': { '.': {}, 'f:LOG_LEVEL': {} } });

    await ok(t, ['patch', 'configmap', 'app-config', '-p', '{"data":{"LOG_LEVEL":"warn"}}']);
    const conflict = await kubectl(['apply', '--server-side', '-f', cm]);
    t.not(conflict.code, 0);
    t.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl-patch" using v1 at \S+: \.data\.LOG_LEVEL/);
    t.equal(sim.get('ConfigMap', 'ai-ninja', 'app-config').data.LOG_LEVEL, 'warn', 'nothing changed');

    t.match(await ok(t, ['apply', '--server-side', '--force-conflicts', '-f', cm]), 'serverside-applied');
    t.equal(sim.get('ConfigMap', 'ai-ninja', 'app-config').data.LOG_LEVEL, 'debug');
    const after = sim.get('ConfigMap', 'ai-ninja', 'app-config').metadata.managedFields.map((e: any) => e.manager);
    t.notOk(after.includes('kubectl-patch'), 'the patch manager lost its only field');

    const less = await manifest(
      'app-config-2.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  DEGRADED_MODE: "true"\n',
    );
    await ok(t, ['apply', '--server-side', '-f', less]);
    const data = sim.get('ConfigMap', 'ai-ninja', 'app-config').data;
    t.equal(data.DEGRADED_MODE, 'true');
    t.notOk('LOG_LEVEL' in data, 'a field the manager stopped applying, owned by nobody else, is removed');
    t.equal(data.MAX_CONCURRENT_CALLS, '200', 'fields of other managers stay');
  });

  t.test('server-side apply creates a missing object; a dry run changes nothing', async (t) => {
    const np = await manifest(
      'np.yaml',
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: backup-allow\nspec:\n  podSelector: {matchLabels: {app: phone-gateway-backup}}\n  policyTypes: [Ingress]\n',
    );
    t.match(
      await ok(t, ['apply', '--server-side', '--dry-run=server', '-f', np]),
      'networkpolicy.networking.k8s.io/backup-allow serverside-applied (server dry run)',
    );
    t.notOk(sim.get('NetworkPolicy', 'ai-ninja', 'backup-allow'));
    t.match(await ok(t, ['apply', '--server-side', '-f', np]), 'networkpolicy.networking.k8s.io/backup-allow serverside-applied');
    t.match(await ok(t, ['get', 'networkpolicy']), /^backup-allow\s+app=phone-gateway-backup\s/m);
  });

  t.test('the same server-side apply again is a no-op: same resourceVersion, same managedFields time', async (t) => {
    const cm = await manifest('flags.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  DEGRADED_MODE: "true"\n');
    await ok(t, ['apply', '--server-side', '-f', cm]);
    const first = sim.get('ConfigMap', 'ai-ninja', 'flags');
    // managedFields times have a resolution of a second: let the wall clock reach the next one, so a server that
    // stamps every apply with the time would write the object again.
    const second = Math.floor(Date.now() / 1000);
    while (Math.floor(Date.now() / 1000) === second) await new Promise((r) => setTimeout(r, 10));
    await ok(t, ['apply', '--server-side', '-f', cm]);
    const again = sim.get('ConfigMap', 'ai-ninja', 'flags');
    t.equal(again.metadata.resourceVersion, first.metadata.resourceVersion, 'no new resourceVersion');
    t.same(again.metadata.managedFields, first.metadata.managedFields, 'the apply entry keeps its time');
    await writeFile(cm, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  DEGRADED_MODE: "false"\n');
    await ok(t, ['apply', '--server-side', '-f', cm]);
    t.not(sim.get('ConfigMap', 'ai-ninja', 'flags').metadata.resourceVersion, first.metadata.resourceVersion, 'a changed value is a write');
  });
}

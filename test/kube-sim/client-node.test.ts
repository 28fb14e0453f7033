import * as k8s from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startKubeSim } from '../../src/sim/index.ts';

// @kubernetes/client-node 2.x through a kubeconfig the simulator writes, over both of its schemes.
const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 20, logRequests: true });
const dir = await mkdtemp(join(tmpdir(), 'kube-sim-client-node-'));
t.teardown(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});
await sim.settle();

async function clients(scheme: 'https' | 'http'): Promise<{ apps: k8s.AppsV1Api; core: k8s.CoreV1Api }> {
  const file = join(dir, `kubeconfig-${scheme}`);
  await sim.writeKubeconfig(file, { namespace: 'ai-ninja', scheme });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return { apps: kc.makeApiClient(k8s.AppsV1Api), core: kc.makeApiClient(k8s.CoreV1Api) };
}

for (const scheme of ['http', 'https'] as const) {
  t.test(`reads and strategic-merge-patches a Deployment over ${scheme}`, async (t) => {
    const { apps } = await clients(scheme);
    const d = await apps.readNamespacedDeployment({ name: 'phone-gateway', namespace: 'ai-ninja' });
    t.equal(d.metadata?.name, 'phone-gateway');
    t.equal(d.spec?.replicas, 2);
    t.equal(d.status?.readyReplicas, 2);
    t.ok(d.metadata?.creationTimestamp instanceof Date, 'timestamps decode to Date');

    const stamp = `${scheme}-${Date.now()}`;
    const patched = await apps.patchNamespacedDeployment(
      {
        name: 'phone-gateway',
        namespace: 'ai-ninja',
        body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': stamp } } } } },
        fieldManager: 'remediator',
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    t.equal(patched.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], stamp);
    t.equal(patched.spec?.template.spec?.containers[0]?.image, 'ai-ninja/phone-gateway:1.0.0', 'the rest of the template is kept');
    const wire = sim.requests.filter((r) => r.method === 'PATCH' && r.query.fieldManager === 'remediator').at(-1);
    t.equal(wire?.contentType, 'application/strategic-merge-patch+json');
    await sim.settle();
  });
}

t.test('the client-node default patch content type gets the real 400', async (t) => {
  const { apps } = await clients('http');
  const err = await apps.patchNamespacedDeployment({ name: 'phone-gateway', namespace: 'ai-ninja', body: { spec: { replicas: 3 } } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof k8s.ApiException, 'an ApiException');
  const e = err as k8s.ApiException<string>;
  t.equal(e.code, 400);
  t.equal(typeof e.body, 'string', 'client-node leaves the Status as a JSON string');
  t.match(JSON.parse(e.body), {
    reason: 'BadRequest',
    message: 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp',
  });
});

t.test('scale through the subresource, with a guarded replace that conflicts when stale', async (t) => {
  const { apps } = await clients('https');
  const scale = await apps.readNamespacedDeploymentScale({ name: 'realtime-processor', namespace: 'ai-ninja' });
  t.equal(scale.spec?.replicas, 2);
  await apps.patchNamespacedDeploymentScale(
    { name: 'realtime-processor', namespace: 'ai-ninja', body: { spec: { replicas: 3 } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const err = await apps
    .replaceNamespacedDeploymentScale({ name: 'realtime-processor', namespace: 'ai-ninja', body: { ...scale, spec: { replicas: 1 } } })
    .then(
      () => undefined,
      (e: unknown) => e as k8s.ApiException<string>,
    );
  t.equal(err?.code, 409, 'the scale read before the patch is stale');
  t.match(JSON.parse(err!.body), { reason: 'Conflict' });
  await sim.settle();
  const fresh = await apps.readNamespacedDeploymentScale({ name: 'realtime-processor', namespace: 'ai-ninja' });
  t.same([fresh.spec?.replicas, fresh.status?.replicas], [3, 3]);
  const done = await apps.replaceNamespacedDeploymentScale({
    name: 'realtime-processor',
    namespace: 'ai-ninja',
    body: { ...fresh, spec: { replicas: 2 } },
  });
  t.equal(done.spec?.replicas, 2);
});

t.test('ReplicaSets list by selector and carry revision and owner like the controller makes them', async (t) => {
  const { apps } = await clients('http');
  const list = await apps.listNamespacedReplicaSet({ namespace: 'ai-ninja', labelSelector: 'app=profile-analytics' });
  t.equal(list.items.length, 1);
  const rs = list.items[0]!;
  const d = await apps.readNamespacedDeployment({ name: 'profile-analytics', namespace: 'ai-ninja' });
  t.equal(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
  t.match(rs.metadata?.ownerReferences?.[0], {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: 'profile-analytics',
    uid: d.metadata?.uid,
    controller: true,
    blockOwnerDeletion: true,
  });
  const hash = rs.metadata?.labels?.['pod-template-hash'];
  t.ok(hash);
  t.equal(rs.metadata?.name, `profile-analytics-${hash}`);
  t.equal(rs.spec?.selector.matchLabels?.['pod-template-hash'], hash);
});

t.test('deleting a pod with a stale UID precondition is a 409', async (t) => {
  const { core } = await clients('http');
  const pods = await core.listNamespacedPod({ namespace: 'ai-ninja', labelSelector: 'app=conversation-engine' });
  const pod = pods.items[0]!;
  const err = await core
    .deleteNamespacedPod({
      name: pod.metadata!.name!,
      namespace: 'ai-ninja',
      body: { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } },
    })
    .then(
      () => undefined,
      (e: unknown) => e as k8s.ApiException<string>,
    );
  t.equal(err?.code, 409);
  t.match(JSON.parse(err!.body).message, /Precondition failed: UID in precondition: 0{8}-0{4}-0{4}-0{4}-0{12}, UID in object meta: /);
});

import t from 'tap';
import { addDeployment, startKubeSim } from '../../src/sim/index.ts';

// The in-process controllers: rollouts, progress deadlines, crash loops, pod replacement, pause, hooks, events.
const sim = await startKubeSim({ podReadyDelayMs: 30, crashLoopIntervalMs: 60 });
t.teardown(() => sim.close());

const H = { Authorization: `Bearer ${sim.token}` };
const APPS = '/apis/apps/v1/namespaces/default';

async function patch(path: string, body: unknown, type = 'application/strategic-merge-patch+json'): Promise<any> {
  const res = await fetch(`${sim.url}${path}`, {
    method: 'PATCH',
    headers: { ...H, 'Content-Type': type },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const progressing = (d: any) => d.status?.conditions?.find((c: any) => c.type === 'Progressing');
const podsOf = (app: string) => sim.list('Pod', 'default').filter((p) => p.metadata.labels?.app === app);

t.test('a new Deployment rolls out: ReplicaSet, Ready pods, status and events', async (t) => {
  addDeployment(sim, { namespace: 'default', name: 'web', image: 'web:1', replicas: 3 });
  await sim.settle();
  const d = sim.get('Deployment', 'default', 'web');
  t.match(d.status, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
  t.notOk(d.status.unavailableReplicas);
  t.match(progressing(d), { status: 'True', reason: 'NewReplicaSetAvailable' });
  t.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  const [rs] = sim.list('ReplicaSet', 'default');
  t.match(rs.metadata.annotations, {
    'deployment.kubernetes.io/revision': '1',
    'deployment.kubernetes.io/desired-replicas': '3',
    'deployment.kubernetes.io/max-replicas': '4',
  });
  const pods = podsOf('web');
  t.equal(pods.length, 3);
  t.ok(pods.every((p) => p.status.phase === 'Running' && p.metadata.ownerReferences[0].uid === rs.metadata.uid));
  t.ok(pods.every((p) => p.metadata.labels['pod-template-hash'] === rs.metadata.labels['pod-template-hash']));
  const reasons = sim.list('Event', 'default').map((e) => `${e.involvedObject.kind}/${e.reason}`);
  for (const r of ['Deployment/ScalingReplicaSet', 'ReplicaSet/SuccessfulCreate', 'Pod/Scheduled', 'Pod/Started'])
    t.ok(reasons.includes(r), r);
});

t.test('a deleted pod is replaced and a Killing event recorded', async (t) => {
  const victim = podsOf('web')[0];
  const res = await fetch(`${sim.url}/api/v1/namespaces/default/pods/${victim.metadata.name}`, { method: 'DELETE', headers: H });
  t.equal(res.status, 200);
  await sim.settle();
  const pods = podsOf('web');
  t.equal(pods.length, 3);
  t.notOk(pods.some((p) => p.metadata.uid === victim.metadata.uid));
  t.ok(sim.list('Event', 'default').some((e) => e.involvedObject.uid === victim.metadata.uid && e.reason === 'Killing'));
});

t.test('failRollouts: the next rollout ends in ProgressDeadlineExceeded and the old pods stay', async (t) => {
  addDeployment(sim, { namespace: 'default', name: 'stuck', image: 'stuck:1', replicas: 2, progressDeadlineSeconds: 1 });
  await sim.settle();
  sim.faults.failRollouts('default', 'stuck');
  const started = Date.now();
  await patch(`${APPS}/deployments/stuck`, { spec: { template: { spec: { containers: [{ name: 'stuck', image: 'stuck:2' }] } } } });
  const d = await until('the progress deadline', () => {
    const x = sim.get('Deployment', 'default', 'stuck');
    return progressing(x)?.reason === 'ProgressDeadlineExceeded' && x;
  });
  const waited = Date.now() - started;
  t.ok(waited >= 900 && waited < 3000, `deadline hit after ${waited} ms`);
  t.match(progressing(d), { status: 'False', message: /has timed out progressing/ });
  t.equal(d.status.observedGeneration, d.metadata.generation);
  t.equal(
    podsOf('stuck').filter((p) => p.spec.containers[0].image === 'stuck:1' && p.status.phase === 'Running').length,
    2,
    'old pods keep serving',
  );
  t.ok(
    podsOf('stuck')
      .filter((p) => p.spec.containers[0].image === 'stuck:2')
      .every((p) => !p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')),
    'new pods never Ready',
  );

  // The fault is consumed: the next rollout completes.
  await patch(`${APPS}/deployments/stuck`, { spec: { template: { spec: { containers: [{ name: 'stuck', image: 'stuck:3' }] } } } });
  await until('the third rollout', () => progressing(sim.get('Deployment', 'default', 'stuck'))?.reason === 'NewReplicaSetAvailable');
  t.equal(sim.get('Deployment', 'default', 'stuck').metadata.annotations['deployment.kubernetes.io/revision'], '3');
});

t.test('crashImage(OOMKilled): restartCount grows, lastState says OOMKilled 137, BackOff events and logs', async (t) => {
  sim.faults.crashImage('oom:1', 'OOMKilled');
  addDeployment(sim, { namespace: 'default', name: 'oom', image: 'oom:1', replicas: 1 });
  await sim.settle();
  const pod = await until('two restarts', () => {
    const p = podsOf('oom')[0];
    return (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 && p;
  });
  const cs = pod.status.containerStatuses[0];
  t.equal(cs.state.waiting.reason, 'CrashLoopBackOff');
  t.match(cs.lastState.terminated, { reason: 'OOMKilled', exitCode: 137 });
  t.equal(cs.ready, false);
  const backoff = sim.list('Event', 'default').find((e) => e.involvedObject.uid === pod.metadata.uid && e.reason === 'BackOff');
  t.equal(backoff?.type, 'Warning');
  t.ok(backoff.count >= 2, 'repeated BackOff events aggregate into count');
  const logs = await fetch(`${sim.url}/api/v1/namespaces/default/pods/${pod.metadata.name}/log?previous=true`, { headers: H });
  t.match(await logs.text(), /out of memory/);
  const d = sim.get('Deployment', 'default', 'oom');
  t.notOk(d.status.availableReplicas);
  t.equal(d.status.unavailableReplicas, 1);
  t.match(
    d.status.conditions.find((c: any) => c.type === 'Available'),
    { status: 'False', reason: 'MinimumReplicasUnavailable' },
  );
});

t.test('a paused Deployment does not roll out template changes but still scales', async (t) => {
  addDeployment(sim, { namespace: 'default', name: 'paused', image: 'p:1', replicas: 1 });
  await sim.settle();
  await patch(`${APPS}/deployments/paused`, { spec: { paused: true } });
  await patch(`${APPS}/deployments/paused`, {
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'paused', image: 'p:2' }] } } },
  });
  await sim.settle();
  t.equal(sim.list('ReplicaSet', 'default').filter((r) => r.metadata.name.startsWith('paused-')).length, 1, 'no new ReplicaSet');
  t.same(
    podsOf('paused').map((p) => p.spec.containers[0].image),
    ['p:1', 'p:1'],
  );
  t.match(progressing(sim.get('Deployment', 'default', 'paused')), { status: 'Unknown', reason: 'DeploymentPaused' });
  await patch(`${APPS}/deployments/paused`, { spec: { paused: null } });
  await sim.settle();
  t.same(
    podsOf('paused').map((p) => p.spec.containers[0].image),
    ['p:2', 'p:2'],
    'resuming rolls out',
  );
});

t.test('hooks.onPodStarted runs before a pod is Ready and a rejection crashes it', async (t) => {
  const seen: string[] = [];
  sim.hooks.onPodStarted = async (pod, deployment) => {
    seen.push(`${deployment?.metadata.name}/${pod.metadata.name}`);
    if (deployment?.metadata.name === 'hooked-bad') throw new Error('process failed to start');
  };
  t.teardown(() => {
    delete sim.hooks.onPodStarted;
  });
  addDeployment(sim, { namespace: 'default', name: 'hooked', image: 'h:1', replicas: 2 });
  addDeployment(sim, { namespace: 'default', name: 'hooked-bad', image: 'h:1', replicas: 1 });
  await sim.settle();
  t.equal(seen.filter((s) => s.startsWith('hooked/')).length, 2);
  t.equal(sim.get('Deployment', 'default', 'hooked').status.readyReplicas, 2);
  const bad = podsOf('hooked-bad')[0];
  t.match(bad.status.containerStatuses[0].lastState.terminated, { reason: 'Error', exitCode: 1 });
});

t.test('StatefulSet restarts move updateRevision and then complete', async (t) => {
  const sts = sim.put({
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      replicas: 2,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'db:1' }] } },
    },
  });
  await sim.settle();
  const before = sim.get('StatefulSet', 'default', 'db').status;
  t.equal(before.currentRevision, before.updateRevision);
  await patch(`${APPS}/statefulsets/db`, {
    spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } },
  });
  const mid = sim.get('StatefulSet', 'default', 'db');
  t.equal(mid.metadata.generation, sts.metadata.generation + 1);
  await sim.settle();
  const after = sim.get('StatefulSet', 'default', 'db').status;
  t.not(after.updateRevision, before.updateRevision, 'a new revision');
  t.equal(after.currentRevision, after.updateRevision, 'and it completed');
  t.equal(after.observedGeneration, mid.metadata.generation);
  t.equal(after.updatedReplicas, 2);
});

import t from 'tap';
import { startKubeSim } from '../../src/sim/index.ts';
import { kubectlAvailable, kubectlFor } from '../../src/sim/kubectl.ts';

// Real kubectl against one simulated cluster (the ai-ninja seed). Each subtest uses its own Deployment so they do
// not depend on each other's order.
if (!kubectlAvailable()) {
  t.plan(0, 'kubectl is not on PATH');
} else {
  const started = Date.now();
  const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 50, crashLoopIntervalMs: 100 });
  const kubectl = await kubectlFor(sim, 'ai-ninja');
  t.teardown(async () => {
    await sim.close();
    await kubectl.cleanup();
    t.comment(`kubectl tests took ${Date.now() - started} ms`);
  });
  await sim.settle();

  t.test('kubectl get deployments lists the seeded application with its readiness', async (t) => {
    const r = await kubectl(['get', 'deployments']);
    t.equal(r.code, 0, r.stderr);
    for (const name of ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics']) {
      t.match(r.stdout, new RegExp(`^${name}\\s+2/2\\s+2\\s+2\\s`, 'm'), `${name} is 2/2 ready`);
    }
    t.match(r.stdout, /^phone-gateway-backup\s+0\/0\s/m);
  });

  t.test('rollout restart, status, history and undo behave as on a real cluster', async (t) => {
    const restart = await kubectl(['rollout', 'restart', 'deployment/phone-gateway']);
    t.equal(restart.code, 0, restart.stderr);
    t.match(restart.stdout, 'deployment.apps/phone-gateway restarted');
    const status = await kubectl(['rollout', 'status', 'deployment/phone-gateway', '--timeout=20s']);
    t.equal(status.code, 0, status.stderr);
    t.match(status.stdout, 'deployment "phone-gateway" successfully rolled out');

    const history = await kubectl(['rollout', 'history', 'deployment/phone-gateway']);
    t.equal(history.code, 0, history.stderr);
    t.match(history.stdout, /^1\s+<none>$/m);
    t.match(history.stdout, /^2\s+<none>$/m);

    const restarted = sim.get('Deployment', 'ai-ninja', 'phone-gateway');
    t.ok(restarted.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'], 'the template carries restartedAt');
    t.equal(restarted.metadata.annotations['deployment.kubernetes.io/revision'], '2');

    const undo = await kubectl(['rollout', 'undo', 'deployment/phone-gateway']);
    t.equal(undo.code, 0, undo.stderr);
    t.match(undo.stdout, 'deployment.apps/phone-gateway rolled back');
    const status2 = await kubectl(['rollout', 'status', 'deployment/phone-gateway', '--timeout=20s']);
    t.equal(status2.code, 0, status2.stderr);
    const back = sim.get('Deployment', 'ai-ninja', 'phone-gateway');
    t.notOk(back.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], 'the revision-1 template is back');
    t.equal(back.metadata.annotations['deployment.kubernetes.io/revision'], '3', 'the old ReplicaSet got revision 3');
    const history2 = await kubectl(['rollout', 'history', 'deployment/phone-gateway']);
    t.match(history2.stdout, /^2\s+<none>$/m);
    t.match(history2.stdout, /^3\s+<none>$/m);
    t.notMatch(history2.stdout, /^1\s/m, 'revision 1 became revision 3');
    const rs = sim
      .list('ReplicaSet', 'ai-ninja')
      .filter((r) => r.metadata.name.startsWith('phone-gateway-') && !r.metadata.name.startsWith('phone-gateway-backup'));
    t.equal(rs.length, 2, 'undo reused the first ReplicaSet instead of making a third');
  });

  t.test('kubectl scale changes replicas; a stale --resource-version is refused', async (t) => {
    const r = await kubectl(['scale', 'deployment/conversation-engine', '--replicas=3']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, 'deployment.apps/conversation-engine scaled');
    await sim.settle();
    t.equal(sim.list('Pod', 'ai-ninja').filter((p) => p.metadata.labels.app === 'conversation-engine').length, 3);

    const stale = await kubectl(['scale', 'deployment/conversation-engine', '--replicas=5', '--resource-version=1']);
    t.not(stale.code, 0);
    t.match(stale.stderr, /Expected resource version to be 1, was \d+/);
    t.equal(sim.get('Deployment', 'ai-ninja', 'conversation-engine').spec.replicas, 3, 'replicas unchanged');

    const rv = sim.get('Deployment', 'ai-ninja', 'conversation-engine').metadata.resourceVersion;
    const guarded = await kubectl(['scale', 'deployment/conversation-engine', '--replicas=2', `--resource-version=${rv}`]);
    t.equal(guarded.code, 0, guarded.stderr);
    t.equal(sim.get('Deployment', 'ai-ninja', 'conversation-engine').spec.replicas, 2);
  });

  t.test('a paused deployment refuses rollout restart and undo', async (t) => {
    // A second revision first, so undo has history and gets as far as the paused check.
    t.equal((await kubectl(['rollout', 'restart', 'deployment/profile-analytics'])).code, 0);
    t.equal((await kubectl(['rollout', 'status', 'deployment/profile-analytics', '--timeout=20s'])).code, 0);
    const pause = await kubectl(['rollout', 'pause', 'deployment/profile-analytics']);
    t.equal(pause.code, 0, pause.stderr);
    t.equal(sim.get('Deployment', 'ai-ninja', 'profile-analytics').spec.paused, true);
    const restart = await kubectl(['rollout', 'restart', 'deployment/profile-analytics']);
    t.not(restart.code, 0);
    t.match(restart.stderr, "can't restart paused deployment (run rollout resume first)");
    const undo = await kubectl(['rollout', 'undo', 'deployment/profile-analytics']);
    t.not(undo.code, 0);
    t.match(undo.stderr, 'you cannot rollback a paused deployment');
    const resume = await kubectl(['rollout', 'resume', 'deployment/profile-analytics']);
    t.equal(resume.code, 0, resume.stderr);
    t.notOk(sim.get('Deployment', 'ai-ninja', 'profile-analytics').spec.paused, 'resume removes spec.paused');
  });

  t.test('a crash-looping image fails the rollout and shows CrashLoopBackOff', async (t) => {
    sim.faults.crashImage('ai-ninja/realtime-processor:2.0.0', 'CrashLoopBackOff');
    const deadline = await kubectl(['patch', 'deployment/realtime-processor', '-p', '{"spec":{"progressDeadlineSeconds":1}}']);
    t.equal(deadline.code, 0, deadline.stderr);
    const set = await kubectl(['set', 'image', 'deployment/realtime-processor', 'realtime-processor=ai-ninja/realtime-processor:2.0.0']);
    t.equal(set.code, 0, set.stderr);
    const status = await kubectl(['rollout', 'status', 'deployment/realtime-processor', '--timeout=15s']);
    t.not(status.code, 0, 'rollout status fails');
    t.match(status.stderr, 'deployment "realtime-processor" exceeded its progress deadline');

    const pods = await kubectl(['get', 'pods', '-l', 'app=realtime-processor']);
    t.equal(pods.code, 0, pods.stderr);
    t.match(pods.stdout, /realtime-processor-\S+\s+0\/1\s+CrashLoopBackOff\s+\d+/);
    t.match(pods.stdout, /realtime-processor-\S+\s+1\/1\s+Running\s+0/, 'the old pods keep serving');
    const logs = await kubectl([
      'logs',
      '--tail=1',
      sim.list('Pod', 'ai-ninja').find((p) => p.spec.containers[0].image.endsWith(':2.0.0')).metadata.name,
    ]);
    t.equal(logs.code, 0, logs.stderr);
    t.match(logs.stdout, /FATAL|ERROR/);
  });

  t.test('RBAC denials reach kubectl: auth can-i says no and the verb is Forbidden', async (t) => {
    sim.denyAccess({ verb: 'delete', resource: 'pods', namespace: 'ai-ninja' });
    const canI = await kubectl(['auth', 'can-i', 'delete', 'pods']);
    t.equal(canI.stdout.trim(), 'no');
    t.equal((await kubectl(['auth', 'can-i', 'list', 'pods'])).stdout.trim(), 'yes');
    const pod = sim.list('Pod', 'ai-ninja')[0];
    const del = await kubectl(['delete', 'pod', pod.metadata.name, '--wait=false']);
    t.not(del.code, 0);
    t.match(
      del.stderr,
      `Error from server (Forbidden): pods "${pod.metadata.name}" is forbidden: User "system:serviceaccount:remediator:remediator" cannot delete resource "pods" in API group "" in the namespace "ai-ninja"`,
    );
    t.ok(sim.get('Pod', 'ai-ninja', pod.metadata.name), 'the pod is still there');
  });
  t.test('Flux HelmReleases: discovery, get by short name, and the merge patch `flux suspend hr` sends', async (t) => {
    sim.put({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'web', namespace: 'flux-system' },
      spec: { interval: '5m', chart: { spec: { chart: 'web', sourceRef: { kind: 'HelmRepository', name: 'charts' } } } },
    });
    const kinds = await kubectl(['api-resources', '--api-group=helm.toolkit.fluxcd.io', '--no-headers']);
    t.equal(kinds.code, 0, kinds.stderr);
    t.match(kinds.stdout, /^helmreleases\s+hr\s+helm\.toolkit\.fluxcd\.io\/v2\s+true\s+HelmRelease$/m);
    const get = await kubectl(['get', 'hr', '-n', 'flux-system', '-o', 'name']);
    t.equal(get.code, 0, get.stderr);
    t.equal(get.stdout.trim(), 'helmrelease.helm.toolkit.fluxcd.io/web');
    const generation = sim.get('HelmRelease', 'flux-system', 'web').metadata.generation;
    const patch = await kubectl(['patch', 'hr', 'web', '-n', 'flux-system', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    t.equal(patch.code, 0, patch.stderr);
    t.equal(patch.stdout.trim(), 'helmrelease.helm.toolkit.fluxcd.io/web patched');
    const hr = sim.get('HelmRelease', 'flux-system', 'web');
    t.equal(hr.spec.suspend, true);
    t.equal(hr.spec.interval, '5m', 'a merge patch keeps the rest');
    t.equal(hr.metadata.generation, generation + 1, 'a spec change is a new generation, as for any CRD');
    const read = await kubectl(['get', 'helmrelease.helm.toolkit.fluxcd.io/web', '-n', 'flux-system', '-o', 'jsonpath={.spec.suspend}']);
    t.equal(read.stdout, 'true');
  });
}

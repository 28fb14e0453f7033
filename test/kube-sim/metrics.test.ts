import t, { type Test } from 'tap';
import { startKubeSim } from '../../src/sim/index.ts';
import { kubectlAvailable, kubectlFor } from '../../src/sim/kubectl.ts';

// Real `kubectl top` against the simulated metrics API (metrics.k8s.io/v1beta1): pods' usage from the baseline or a
// load fault, nodes' usage as the sum of their pods plus the system, percentages against allocatable.
if (!kubectlAvailable()) {
  t.plan(0, 'kubectl is not on PATH');
} else {
  const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 20 });
  const kubectl = await kubectlFor(sim, 'ai-ninja');
  t.teardown(async () => {
    await sim.close();
    await kubectl.cleanup();
  });
  await sim.settle();
  const ok = async (t: Test, args: string[]) => {
    const r = await kubectl(args);
    t.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const podNames = (app: string) =>
    sim
      .list('Pod', 'ai-ninja')
      .filter((p) => p.metadata.labels.app === app)
      .map((p) => p.metadata.name);

  t.test('kubectl top pods lists every running pod with CPU and memory', async (t) => {
    const out = await ok(t, ['top', 'pods']);
    t.match(out, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/m);
    for (const app of ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics']) {
      for (const name of podNames(app)) t.match(out, new RegExp(`^${name}\\s+\\d+m\\s+\\d+Mi\\s*$`, 'm'), `${name} has usage`);
    }
    const one = await ok(t, ['top', 'pods', '-l', 'app=phone-gateway', '--no-headers']);
    t.equal(one.trim().split('\n').length, 2, 'the label selector narrows it');
    const missing = await kubectl(['top', 'pod', 'nope']);
    t.not(missing.code, 0);
    t.match(missing.stderr, 'Error from server (NotFound): pods "nope" not found', "a pod that does not exist, in metrics-server's words");
    sim.faults.nodeNotReady('kube-sim-node');
    await ok(t, ['scale', 'deployment/profile-analytics', '--replicas=3']);
    await sim.settle();
    const pending = sim.list('Pod', 'ai-ninja').find((p) => p.status.phase === 'Pending')!;
    const noMetrics = await kubectl(['top', 'pod', pending.metadata.name]);
    t.not(noMetrics.code, 0);
    t.match(
      noMetrics.stderr,
      `pods.metrics.k8s.io "ai-ninja/${pending.metadata.name}" not found`,
      'a pod that is not running has no metrics',
    );
    sim.faults.clear();
    await ok(t, ['scale', 'deployment/profile-analytics', '--replicas=2']);
    await sim.settle();
  });

  t.test('a load fault shows in top pods and in the node total', async (t) => {
    const before = await ok(t, ['top', 'nodes']);
    t.match(before, /^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)\s*$/m);
    t.match(before, /^kube-sim-node\s+\d+m\s+[0-9]%\s+\d+Mi\s+\d+%\s*$/m, 'an idle node uses a few percent of its 4 CPUs');

    sim.faults.loadPods('ai-ninja', 'app=conversation-engine', { cpu: '900m', memory: '1536Mi' });
    const out = await ok(t, ['top', 'pods', '-l', 'app=conversation-engine']);
    for (const name of podNames('conversation-engine')) t.match(out, new RegExp(`^${name}\\s+900m\\s+1536Mi\\s*$`, 'm'));
    const node = await ok(t, ['top', 'nodes', '--no-headers']);
    const [, cpu, cpuPct] = /^kube-sim-node\s+(\d+)m\s+(\d+)%/m.exec(node) ?? [];
    t.ok(Number(cpu) > 1800, `the node carries the load (${cpu}m)`);
    t.equal(Number(cpuPct), Math.floor(Number(cpu) / 40), 'CPU% is against 4 allocatable cores');
    sim.faults.clear();
  });

  t.test('the metrics API is read-only and has no watch, like metrics-server', async (t) => {
    const headers = { Authorization: `Bearer ${sim.token}`, 'Content-Type': 'application/json' };
    const del = await fetch(`${sim.url}/apis/metrics.k8s.io/v1beta1/nodes/kube-sim-node`, { method: 'DELETE', headers });
    t.equal(del.status, 405);
    const watch = await fetch(`${sim.url}/apis/metrics.k8s.io/v1beta1/namespaces/ai-ninja/pods?watch=true`, { headers });
    t.equal(watch.status, 405);
    const groups = await ok(t, ['api-versions']);
    t.match(groups, /^metrics\.k8s\.io\/v1beta1$/m);
  });
}

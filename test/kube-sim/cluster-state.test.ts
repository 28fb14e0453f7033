import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startKubeSim } from '../../src/sim/index.ts';
import { kubectlAvailable, kubectlFor } from '../../src/sim/kubectl.ts';

// Real kubectl reading and changing cluster-level state: Secrets, PersistentVolumes and claims, Nodes with their
// conditions, capacity and cordon, and the faults that make a node NotReady or short of memory.
if (!kubectlAvailable()) {
  t.plan(0, 'kubectl is not on PATH');
} else {
  const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 20 });
  const kubectl = await kubectlFor(sim, 'ai-ninja');
  const dir = await mkdtemp(join(tmpdir(), 'cluster-state-'));
  t.teardown(async () => {
    await sim.close();
    await kubectl.cleanup();
    await rm(dir, { recursive: true, force: true });
  });
  await sim.settle();
  const ok = async (t: Test, args: string[]) => {
    const r = await kubectl(args);
    t.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  t.test('secrets: table, base64 data and type, create from literals, NotFound and bad base64', async (t) => {
    t.match(await ok(t, ['get', 'secret']), /^NAME\s+TYPE\s+DATA\s+AGE\napp-secrets\s+Opaque\s+6\s/m);
    const yaml = await ok(t, ['get', 'secret', 'app-secrets', '-o', 'yaml']);
    t.match(yaml, `DB_PORT: ${Buffer.from('5432').toString('base64')}`);
    t.match(yaml, /^type: Opaque$/m);
    t.match(yaml, /^kind: Secret$/m);
    const created = await ok(t, ['create', 'secret', 'generic', 'api-token', '--from-literal=TOKEN=s3cr3t']);
    t.match(created, 'secret/api-token created');
    const token = await ok(t, ['get', 'secret', 'api-token', '-o', 'jsonpath={.data.TOKEN}']);
    t.equal(Buffer.from(token, 'base64').toString(), 's3cr3t', 'stored base64-encoded');
    t.match(
      await ok(t, ['create', 'configmap', 'flags', '--from-literal=NEW_UI=on']),
      'configmap/flags created',
      'kubectl create configmap posts protobuf too',
    );
    t.equal(sim.get('ConfigMap', 'ai-ninja', 'flags').data.NEW_UI, 'on');
    const missing = await kubectl(['get', 'secret', 'nope']);
    t.not(missing.code, 0);
    t.match(missing.stderr, 'Error from server (NotFound): secrets "nope" not found');

    const bad = await fetch(`${sim.url}/api/v1/namespaces/ai-ninja/secrets`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sim.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'bad' }, data: { K: 'not base64!' } }),
    });
    t.equal(bad.status, 400);
    t.match(await bad.json(), { message: /illegal base64 data at input byte 3/ });
    const tls = await kubectl(['create', 'secret', 'generic', 'half-tls', '--type=kubernetes.io/tls', '--from-literal=tls.crt=x']);
    t.not(tls.code, 0);
    t.match(tls.stderr, 'Secret "half-tls" is invalid: data[tls.key]: Required value');
    const retype = await kubectl(['patch', 'secret', 'api-token', '-p', '{"type":"kubernetes.io/basic-auth"}']);
    t.not(retype.code, 0);
    t.match(retype.stderr, 'type: Invalid value: "kubernetes.io/basic-auth": field is immutable');
  });

  t.test('volumes: the seeded claim is Bound; an unfillable claim stays Pending; a lost volume turns its claim Lost', async (t) => {
    const both = await ok(t, ['get', 'pv,pvc']);
    t.match(
      both,
      /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE$/m,
    );
    t.match(both, /^persistentvolume\/pv-call-recordings\s+10Gi\s+RWO\s+Retain\s+Bound\s+ai-ninja\/call-recordings\s+manual\s+<unset>\s/m);
    t.match(both, /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/m);
    t.match(both, /^persistentvolumeclaim\/call-recordings\s+Bound\s+pv-call-recordings\s+10Gi\s+RWO\s+manual\s+<unset>\s/m);

    const claim = JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'too-big' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Ti' } }, storageClassName: 'manual' },
    });
    await writeFile(join(dir, 'too-big.json'), claim);
    t.match(await ok(t, ['create', '-f', join(dir, 'too-big.json')]), 'persistentvolumeclaim/too-big created');
    await sim.settle();
    t.match(await ok(t, ['get', 'pvc', 'too-big']), /^too-big\s+Pending\s{2,}/m);

    const invalid = await fetch(`${sim.url}/api/v1/namespaces/ai-ninja/persistentvolumeclaims`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sim.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'no-size' }, spec: { accessModes: ['ReadWriteOnce'] } }),
    });
    t.equal(invalid.status, 422);
    t.match(await invalid.json(), { message: 'PersistentVolumeClaim "no-size" is invalid: spec.resources[storage]: Required value' });

    sim.faults.loseVolume('pv-call-recordings');
    await sim.settle();
    t.match(await ok(t, ['get', 'pvc', 'call-recordings']), /^call-recordings\s+Lost\s+pv-call-recordings\s/m);
    t.match(
      await ok(t, ['get', 'events', '--field-selector', 'reason=ClaimLost']),
      /Warning\s+ClaimLost\s+persistentvolumeclaim\/call-recordings\s+Bound claim has lost its PersistentVolume/,
    );
  });

  t.test('nodes: conditions, capacity and allocatable, cordon and uncordon hold back and release new pods', async (t) => {
    t.match(await ok(t, ['get', 'nodes']), /^kube-sim-node\s+Ready\s+control-plane\s+\S+\s+v1\.32\.4$/m);
    const conditions = await ok(t, ['get', 'node', 'kube-sim-node', '-o', 'jsonpath={range .status.conditions[*]}{.type}={.status} {end}']);
    t.equal(conditions.trim(), 'MemoryPressure=False DiskPressure=False PIDPressure=False Ready=True');
    t.equal(await ok(t, ['get', 'node', 'kube-sim-node', '-o', 'jsonpath={.status.allocatable.cpu}/{.status.capacity.memory}']), '4/16Gi');

    t.match(await ok(t, ['cordon', 'kube-sim-node']), 'node/kube-sim-node cordoned');
    t.match(await ok(t, ['get', 'nodes']), /^kube-sim-node\s+Ready,SchedulingDisabled\s/m);
    await sim.settle();
    t.match(await ok(t, ['get', 'node', 'kube-sim-node', '-o', 'jsonpath={.spec.taints[*].key}']), 'node.kubernetes.io/unschedulable');
    await ok(t, ['scale', 'deployment/profile-analytics', '--replicas=3']);
    await sim.settle();
    const pods = await ok(t, ['get', 'pods', '-l', 'app=profile-analytics']);
    t.match(pods, /profile-analytics-\S+\s+0\/1\s+Pending\s/, 'the new pod waits for a node');
    t.match(
      await ok(t, ['get', 'events', '--field-selector', 'reason=FailedScheduling']),
      '0/1 nodes are available: 1 node(s) were unschedulable.',
    );

    t.match(await ok(t, ['uncordon', 'kube-sim-node']), 'node/kube-sim-node uncordoned');
    await sim.settle();
    t.notMatch(await ok(t, ['get', 'pods', '-l', 'app=profile-analytics']), /Pending/, 'scheduled once uncordoned');
    t.equal(await ok(t, ['get', 'deployment', 'profile-analytics', '-o', 'jsonpath={.status.readyReplicas}']), '3');
    t.equal(await ok(t, ['get', 'node', 'kube-sim-node', '-o', 'jsonpath={.spec.taints}']), '', 'no taints left');
  });

  t.test('node faults: NotReady marks its pods not Ready and holds new pods; pressure shows in conditions and taints', async (t) => {
    sim.faults.nodeNotReady('kube-sim-node');
    await sim.settle();
    t.match(await ok(t, ['get', 'nodes']), /^kube-sim-node\s+NotReady\s/m);
    const ready = await ok(t, ['get', 'node', 'kube-sim-node', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}']);
    t.equal(ready, 'NodeStatusUnknown');
    const podReady = await ok(t, [
      'get',
      'pods',
      '-l',
      'app=phone-gateway',
      '-o',
      'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
    ]);
    t.same(podReady.split(' '), ['False', 'False'], 'the node controller marks its pods not Ready');
    t.match(await ok(t, ['get', 'node', 'kube-sim-node', '-o', 'jsonpath={.spec.taints[*].key}']), 'node.kubernetes.io/unreachable');

    sim.faults.clear();
    await sim.settle();
    t.match(await ok(t, ['get', 'nodes']), /^kube-sim-node\s+Ready\s/m);
    const back = await ok(t, [
      'get',
      'pods',
      '-l',
      'app=phone-gateway',
      '-o',
      'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
    ]);
    t.same(back.split(' '), ['True', 'True']);

    sim.faults.nodePressure('kube-sim-node', 'MemoryPressure');
    await sim.settle();
    const mem = await ok(t, [
      'get',
      'node',
      'kube-sim-node',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="MemoryPressure")].status} {.status.conditions[?(@.type=="MemoryPressure")].reason} {.spec.taints[*].key}',
    ]);
    t.equal(mem, 'True KubeletHasInsufficientMemory node.kubernetes.io/memory-pressure');
    t.match(await ok(t, ['get', 'nodes']), /^kube-sim-node\s+Ready\s/m, 'pressure alone keeps the node Ready');
    const describe = await ok(t, ['describe', 'node', 'kube-sim-node']);
    t.match(describe, /MemoryPressure\s+True\s/);
    t.match(describe, /Taints:\s+node\.kubernetes\.io\/memory-pressure:NoSchedule/);
    sim.faults.clear();
    await sim.settle();
  });
}

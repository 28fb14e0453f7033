import t, { type Test } from 'tap';
import { startKubeSim } from '../../src/sim/index.ts';
import { kubectlAvailable, kubectlFor } from '../../src/sim/kubectl.ts';

// Real kubectl reading the Endpoints and EndpointSlices the controller keeps for each Service: ready addresses,
// notReadyAddresses, ports, and how they follow pods becoming unready and a Service's selector switching (the
// runbook's traffic switch to phone-gateway-backup).
if (!kubectlAvailable()) {
  t.plan(0, 'kubectl is not on PATH');
} else {
  const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 20, logRequests: true });
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
  const podIps = (app: string) =>
    sim
      .list('Pod', 'ai-ninja')
      .filter((p) => p.metadata.labels.app === app)
      .map((p) => p.status.podIP)
      .sort((a: string, b: string) => a.localeCompare(b, 'en', { numeric: true }));

  t.test('every seeded Service has Endpoints listing its two ready pods on the target port', async (t) => {
    const out = await ok(t, ['get', 'endpoints']);
    t.match(out, /^NAME\s+ENDPOINTS\s+AGE$/m);
    for (const app of ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics']) {
      const [a, b] = podIps(app);
      t.match(out, new RegExp(`^${app}\\s+${a}:8080,${b}:8080\\s`, 'm'), `${app} routes to its pods`);
    }
    const yaml = await ok(t, [
      'get',
      'endpoints',
      'phone-gateway',
      '-o',
      'jsonpath={.subsets[0].ports[0].name}/{.subsets[0].ports[0].port}/{.subsets[0].addresses[0].targetRef.kind}',
    ]);
    t.equal(yaml, 'http/8080/Pod');
    const missing = await kubectl(['get', 'endpoints', 'nope']);
    t.match(missing.stderr, 'Error from server (NotFound): endpoints "nope" not found');
  });

  t.test('EndpointSlices: one per Service, labelled with it, ready conditions per pod', async (t) => {
    const out = await ok(t, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=conversation-engine']);
    const [a, b] = podIps('conversation-engine');
    t.match(out, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/m);
    t.match(out, new RegExp(`^conversation-engine-[a-z0-9]{5}\\s+IPv4\\s+8080\\s+${a},${b}\\s`, 'm'));
    const ready = await ok(t, [
      'get',
      'endpointslices',
      '-l',
      'kubernetes.io/service-name=conversation-engine',
      '-o',
      'jsonpath={.items[0].endpoints[*].conditions.ready}',
    ]);
    t.equal(ready, 'true true');
    const owner = await ok(t, [
      'get',
      'endpointslices',
      '-l',
      'kubernetes.io/service-name=conversation-engine',
      '-o',
      'jsonpath={.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}',
    ]);
    t.equal(owner, 'Service/conversation-engine');
  });

  t.test('a pod that stops being ready moves to notReadyAddresses and out of the ENDPOINTS column', async (t) => {
    sim.faults.nodeNotReady('kube-sim-node');
    await sim.settle();
    const out = await ok(t, ['get', 'endpoints', 'realtime-processor']);
    t.match(out, /^realtime-processor\s{2,}\S+$/m, 'no ready address is shown');
    t.notMatch(out, /10\.244\./);
    const notReady = await ok(t, ['get', 'endpoints', 'realtime-processor', '-o', 'jsonpath={.subsets[0].notReadyAddresses[*].ip}']);
    t.same(notReady.split(' '), podIps('realtime-processor'));
    const slice = await ok(t, [
      'get',
      'endpointslices',
      '-l',
      'kubernetes.io/service-name=realtime-processor',
      '-o',
      'jsonpath={.items[0].endpoints[*].conditions.ready}',
    ]);
    t.equal(slice, 'false false');
    sim.faults.clear();
    await sim.settle();
    const [a, b] = podIps('realtime-processor');
    t.match(await ok(t, ['get', 'endpoints', 'realtime-processor']), new RegExp(`^realtime-processor\\s+${a}:8080,${b}:8080\\s`, 'm'));
  });

  t.test('kubectl get endpoints -w prints a row with the ENDPOINTS column for each change', async (t) => {
    const watching = kubectl(['get', 'endpoints', 'conversation-engine', '-w', '--request-timeout=3s']);
    // Wait until kubectl's watch request has arrived, then change the endpoints.
    for (let i = 0; i < 1000 && !sim.requests.some((r) => r.path.endsWith('/endpoints') && r.query.watch === 'true'); i++)
      await new Promise((r) => setTimeout(r, 10));
    await ok(t, ['scale', 'deployment/conversation-engine', '--replicas=3']);
    await sim.settle();
    const r = await watching;
    t.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n');
    t.match(rows[0], /^NAME\s+ENDPOINTS\s+AGE$/, 'one header');
    t.match(
      rows.at(-1),
      /^conversation-engine\s+10\.244\.\S+:8080,10\.244\.\S+:8080,10\.244\.\S+:8080\s/,
      'the last row has the third pod',
    );
  });

  t.test('the runbook traffic switch: the Service selects the backup pods once they are ready', async (t) => {
    await ok(t, ['patch', 'service', 'phone-gateway', '--patch', '{"spec":{"selector":{"app":"phone-gateway-backup"}}}']);
    await sim.settle();
    t.match(await ok(t, ['get', 'endpoints', 'phone-gateway']), /^phone-gateway\s+<none>\s/m, 'the backup has no pods yet');
    t.match(
      await ok(t, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=phone-gateway']),
      /^phone-gateway-\S+\s+IPv4\s+<unset>\s+<unset>\s/m,
    );
    await ok(t, ['scale', 'deployment/phone-gateway-backup', '--replicas=2']);
    await sim.settle();
    const [a, b] = podIps('phone-gateway-backup');
    t.match(await ok(t, ['get', 'endpoints', 'phone-gateway']), new RegExp(`^phone-gateway\\s+${a}:8080,${b}:8080\\s`, 'm'));
    const names = await ok(t, ['get', 'endpoints', 'phone-gateway', '-o', 'jsonpath={.subsets[0].addresses[*].targetRef.name}']);
    t.match(names, /^phone-gateway-backup-\S+ phone-gateway-backup-\S+$/);
  });

  t.test('a named targetPort resolves against the pods; pods without that port are left out', async (t) => {
    await ok(t, [
      'patch',
      'service',
      'profile-analytics',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/ports/0/targetPort","value":"metrics"}]',
    ]);
    await sim.settle();
    t.match(await ok(t, ['get', 'endpoints', 'profile-analytics']), /^profile-analytics\s+<none>\s/m, 'no pod has a port named metrics');
    await ok(t, [
      'patch',
      'service',
      'profile-analytics',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/ports/0/targetPort","value":"http"}]',
    ]);
    await sim.settle();
    t.match(await ok(t, ['get', 'endpoints', 'profile-analytics']), /:8080,/);
  });

  t.test('deleting a Service deletes its Endpoints and EndpointSlices', async (t) => {
    await ok(t, ['delete', 'service', 'profile-analytics']);
    await sim.settle();
    const ep = await kubectl(['get', 'endpoints', 'profile-analytics']);
    t.match(ep.stderr, 'endpoints "profile-analytics" not found');
    t.match(
      (await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=profile-analytics'])).stderr,
      'No resources found in ai-ninja namespace.',
    );
  });
}

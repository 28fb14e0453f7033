import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { addDeployment, startKubeSim } from '../../src/sim/index.ts';
import { kubectlAvailable, kubectlFor, type KubectlResult } from '../../src/sim/kubectl.ts';

/*
 * Every kubectl command of the two runbooks (/work/shared/seeds: 003 ServiceDown, 000 the otlp-collector incident),
 * run by real kubectl against the simulated cluster in the runbooks' order, each checked for what its user would
 * see. Shell around a command (pipes to grep/tail, `&& echo`) is left out; placeholders get the seed's names
 * (<failing-service> = realtime-processor, <service-name> = conversation-engine, $service = phone-gateway,
 * <revision-number> = 1); lines that differ only in such values count once.
 *
 * Not run: the eight `kubectl exec` lines (curl /health, pg_isready, redis-cli ping, env, echo $DATABASE_URL in 003;
 * netstat, reset-db-pool.sh, heap-dump.sh in 000): the simulated cluster runs no processes to exec into.
 */
interface RunbookCommand {
  /** Runbook and line. */
  where: string;
  args: string[];
  /** The kubectl context's namespace (003's commands name theirs with -n; 000's run in the context's). */
  ns?: string;
  check(t: Test, r: KubectlResult): void;
}

if (!kubectlAvailable()) {
  t.plan(0, 'kubectl is not on PATH');
} else {
  const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 20 });
  const ninja = await kubectlFor(sim, 'ai-ninja');
  const otlp = await kubectlFor(sim, 'default');
  const dir = await mkdtemp(join(tmpdir(), 'runbook-commands-'));
  t.teardown(async () => {
    await sim.close();
    await ninja.cleanup();
    await otlp.cleanup();
    await rm(dir, { recursive: true, force: true });
  });
  // 000's application: the collector, its scaled-down backup, the exporter.
  addDeployment(sim, { namespace: 'default', name: 'otlp-collector', image: 'otel/opentelemetry-collector:0.98.0', replicas: 3 });
  addDeployment(sim, { namespace: 'default', name: 'otlp-collector-backup', image: 'otel/opentelemetry-collector:0.98.0', replicas: 0 });
  addDeployment(sim, { namespace: 'default', name: 'otlp-exporter', image: 'otel/exporter:1.4.0', replicas: 1 });
  await sim.settle();
  await mkdir(join(dir, 'k8s/configmaps'), { recursive: true });
  await writeFile(
    join(dir, 'k8s/configmaps/app-config.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: ai-ninja\ndata:\n  DEGRADED_MODE: "false"\n  LOG_LEVEL: info\n  MAX_CONCURRENT_CALLS: "200"\n  UPSTREAM_TIMEOUT_MS: "3000"\n',
  );
  await writeFile(
    join(dir, 'rate-limit-emergency.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rate-limit-emergency\ndata:\n  MAX_REQUESTS_PER_SECOND: "500"\n',
  );
  await writeFile(
    join(dir, 'network-policy-backup.yaml'),
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: otlp-backup-ingress\nspec:\n  podSelector:\n    matchLabels: {app: otlp-collector-backup}\n  policyTypes: [Ingress]\n  ingress:\n  - {}\n',
  );

  const succeeds = (t: Test, r: KubectlResult) => t.equal(r.code, 0, r.stderr);
  const lines = (s: string) => s.trim().split('\n').filter(Boolean);
  const ipsOf = (app: string) =>
    sim
      .list('Pod', 'ai-ninja')
      .filter((p) => p.metadata.labels.app === app)
      .map((p) => p.status.podIP);

  const RUNBOOK_003: RunbookCommand[] = [
    {
      where: '003:31',
      args: ['get', 'pods', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
        t.match(r.stdout, /^phone-gateway-\S+\s+1\/1\s+Running\s+0\s/m);
      },
    },
    {
      where: '003:50',
      args: ['get', 'pods', '-n', 'ai-ninja', '-l', 'app=phone-gateway', '--no-headers'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(lines(r.stdout).length, 2);
        t.ok(lines(r.stdout).every((l) => /^phone-gateway-\S+\s+1\/1\s+Running\s/.test(l)));
      },
    },
    {
      where: '003:53',
      args: ['get', 'events', '-n', 'ai-ninja', '--field-selector', 'involvedObject.name=phone-gateway', '--sort-by=.firstTimestamp'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /Normal\s+ScalingReplicaSet\s+deployment\/phone-gateway\s+Scaled up replica set phone-gateway-\S+ from 0 to 2/);
      },
    },
    {
      where: '003:56',
      args: ['get', 'service', 'phone-gateway', '-n', 'ai-ninja', '-o', 'jsonpath={.spec.ports[0].targetPort}'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, '8080');
      },
    },
    {
      where: '003:67',
      args: ['describe', 'pod', '-n', 'ai-ninja', '-l', 'app=realtime-processor'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^Name:\s+realtime-processor-/m);
        t.match(r.stdout, /^Status:\s+Running$/m);
        t.match(r.stdout, /Normal\s+Started\s+\S+\s+kubelet\s+Started container realtime-processor/);
      },
    },
    {
      where: '003:70',
      args: ['logs', '-n', 'ai-ninja', 'deployment/realtime-processor', '--tail=50'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stderr + r.stdout, /INFO starting ai-ninja\/realtime-processor:1\.0\.0/);
      },
    },
    {
      where: '003:76',
      args: ['get', 'nodes'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nkube-sim-node\s+Ready\s+control-plane\s+\S+\s+v1\.32\.4$/m);
      },
    },
    {
      where: '003:77',
      args: ['top', 'nodes'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^kube-sim-node\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/m);
      },
    },
    {
      where: '003:78',
      args: ['get', 'events', '-n', 'ai-ninja', '--sort-by=.firstTimestamp'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/m);
        t.match(r.stdout, /Normal\s+Scheduled\s+pod\/phone-gateway-/);
      },
    },
    {
      where: '003:81',
      args: ['get', 'pv,pvc', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^persistentvolume\/pv-call-recordings\s+10Gi\s+RWO\s+Retain\s+Bound\s+ai-ninja\/call-recordings\s/m);
        t.match(r.stdout, /^persistentvolumeclaim\/call-recordings\s+Bound\s+pv-call-recordings\s+10Gi\s+RWO\s/m);
      },
    },
    {
      where: '003:82',
      args: ['get', 'configmap,secret', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^configmap\/app-config\s+4\s/m);
        t.match(r.stdout, /^secret\/app-secrets\s+Opaque\s+6\s/m);
      },
    },
    {
      where: '003:105',
      args: ['rollout', 'restart', 'deployment/conversation-engine', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/conversation-engine restarted\n');
      },
    },
    {
      where: '003:108',
      args: ['rollout', 'status', 'deployment/conversation-engine', '-n', 'ai-ninja', '--timeout=120s'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, 'deployment "conversation-engine" successfully rolled out');
      },
    },
    {
      where: '003:111',
      args: ['get', 'pods', '-n', 'ai-ninja', '-l', 'app=conversation-engine'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(lines(r.stdout).filter((l) => /\s1\/1\s+Running\s/.test(l)).length, 2);
      },
    },
    {
      where: '003:126',
      args: ['wait', '--for=condition=available', '--timeout=120s', 'deployment/phone-gateway', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/phone-gateway condition met\n');
      },
    },
    {
      where: '003:141',
      args: ['get', 'configmap', 'app-config', '-n', 'ai-ninja', '-o', 'yaml'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^kind: ConfigMap$/m);
        t.match(r.stdout, /^ {2}LOG_LEVEL: info$/m);
      },
    },
    {
      where: '003:144',
      args: ['get', 'secret', 'app-secrets', '-n', 'ai-ninja', '-o', 'yaml'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^kind: Secret$/m);
        t.match(r.stdout, /^type: Opaque$/m);
        t.match(r.stdout, `  DB_PORT: ${Buffer.from('5432').toString('base64')}`);
      },
    },
    {
      where: '003:147',
      args: ['apply', '-f', join(dir, 'k8s/configmaps/app-config.yaml')],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'configmap/app-config configured\n');
        t.match(
          r.stderr,
          'Warning: resource configmaps/app-config is missing the kubectl.kubernetes.io/last-applied-configuration annotation',
        );
      },
    },
    {
      where: '003:165',
      args: ['top', 'pods', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
        t.match(r.stdout, /^phone-gateway-\S+\s+\d+m\s+\d+Mi/m);
      },
    },
    {
      where: '003:168',
      args: ['scale', 'deployment', 'phone-gateway-backup', '--replicas=2', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/phone-gateway-backup scaled\n');
      },
    },
    {
      where: '003:180',
      args: [
        'patch',
        'deployment',
        'conversation-engine',
        '-n',
        'ai-ninja',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"conversation-engine","resources":{"limits":{"memory":"2Gi","cpu":"1000m"}}}]}}}}',
      ],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/conversation-engine patched\n');
      },
    },
    {
      where: '003:183',
      args: ['rollout', 'status', 'deployment/conversation-engine', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, 'successfully rolled out');
      },
    },
    {
      where: '003:191',
      args: ['rollout', 'history', 'deployment/conversation-engine', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n3\s+<none>/m);
      },
    },
    {
      where: '003:194',
      args: ['rollout', 'history', 'deployment/conversation-engine', '--revision=1', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, 'deployment.apps/conversation-engine with revision #1');
        t.match(r.stdout, /Image:\s+ai-ninja\/conversation-engine:1\.0\.0/);
      },
    },
    {
      where: '003:200',
      args: ['rollout', 'undo', 'deployment/conversation-engine', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/conversation-engine rolled back\n');
      },
    },
    {
      where: '003:203',
      args: ['rollout', 'undo', 'deployment/conversation-engine', '--to-revision=1', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/conversation-engine rolled back\n');
      },
    },
    {
      where: '003:214',
      args: ['patch', 'configmap', 'app-config', '-n', 'ai-ninja', '--patch', '{"data":{"DEGRADED_MODE":"true"}}'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'configmap/app-config patched\n');
      },
    },
    {
      where: '003:217',
      args: ['rollout', 'restart', 'deployment/phone-gateway', 'deployment/realtime-processor', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/phone-gateway restarted\ndeployment.apps/realtime-processor restarted\n');
      },
    },
    {
      where: '003:223',
      args: ['patch', 'service', 'phone-gateway', '-n', 'ai-ninja', '--patch', '{"spec":{"selector":{"app":"phone-gateway-backup"}}}'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'service/phone-gateway patched\n');
      },
    },
    {
      where: '003:226',
      args: ['get', 'endpoints', 'phone-gateway', '-n', 'ai-ninja'],
      check: (t, r) => {
        succeeds(t, r);
        const backup = ipsOf('phone-gateway-backup').sort((a: string, b: string) => a.localeCompare(b, 'en', { numeric: true }));
        t.match(
          r.stdout,
          new RegExp(`^NAME\\s+ENDPOINTS\\s+AGE\\nphone-gateway\\s+${backup[0]}:8080,${backup[1]}:8080\\s`, 'm'),
          'the Service now routes to the backup pods',
        );
      },
    },
    {
      where: '003:247',
      args: ['get', 'service', 'phone-gateway', '-n', 'ai-ninja', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, '', 'a ClusterIP Service has no load balancer address, so the runbook falls back');
      },
    },
    {
      where: '003:249',
      args: ['get', 'service', 'phone-gateway', '-n', 'ai-ninja', '-o', 'jsonpath={.spec.clusterIP}'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^10\.96\.\d+\.\d+$/);
      },
    },
    {
      where: '003:251',
      args: ['get', 'service', 'phone-gateway', '-n', 'ai-ninja', '-o', 'jsonpath={.spec.ports[0].port}'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, '80');
      },
    },
  ];

  const RUNBOOK_000: RunbookCommand[] = [
    {
      where: '000:248',
      ns: 'default',
      args: ['get', 'pods', '-l', 'app=otlp-collector', '-o', 'wide'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
        t.match(r.stdout, /^otlp-collector-\S+\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+kube-sim-node\s+<none>\s+<none>$/m);
      },
    },
    {
      where: '000:291',
      ns: 'default',
      args: ['get', 'pods', '-l', 'app=otlp-collector'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(lines(r.stdout).length, 4, 'header and three pods');
      },
    },
    {
      where: '000:294',
      ns: 'default',
      args: ['logs', '-l', 'app=otlp-collector', '--tail=50', '--since=10m'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(
          lines(r.stdout).filter((l) => l.includes('INFO starting otel/opentelemetry-collector')).length,
          3,
          'one start line per pod',
        );
      },
    },
    {
      where: '000:297',
      ns: 'default',
      args: ['top', 'pods', '-l', 'app=otlp-collector'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(lines(r.stdout).filter((l) => /^otlp-collector-\S+\s+\d+m\s+\d+Mi/.test(l)).length, 3);
      },
    },
    {
      where: '000:300',
      ns: 'default',
      args: ['get', 'pod', '-l', 'app=otlp-collector', '-o', 'jsonpath={.items[0].metadata.name}'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^otlp-collector-[a-z0-9]+-[a-z0-9]{5}$/);
      },
    },
    {
      where: '000:303',
      ns: 'default',
      args: ['get', 'events', '--sort-by=.lastTimestamp'],
      check: (t, r) => {
        succeeds(t, r);
        t.match(r.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/m);
        t.match(r.stdout, /deployment\/otlp-collector\s+Scaled up replica set/);
      },
    },
    {
      where: '000:314',
      ns: 'default',
      args: ['set', 'env', 'deployment/otlp-collector', 'DEGRADED_MODE=true'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/otlp-collector env updated\n');
      },
    },
    {
      where: '000:317',
      ns: 'default',
      args: ['scale', 'deployment/otlp-collector-backup', '--replicas=10'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/otlp-collector-backup scaled\n');
      },
    },
    {
      where: '000:320',
      ns: 'default',
      args: ['apply', '-f', join(dir, 'rate-limit-emergency.yaml')],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'configmap/rate-limit-emergency created\n');
        t.equal(r.stderr, '');
      },
    },
    {
      where: '000:532',
      ns: 'default',
      args: ['rollout', 'restart', 'deployment/otlp-collector'],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'deployment.apps/otlp-collector restarted\n');
      },
    },
    {
      where: '000:537',
      ns: 'default',
      args: ['apply', '-f', join(dir, 'network-policy-backup.yaml')],
      check: (t, r) => {
        succeeds(t, r);
        t.equal(r.stdout, 'networkpolicy.networking.k8s.io/otlp-backup-ingress created\n');
        t.equal(r.stderr, '');
      },
    },
    // kubectl 1.32 has no `top --watch`: the runbook line fails in kubectl itself, against any cluster.
    {
      where: '000:642',
      ns: 'default',
      args: ['top', 'pods', '-l', 'app=otlp-collector', '--watch'],
      check: (t, r) => {
        t.not(r.code, 0);
        t.match(r.stderr, 'unknown flag: --watch');
      },
    },
  ];

  const results: string[] = [];
  const run = async (list: RunbookCommand[], label: string) => {
    for (const c of list) {
      await t.test(`${c.where} kubectl ${c.args.map((a) => (a.startsWith(dir) ? a.slice(dir.length + 1) : a)).join(' ')}`, async (t) => {
        const r = await (c.ns === 'default' ? otlp : ninja)(c.args, { timeoutMs: 60_000 });
        c.check(t, r);
        await sim.settle();
        if (t.passing()) results.push(`${label} ${c.where}`);
      });
    }
  };
  await run(RUNBOOK_003, '003');
  await run(RUNBOOK_000, '000');
  t.equal(RUNBOOK_003.length, 33, 'the 33 distinct commands of the ServiceDown runbook (exec aside)');
  t.comment(
    `runbook commands that behave as on a real cluster: 003 ${results.filter((r) => r.startsWith('003')).length}/${RUNBOOK_003.length}, 000 ${results.filter((r) => r.startsWith('000')).length}/${RUNBOOK_000.length}`,
  );
}

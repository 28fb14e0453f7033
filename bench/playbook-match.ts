/**
 * Playbook benchmark: how long loading (and reloading) a large playbook folder takes, what it costs in memory, and
 * how many alerts per second the catalog routes, with Alertmanager matchers including regexes.
 *
 * `--playbooks` (default 500) playbooks, each with 3 matchers (equality, regex, negative regex) on a distinct
 * service; `--alerts` (default 200000) alerts routed, half of them matching one playbook, half matching none.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PlaybookCatalog } from '../src/playbooks/playbook-catalog.ts';
import { createRegistry } from '../src/main.ts';
import { silentLogger } from '../src/observability/logger.ts';

const { values } = parseArgs({
  options: {
    playbooks: { type: 'string', default: '500' },
    alerts: { type: 'string', default: '200000' },
    quick: { type: 'boolean', default: false },
  },
});

const playbook = (i: number) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: svc-${i} }
spec:
  priority: ${i % 7}
  triggers:
    - matchers: ['alertname="ServiceDown"', 'deployment=~"svc-${i}|svc-${i}-canary"', 'namespace!~"kube-.*"']
  target: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
  rungs:
    - name: restart
      steps:
        - id: restart
          action: kube.rolloutRestart
          with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
        - id: rollout
          gate: kube.rolloutStatus
          with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
          timeout: 120s
`;

export async function benchPlaybookMatch(): Promise<void> {
  const count = Number(values.playbooks);
  const alerts = Number(values.alerts);
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-pb-'));
  try {
    for (let i = 0; i < count; i++) await writeFile(join(dir, `svc-${i}.yaml`), playbook(i));
    const catalog = new PlaybookCatalog(
      dir,
      { registry: createRegistry(), available: new Set(['kube', 'prometheus', 'alertmanager', 'escalation', 'limits']) },
      silentLogger(),
    );
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let t0 = performance.now();
    const problems = await catalog.reload();
    const firstLoadMs = performance.now() - t0;
    if (problems.length > 0) throw new Error(`bench playbooks refused: ${JSON.stringify(problems[0])}`);
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    t0 = performance.now();
    await catalog.reload();
    const reloadMs = performance.now() - t0;

    const labels = (i: number) => ({
      alertname: 'ServiceDown',
      namespace: 'ai-ninja',
      deployment: i % 2 === 0 ? `svc-${i % count}` : `other-${i}`,
    });
    let matched = 0;
    t0 = performance.now();
    for (let i = 0; i < alerts; i++) matched += catalog.match({ labels: labels(i), status: 'firing' }).length;
    const matchMs = performance.now() - t0;

    console.log(`playbooks: ${count} files, ${alerts} alerts routed (${matched} matches)`);
    console.log(
      `  first load      ${firstLoadMs.toFixed(0)} ms (${((firstLoadMs / count) * 1000).toFixed(0)} µs per playbook, parse + schema + step params)`,
    );
    console.log(`  reload          ${reloadMs.toFixed(0)} ms`);
    console.log(
      `  heap            ${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MiB for the set${global.gc ? '' : ' (run with --expose-gc for a steadier figure)'}`,
    );
    console.log(
      `  routing         ${((alerts / matchMs) * 1000).toFixed(0)} alerts/s (${((matchMs / alerts) * 1000).toFixed(1)} µs per alert against ${count} playbooks)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchPlaybookMatch();

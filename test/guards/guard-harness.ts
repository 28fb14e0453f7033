import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startKubeSim, type KubeSim } from '../../src/sim/index.ts';
import { startTestService, type TestService } from '../support/harness.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { RedisProcess } from '../../src/dev/redis-process.ts';
import type { Logger } from '../../src/observability/logger.ts';

/**
 * A real remediator (receiver + worker, real Redis) wired to kube-sim with the ai-ninja seed, so guarded runs use
 * the real kube.* actions over client-node and every write shows in the sim's request log.
 */
export interface GuardedService extends TestService {
  sim: KubeSim;
  kubeconfig: string;
  /** Alertmanager webhook body with one firing ServiceDown alert per deployment. */
  alerts(deployments: string[], startsAt: string, namespace?: string, alertname?: string): unknown;
  /** Posts alerts and returns the run id started for each. */
  fire(deployments: string[], startsAt: string, namespace?: string, alertname?: string): Promise<string[]>;
  /** Waits until the run has ended (any final status). */
  ended(runId: string, timeoutMs?: number): Promise<any>;
  /** Writes (not reads) the sim was asked to make to a deployment's object or its scale, answered 2xx. */
  writesTo(deployment: string, namespace?: string): Array<{ method: string; path: string; body: string }>;
}

export const FINAL = new Set(['succeeded', 'completed', 'failed', 'escalated', 'cancelled', 'skipped']);

export async function startGuardedService(options: {
  playbooks: Record<string, string>;
  guards?: Record<string, unknown>;
  clock?: Clock;
  redis?: RedisProcess;
  replicated?: { settings: Record<string, unknown> };
  role?: 'all' | 'receiver';
  worker?: Record<string, unknown>;
  /** More config changes, applied last. */
  overrides?: (c: Record<string, any>) => void;
  /** The service's logger (default silent). */
  log?: Logger;
}): Promise<GuardedService> {
  const sim = await startKubeSim({ seed: 'ai-ninja', logRequests: true, podReadyDelayMs: 20 });
  const dir = await mkdtemp(join(tmpdir(), 'remediator-guards-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  t.teardown(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });
  const svc = await startTestService({
    playbooks: options.playbooks,
    clock: options.clock,
    redis: options.redis,
    ...(options.replicated ? { replicated: options.replicated } : {}),
    role: options.role,
    ...(options.log ? { log: options.log } : {}),
    overrides: (c) => {
      c.kubernetes = { enabled: true, kubeconfig, requestTimeout: '5s' };
      if (options.guards) c.guards = options.guards;
      if (options.worker) c.worker = { ...c.worker, ...options.worker };
      options.overrides?.(c);
    },
  });
  const alerts = (deployments: string[], startsAt: string, namespace = 'ai-ninja', alertname = 'ServiceDown') => ({
    version: '4',
    groupKey: `{}:{alertname="${alertname}",startsAt="${startsAt}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'remediator',
    groupLabels: { alertname },
    commonLabels: { alertname, namespace },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.local',
    alerts: deployments.map((d) => ({
      status: 'firing',
      labels: { alertname, namespace, deployment: d, service: d, severity: 'critical' },
      annotations: { summary: `${d} is down` },
      startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.local/graph',
      fingerprint: createHash('sha256').update(`${alertname}/${namespace}/${d}`).digest('hex').slice(0, 16),
    })),
  });
  return {
    ...svc,
    sim,
    kubeconfig,
    alerts,
    async fire(deployments, startsAt, namespace, alertname) {
      const res = await svc.post(alerts(deployments, startsAt, namespace, alertname));
      if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.alerts.map((a: any) => a.runs[0]?.runId);
    },
    ended: (runId, timeoutMs = 15_000) => svc.waitForRun(runId, (r) => FINAL.has(r.status), timeoutMs),
    writesTo(deployment, namespace = 'ai-ninja') {
      const base = `/apis/apps/v1/namespaces/${namespace}/deployments/${deployment}`;
      return sim.requests.filter(
        (r) =>
          r.method !== 'GET' &&
          (r.path === base || r.path.startsWith(`${base}/`) || r.path.startsWith(`${base}?`)) &&
          (r.status ?? 0) < 300 &&
          r.query.dryRun === undefined,
      );
    },
  };
}

/** A clock that runs with real time plus an offset a test moves forward (sleeps inside runs stay real). */
export class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
}

/**
 * A playbook whose runs write their own id to the deployment twice, `holdMs` apart ("<run>-begin", then
 * "<run>-end"), so the sim's request log shows which run acted on a target when (see `remediationMarks`).
 */
export function envFlipPlaybook(holdMs: number, spec = ''): string {
  return `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: env-flip }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
${spec}  steps:
    - id: begin
      action: kube.setEnv
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", env: { REMEDIATION: "{{ run.id }}-begin" } }
    - id: hold
      action: wait
      with: { duration: ${holdMs}ms }
    - id: end
      action: kube.setEnv
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", env: { REMEDIATION: "{{ run.id }}-end" } }
`;
}

/** The REMEDIATION values env-flip runs wrote to a deployment, in the order the API server received them. */
export function remediationMarks(svc: GuardedService, deployment: string): Array<{ run: string; phase: 'begin' | 'end' }> {
  return svc.writesTo(deployment).flatMap((w) => {
    // A setEnv JSON patch also carries the previous value in its stamp annotation; read the env op only.
    const ops = JSON.parse(w.body) as Array<{ path: string; value?: unknown }>;
    const env = ops.find((o) => /\/containers\/\d+\/env$/.test(o.path))?.value as Array<{ name: string; value?: string }> | undefined;
    const m = /^(.+)-(begin|end)$/.exec(env?.find((e) => e.name === 'REMEDIATION')?.value ?? '');
    return m ? [{ run: m[1]!, phase: m[2] as 'begin' | 'end' }] : [];
  });
}

/**
 * A playbook for alerts named `alertname` whose runs write their id to the deployment once (kube.setEnv
 * REMEDIATION=<run>), then page the escalation target `hook`: one write and one page per run to count.
 */
export function markAndPagePlaybook(alertname: string): string {
  return `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: mark-and-page }
spec:
  triggers: [{ matchers: ['alertname="${alertname}"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - id: mark
      action: kube.setEnv
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", env: { REMEDIATION: "{{ run.id }}" } }
    - id: page
      action: escalate
      with: { level: P1, targets: [hook], summary: "{{ labels.deployment }} was marked" }
`;
}

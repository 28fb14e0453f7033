import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeSim, type KubeSim } from '../../src/sim/index.ts';
import { startTestService, WEBHOOK_TOKEN, type TestService } from '../support/harness.ts';
import { PagerDutyReceiver, SlackReceiver } from '../support/paging-receivers.ts';
import { RealLoop } from '../../src/dev/real-loop/real-loop.ts';
import type { DeploymentRef, PodProcessEvent } from '../../src/dev/real-loop/pod-processes.ts';
import { realLoopUnavailable } from '../../src/dev/real-loop/installed.ts';
import { FlakyRelay } from './flaky-relay.ts';

/** The shipped playbook, exactly as it is in the repository. */
export const SHIPPED_PLAYBOOK = new URL('../../playbooks/service-down.yaml', import.meta.url);
export const NS = 'ai-ninja';
export const APPS = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'] as const;
export const FINAL = new Set(['succeeded', 'completed', 'failed', 'escalated', 'cancelled', 'skipped']);
/** Runs already handed out by runStarted(), so two waits never return the same run. */
const seen = new Set<string>();

export interface E2E {
  sim: KubeSim;
  loop: RealLoop;
  svc: TestService;
  pagerduty: PagerDutyReceiver;
  /** A Slack incoming webhook as the notify target, when `notify` was asked for (P0 and P2 go there by default). */
  slack: SlackReceiver | undefined;
  /** Between the second Alertmanager and remediator: can make Alertmanager re-send a firing delivery. */
  relay: FlakyRelay;
  events: PodProcessEvent[];
  ref(name: string): DeploymentRef;
  /** Runs of the playbook against a Deployment, newest first (the list view). */
  runsFor(name: string): Promise<any[]>;
  /** Waits for a run for this Deployment created after `since` (ms), and returns its id. */
  runStarted(name: string, since: number, timeoutMs?: number): Promise<string>;
  /** Waits until the run has a final status; returns the full view. */
  ended(runId: string, timeoutMs?: number): Promise<any>;
  /** Waits until the run's decisions contain one with this reason. */
  decision(runId: string, reason: string, timeoutMs?: number): Promise<any>;
  /** Polls `ok` every 100 ms until it holds; throws with `what` after `timeoutMs`. */
  until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
}

/** Why this machine cannot run the real loop (the Debian binaries are absent), or false. */
export const skipReason: string | false = realLoopUnavailable() ?? false;

/**
 * The whole loop on loopback, torn down when the test file ends: the simulated ai-ninja cluster (one replica per
 * service so every pod is one real process), each service's pods as real stand-in processes behind a stable
 * Service address, a real Prometheus (fast profile) scraping them with the ServiceDown rule, an HA pair of real
 * Alertmanagers posting to a real remediator (real Redis, the SHIPPED service-down playbook, PagerDuty pointed at a
 * local receiver); the second Alertmanager posts through a FlakyRelay. `guards` are merged into the configured
 * guards (config keys, e.g. `{ budget: { runs: 1 } }`). It returns once Prometheus has seen every service up.
 */
export async function startE2E(
  options: {
    guards?: Record<string, Record<string, unknown>>;
    /** The playbooks, by file name (default: the shipped service-down playbook alone). */
    playbooks?: Record<string, string>;
    /** Add a Slack notify target beside PagerDuty. */
    notify?: boolean;
  } = {},
): Promise<E2E> {
  const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 100, crashLoopIntervalMs: 300 });
  t.teardown(() => sim.close());
  // One replica each, set before the seeded pods start (they start after podReadyDelayMs).
  for (const name of APPS) {
    const d = sim.get('Deployment', NS, name);
    sim.put({ ...d, spec: { ...d.spec, replicas: 1 } });
  }
  const events: PodProcessEvent[] = [];
  const loop = await RealLoop.start({
    sim,
    services: APPS.map((name) => ({ namespace: NS, name })),
    extraDeployments: [{ namespace: NS, name: 'phone-gateway-backup' }],
    onPodEvent: (e) => events.push(e),
  });
  t.teardown(() => loop.close());

  const dir = await mkdtemp(join(tmpdir(), 'remediator-e2e-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);

  const routingKey = randomBytes(16).toString('hex');
  const pagerduty = await new PagerDutyReceiver(routingKey).start();
  t.teardown(() => pagerduty.close());
  const slack = options.notify ? await new SlackReceiver().start() : undefined;
  if (slack) t.teardown(() => slack.close());

  const svc = await startTestService({
    playbooks: options.playbooks ?? { 'service-down.yaml': await readFile(SHIPPED_PLAYBOOK, 'utf8') },
    overrides: (c) => {
      c.kubernetes = { enabled: true, kubeconfig, requestTimeout: '5s' };
      c.prometheus = { url: loop.prometheus.url, timeout: '2s' };
      c.escalation = {
        targets: {
          pd: { type: 'pagerduty', routingKey, url: pagerduty.url },
          ...(slack ? { slack: { type: 'slack', webhookUrl: slack.url } } : {}),
        },
        delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
      };
      c.guards ??= {};
      const guards = c.guards as Record<string, Record<string, unknown>>;
      for (const [k, v] of Object.entries(options.guards ?? {})) guards[k] = { ...guards[k], ...v };
    },
  });
  const relay = await new FlakyRelay(`${svc.url}/v1/alertmanager`).start();
  // Alertmanager is connected only once Prometheus has seen every service up. Prometheus scrapes from its start, so
  // a service whose process was still starting (seconds, on a loaded machine) fired ServiceDown into remediator
  // before any scenario began: that run paged and used the service's budget, and the scenario's own run was then
  // skipped as budget_exhausted.
  await sim.settle();
  await loop.waitUntilUp(30_000);
  await loop.connectAlertmanager({ webhookUrl: `${svc.url}/v1/alertmanager`, bearerToken: WEBHOOK_TOKEN });
  await loop.connectAlertmanager({ webhookUrl: relay.url, bearerToken: WEBHOOK_TOKEN });

  const until = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const runsFor = async (name: string) => (await svc.api('GET', `/v1/runs?target=${NS}/${name}&limit=100`)).body.runs as any[];
  return {
    sim,
    loop,
    svc,
    pagerduty,
    slack,
    relay,
    events,
    ref: (name) => ({ namespace: NS, name }),
    runsFor,
    async runStarted(name, since, timeoutMs = 10_000) {
      let id: string | undefined;
      await until(
        `a run for ${name}`,
        async () => {
          id = (await runsFor(name)).find((r) => Date.parse(r.createdAt) >= since - 1000 && !seen.has(r.id))?.id;
          return id !== undefined;
        },
        timeoutMs,
      );
      seen.add(id!);
      return id!;
    },
    ended: (runId, timeoutMs = 120_000) => svc.waitForRun(runId, (r) => FINAL.has(r.status), timeoutMs),
    async decision(runId, reason, timeoutMs = 10_000) {
      let found: any;
      await until(
        `decision "${reason}" on ${runId}`,
        async () => {
          found = (await svc.api('GET', `/v1/runs/${runId}`)).body.decisions?.find((d: any) => d.reason === reason);
          return found !== undefined;
        },
        timeoutMs,
      );
      return found;
    },
    until,
  };
}

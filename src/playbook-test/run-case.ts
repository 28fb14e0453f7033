import { randomBytes } from 'node:crypto';
import { Job } from 'bullmq';
import { MIDDLE_OF_JITTER } from '../engine/backoff.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load-config.ts';
import { parseDuration } from '../domain/duration.ts';
import { startRemediator, type Remediator } from '../main.ts';
import { runSettled, type RunView } from '../store/run-record.ts';
import { isRemediatorError } from '../domain/errors.ts';
import { VirtualClock } from '../virtual-time/virtual-clock.ts';
import { settleRuns } from '../virtual-time/settle-runs.ts';
import { alertFingerprint } from './alert-fingerprint.ts';
import { formatVirtualTime } from './format-virtual-time.ts';
import { clusterWrites } from './cluster-writes.ts';
import { compareExpectations, type CaseObservation, type Mismatch, type ObservedRun } from './compare-expectations.ts';
import { observedEscalations } from './escalation-receiver.ts';
import { startWebhookSink, type WebhookSink } from '../dev/webhook-sink.ts';
import { ScriptedHttpClient } from './scripted-http-client.ts';
import { AxiosHttpClient } from '../http-client/axios-http-client.ts';
import type { LoadedCase } from './load-test-file.ts';
import { ScriptedWorld, type KnownAlert } from './scripted-world.ts';
import { DEFAULT_CASE_TIMEOUT_MS, type StepOutcome, type TestAlertDoc, type TestCaseDoc } from './test-file-schema.ts';
import { startWorldServer } from './world-server.ts';
import { startKubeSim, type KubeSim } from '../sim/index.ts';

/** What every case of one test file shares. */
export interface CaseEnvironment {
  /** One Redis for the whole invocation; each case gets its own key prefix. */
  redisUrl: string;
  /** The playbooks under test (a copy, see prepare-playbooks.ts). */
  playbookDir: string;
  /** Where kube.apply reads manifests: the folder of the original playbooks. */
  manifestsDir: string;
  /** Escalation target names the playbooks use; each becomes a path of the local receiver. */
  targetNames: string[];
  log: Logger;
  /** Delete the case's Redis keys afterwards (a Redis the user gave us). */
  cleanRedis?: boolean;
}

export interface CaseResult {
  name: string;
  passed: boolean;
  /** Real time the case took. */
  durationMs: number;
  /** Virtual time the case covered, from its first alert to the end of its last run. */
  virtualMs: number;
  mismatches: Mismatch[];
  observation?: CaseObservation;
}

/** The receiver target every level pages when a playbook names none. */
export const DEFAULT_TARGET = 'remediator-test';
/**
 * How far virtual time may go for the runs of a case to end; a run still asleep beyond it is reported unfinished
 * (no playbook waits a day: approval timeouts, gate windows and backoffs are minutes).
 */
const VIRTUAL_HORIZON_MS = 24 * 3_600_000;
const WEBHOOK_TOKEN = randomBytes(16).toString('hex');
const OPERATOR_TOKEN = randomBytes(16).toString('hex');

/**
 * Runs one case through the real engine: a fresh simulated cluster (seed ai-ninja, the case's objects and faults),
 * the scripted world, a local escalation receiver, and remediator itself (receiver, BullMQ worker and guards) on
 * the shared Redis under a fresh key prefix. Alerts are posted to the webhook in order (each after the runs so far
 * ended, unless it says `wait`); the case ends when every run is final, or at its timeout. What is compared is
 * read back the way an operator would: run records from the operator API, writes from the cluster's request log,
 * pages from the receiver.
 *
 * The playbooks keep their real durations and run on a virtual clock (src/virtual-time), as `remediator replay`
 * does: the engine (gate windows, backoffs, approval timeouts), its guards and the simulated cluster's progress
 * deadlines read it, and it moves only while no step is executing and the cluster has nothing pending, straight to
 * the next run's wake-up. The escalator's own delayed jobs (resolution time, reminders) stay on BullMQ's real time and
 * do not fire within a case.
 * A gate polling every 10 s for 5 minutes polls 30 times however fast the machine is; the case `timeout` only
 * bounds the real time it may take.
 */
export async function runCase(c: LoadedCase, env: CaseEnvironment): Promise<CaseResult> {
  const started = performance.now();
  const doc = c.doc;
  const deadline = Date.now() + (doc.timeout === undefined ? DEFAULT_CASE_TIMEOUT_MS : parseDuration(doc.timeout));
  const clock = new VirtualClock();
  // Reset when the first alert is posted: the virtual time a case covers starts there.
  let caseStart = clock.now();
  const cleanups: Array<() => unknown> = [];
  const problems: string[] = [];
  const world = new ScriptedWorld(doc.world);
  let observation: CaseObservation | undefined;
  let virtualMs = 0;
  try {
    const server = await startWorldServer(() => world);
    cleanups.push(() => server.close());
    const receiver = await startWebhookSink();
    cleanups.push(() => receiver.close());
    const sim = await startSim(clock);
    cleanups.push(() => sim.close());
    const clusterProblem = await prepareCluster(sim, doc);
    if (clusterProblem) throw new CaseSetupError(clusterProblem);
    const dir = await mkdtemp(join(tmpdir(), 'remediator-test-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig, { namespace: 'ai-ninja' });

    const prefix = `rt${randomBytes(5).toString('hex')}`;
    const names = [...new Set([DEFAULT_TARGET, ...env.targetNames])];
    const config = await loadConfig({
      env: {},
      overrides: (cfg) => {
        cfg.server = { host: '127.0.0.1', port: 0 };
        cfg.redis = { url: env.redisUrl, prefix };
        cfg.auth = {
          webhook: { bearerTokens: [WEBHOOK_TOKEN] },
          operators: [{ name: 'remediator-test', token: OPERATOR_TOKEN, role: 'viewer' }],
        };
        cfg.playbooks = { dir: env.playbookDir, watch: false };
        cfg.kubernetes = { enabled: true, kubeconfig, manifestsDir: env.manifestsDir };
        cfg.prometheus = { url: server.prometheusUrl };
        cfg.alertmanager = { url: server.alertmanagerUrl };
        cfg.worker = { concurrency: 4, lockDuration: '5s', stalledInterval: '1s', shutdownGrace: '2s' };
        cfg.escalation = {
          targets: Object.fromEntries(
            names.map((n) => [n, { type: 'webhook', url: `${receiver.url}/${encodeURIComponent(n)}`, secret: 'remediator-test-secret' }]),
          ),
          // Every level pages the receiver, so what the engine escalated is observable whatever the level.
          policy: { levels: Object.fromEntries(['P0', 'P1', 'P2', 'P3'].map((l) => [l, { targets: [DEFAULT_TARGET] }])) },
          delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s', attempts: 3 },
        };
      },
    });
    const service = await startRemediator(config, {
      role: 'all',
      log: env.log,
      clock,
      random: MIDDLE_OF_JITTER,
      http: new ScriptedHttpClient(world, new AxiosHttpClient({ userAgent: 'remediator' })),
    });
    cleanups.push(() => service.close());
    if (env.cleanRedis) cleanups.push(() => deleteKeys(env.redisUrl, prefix));
    sim.requests.length = 0;

    const api = operatorApi(service);
    const runIds: string[] = [];
    const live = new Set<string>();
    const queue = service.queue;
    const settle = (until: number, jumpToUntil: boolean) =>
      settleRuns(
        {
          store: service.store,
          clock,
          live,
          queue: {
            wake: (id) => queue.wake(id),
            async job(id) {
              const job = await Job.fromId(queue.queue, id);
              return job ? { state: await job.getState(), failedReason: job.failedReason } : { state: 'missing' };
            },
          },
          // Runs the engine starts itself (a fleet's, a follow-up) are played like the ones the webhook answered.
          discover: () => service.store.newestRunIds(500),
          world: { busy: () => sim.busy, advanced: () => sim.timeMoved() },
        },
        // Looks every 5 ms: a gate polling every second for two minutes is 120 jumps, each waiting for two quiet looks.
        { until, jumpToUntil, deadline, pollMs: 5 },
      );
    // Out of real time: the runs still open are reported below, as a case that timed out.
    const settleOrTimeOut = (until: number, jumpToUntil: boolean) =>
      settle(until, jumpToUntil).catch((err: unknown) => {
        if (!isRemediatorError(err) || Date.now() <= deadline) throw err;
      });
    caseStart = clock.now();
    const startsAt = new Date(caseStart).toISOString();
    for (const [i, alert] of doc.alerts.entries()) {
      if (i > 0) {
        if (alert.wait !== undefined) await settleOrTimeOut(clock.now() + parseDuration(alert.wait), true);
        else await settleOrTimeOut(clock.now() + VIRTUAL_HORIZON_MS, false);
      }
      const payload = c.payloads.get(i) ?? payloadFor(alert, startsAt, clock.now());
      for (const a of alertsOf(payload)) if (a.status !== 'resolved') world.alerts.push(a);
      const res = await fetch(`${service.url}/v1/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
        body: JSON.stringify(payload),
      });
      const body = (await res.json().catch(() => undefined)) as
        | { alerts?: Array<{ runs?: Array<{ runId: string }> }>; message?: string }
        | undefined;
      if (!res.ok) problems.push(`alerts[${i}]: the webhook answered HTTP ${res.status}: ${body?.message ?? JSON.stringify(body)}`);
      for (const a of body?.alerts ?? [])
        for (const r of a.runs ?? [])
          if (!runIds.includes(r.runId)) {
            runIds.push(r.runId);
            live.add(r.runId);
          }
    }
    await settleOrTimeOut(clock.now() + VIRTUAL_HORIZON_MS, false);
    virtualMs = clock.now() - caseStart;

    // Every run of the case, oldest first (a retry or a waiting run is a run too), read back in full.
    const listed = (await api<{ runs: RunView[] }>('/v1/runs?limit=500')).runs.map((r) => r.id).reverse();
    const views: RunView[] = [];
    for (const id of new Set([...listed, ...runIds])) views.push(await api<RunView>(`/v1/runs/${id}`));
    views.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const v of views.filter((v) => !runSettled(v)))
      problems.push(
        Date.now() > deadline
          ? `timed out: run ${v.id} (${v.playbook}) is still ${v.status}${currentStep(v)} after ${doc.timeout ?? '60s'} (real time)`
          : `run ${v.id} (${v.playbook}) is still ${v.status}${currentStep(v)} after ${formatVirtualTime(virtualMs)} of virtual time`,
      );

    const escalated = views.some(
      (v) =>
        v.decisions.some((d) => d.reason === 'escalated') || v.state?.steps.some((s) => s.uses === 'escalate' && s.status === 'succeeded'),
    );
    await settleEscalations(receiver, escalated, deadline);
    observation = {
      runs: views.map(observeRun),
      mutations: clusterWrites(sim.requests),
      escalations: observedEscalations(receiver.events),
      worldCalls: world.calls,
      problems,
    };
  } catch (err) {
    const message =
      err instanceof CaseSetupError ? err.message : `the case could not run: ${err instanceof Error ? err.message : String(err)}`;
    observation = {
      runs: observation?.runs ?? [],
      mutations: [],
      escalations: [],
      worldCalls: world.calls,
      problems: [...problems, message],
    };
  } finally {
    for (const fn of cleanups.reverse())
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
  }
  const mismatches = compareExpectations(doc.expect, observation);
  return {
    name: c.name,
    passed: mismatches.length === 0,
    durationMs: performance.now() - started,
    virtualMs: virtualMs || clock.now() - caseStart,
    mismatches,
    observation,
  };
}

class CaseSetupError extends Error {}

/** Progress deadlines run on the case's clock; pods become Ready after 100 real ms, during which the clock stands. */
async function startSim(clock: VirtualClock): Promise<KubeSim> {
  return startKubeSim({ seed: 'ai-ninja', logRequests: true, podReadyDelayMs: 100, clock });
}

/**
 * The starting state: crashing images (before the pods settle, so a service can start out down), seed ai-ninja
 * rolled out, then the case's objects as new releases on top of it, then the faults that concern the next rollout
 * or API call. Returns a problem instead of throwing.
 */
async function prepareCluster(sim: KubeSim, doc: TestCaseDoc): Promise<string | undefined> {
  const faults = doc.cluster?.faults ?? {};
  for (const [image, mode] of Object.entries(faults.crashImages ?? {}))
    sim.faults.crashImage(image, mode as 'CrashLoopBackOff' | 'OOMKilled' | 'Error');
  // The seed rolls out first, so an object that replaces a seeded Deployment is a new release on top of it: a case
  // can start with a history to roll back through (e.g. a bad image deployed over the good one).
  await sim.settle({ timeoutMs: 10_000 });
  for (const [i, obj] of (doc.cluster?.objects ?? []).entries()) {
    try {
      const namespace = (obj.metadata as { namespace?: string }).namespace ?? 'default';
      const current = obj.kind === 'Deployment' ? sim.get('Deployment', namespace, obj.metadata.name) : undefined;
      sim.put(current ? { ...obj, metadata: { ...current.metadata, ...obj.metadata } } : obj);
    } catch (err) {
      return `cluster.objects[${i}] (${obj.kind} ${obj.metadata.name}): ${(err as Error).message}`;
    }
  }
  await sim.settle({ timeoutMs: 10_000 });
  for (const ref of faults.failRollouts ?? []) {
    const [ns, name] = ref.split('/') as [string, string];
    if (!sim.get('Deployment', ns, name)) return `cluster.faults.failRollouts: there is no Deployment ${ref} in the simulated cluster`;
    sim.faults.failRollouts(ns, name);
  }
  for (const e of faults.apiErrors ?? []) {
    sim.faults.injectErrors({
      status: e.status,
      ...(e.count ? { count: e.count } : {}),
      match: { method: e.method, pathIncludes: e.pathIncludes },
    });
  }
  return undefined;
}

/**
 * One Alertmanager v4 webhook body for a test alert, with the fingerprint Alertmanager would compute; `now` (ms) is
 * when it is sent, on the case's clock.
 */
export function payloadFor(a: TestAlertDoc, defaultStartsAt: string, now = Date.now()): Record<string, unknown> {
  const labels = a.labels ?? {};
  const annotations = a.annotations ?? {};
  const status = a.status ?? 'firing';
  const alert = {
    status,
    labels,
    annotations,
    startsAt: a.startsAt ?? defaultStartsAt,
    endsAt: a.endsAt ?? (status === 'firing' ? '0001-01-01T00:00:00Z' : new Date(now).toISOString()),
    generatorURL: a.generatorURL ?? '',
    fingerprint: alertFingerprint(labels),
  };
  const group = labels.alertname === undefined ? {} : { alertname: labels.alertname };
  return {
    version: '4',
    groupKey: `{}:{${Object.entries(group)
      .map(([k, v]) => `${k}="${v}"`)
      .join(', ')}}`,
    truncatedAlerts: 0,
    status,
    receiver: 'remediator',
    groupLabels: group,
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://alertmanager.remediator-test',
    alerts: [alert],
  };
}

function alertsOf(payload: unknown): Array<KnownAlert & { status?: string }> {
  const alerts = (payload as { alerts?: unknown }).alerts;
  if (!Array.isArray(alerts)) return [];
  return alerts.map((a: Partial<KnownAlert> & { status?: string }) => ({
    labels: a.labels ?? {},
    annotations: a.annotations ?? {},
    fingerprint: a.fingerprint ?? '',
    startsAt: a.startsAt ?? '',
    generatorURL: a.generatorURL || undefined,
    status: a.status,
  }));
}

type Api = <T>(path: string) => Promise<T>;

function operatorApi(service: Remediator): Api {
  return async <T>(path: string): Promise<T> => {
    const res = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
}

/**
 * Pages are delivered after the run records its escalation (a queue, then HTTP). When the runs escalated, wait for
 * the first page, then until no more arrive for a moment; otherwise only for that moment.
 */
async function settleEscalations(receiver: WebhookSink, expectOne: boolean, deadline: number): Promise<void> {
  const until = Math.min(deadline, Date.now() + 5_000);
  while (expectOne && observedEscalations(receiver.events).length === 0 && Date.now() < until) await sleepUntil(Date.now() + 20);
  await receiver.quiet(150, Math.max(0, until - Date.now()));
}

function observeRun(v: RunView): ObservedRun {
  const steps: Record<string, StepOutcome> = {};
  const story: string[] = [];
  for (const s of v.state?.steps ?? []) {
    steps[s.id] = s.status;
    const why = s.summary ?? s.error?.message ?? s.reason ?? '';
    story.push(`[${s.rung}] ${s.id} (${s.uses}): ${s.status}${why ? ` — ${why}` : ''}`);
  }
  return {
    id: v.id,
    playbook: v.playbook,
    status: v.status,
    rungs: (v.state?.rungs ?? []).map((r) => r.name),
    decisions: v.decisions.map((d) => d.reason),
    steps,
    story,
    ...(v.state?.outcome ? { outcome: v.state.outcome } : {}),
  };
}

function currentStep(v: RunView): string {
  const s = v.state?.steps.at(-1);
  return s && !['succeeded', 'failed', 'skipped'].includes(s.status) ? ` at step ${s.id} (${s.uses})` : '';
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
}

/** Removes one case's keys (runs, queues, escalation ledger) from a Redis the user provided. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

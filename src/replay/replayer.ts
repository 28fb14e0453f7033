import { mkdtemp, rm } from 'node:fs/promises';
import { MIDDLE_OF_JITTER } from '../engine/backoff.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load-config.ts';
import type { RawConfig } from '../config/config-schema.ts';
import { startRemediator, type Remediator } from '../main.ts';
import { silentLogger } from '../observability/logger.ts';
import { spawnRedis } from '../dev/redis-process.ts';
import { Job } from 'bullmq';
import { RemediatorError, isRemediatorError } from '../domain/errors.ts';
import { parseDuration } from '../domain/duration.ts';
import { episodeId } from '../alerts/episode.ts';
import type { ReplayStream, ReplayEntry } from './replay-stream.ts';
import type { ReplayDelivery, ReplayReport } from './replay-report.ts';
import { VirtualClock } from '../virtual-time/virtual-clock.ts';
import { settleRuns } from '../virtual-time/settle-runs.ts';
import { collectReport, alertLabel, type SimWrite } from './collect-report.ts';
import { startWebhookSink, type SinkEvent } from '../dev/webhook-sink.ts';
import { startReplayWorld, type ReplayWorld } from './replay-world.ts';
import { startKubeSim } from '../sim/index.ts';

export interface ReplayOptions {
  /** Playbooks folder; default the config's `playbooks.dir` (`playbooks`). */
  playbooksDir?: string;
  /** A remediator config file whose guards, runs and worker settings the replay uses (default: built-in defaults). */
  configFile?: string;
  /** Use this Redis (under a fresh key prefix) instead of starting a redis-server for the replay. */
  redisUrl?: string;
  /** Prometheus for playbooks with Prometheus gates (read-only queries); wins over the stream's `world.prometheus`. */
  prometheusUrl?: string;
  /** Alertmanager API for playbooks with Alertmanager gates (read-only); wins over the stream's `world.alertmanager`. */
  alertmanagerUrl?: string;
  /** Virtual time given to runs after the last delivery to end; default '1h'. Runs still waiting are reported. */
  settle?: string | number;
  /** Real time the whole replay may take; default '5m'. */
  timeout?: string | number;
  /** Engine logs (default: none). */
  log?: Logger;
  signal?: AbortSignal;
}

type Cleanup = () => Promise<void>;

/**
 * Replays a stream of Alertmanager deliveries through the real engine: a remediator (receiver and worker) on a
 * Redis of its own, the simulated cluster with the runbook's four ai-ninja Deployments, the given playbooks and the
 * guards from the config. Deliveries are posted over HTTP at their offsets on a virtual clock (entries with the same
 * offset at once); between deliveries the engine is played forward (`settleRuns`), so an hour of re-sends takes
 * seconds. Returns every delivery and decision in time order, the runs, and a summary.
 *
 * The replay never reaches real people or clusters: every escalation target of the config keeps its name and role
 * but becomes a webhook to the replay's own page sink (with none configured, one paging and one notifying target
 * are added), so pages go through the real escalator and appear in the report; Kubernetes is always the simulated
 * cluster. Prometheus and Alertmanager, when given, are only queried. A stream with a `world:` answers Prometheus,
 * the Alertmanager API and every non-loopback HTTP call (health checks) from it on loopback, as `remediator test`
 * does; the URLs given here still win for their service.
 */
export async function replay(stream: ReplayStream, options: ReplayOptions = {}): Promise<ReplayReport> {
  const cleanups: Cleanup[] = [];
  const log = options.log ?? silentLogger();
  const realStart = Date.now();
  const deadline = realStart + parseDuration(options.timeout ?? '5m');
  try {
    let redisUrl = options.redisUrl;
    if (!redisUrl) {
      const redis = await spawnRedis();
      cleanups.push(() => redis.stop());
      redisUrl = redis.url;
    }

    const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 50, logRequests: true });
    cleanups.push(() => sim.close());
    await sim.settle({ timeoutMs: 10_000 });
    const dir = await mkdtemp(join(tmpdir(), 'remediator-replay-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig, { namespace: 'ai-ninja' });
    const seedRequests = sim.requests.length;

    const clock = new VirtualClock();
    // A page's place on the timeline is the virtual time it arrived at (the clock keeps jumping afterwards).
    const arrivedAt = new Map<SinkEvent, number>();
    const sink = await startWebhookSink((e) => arrivedAt.set(e, clock.now()));
    cleanups.push(() => sink.close());

    let world: ReplayWorld | undefined;
    if (stream.world) {
      const started = await startReplayWorld(stream.world, {
        prometheusUrl: options.prometheusUrl,
        alertmanagerUrl: options.alertmanagerUrl,
      });
      cleanups.push(() => started.close());
      world = started;
    }
    const prometheusUrl = world?.prometheusUrl ?? options.prometheusUrl;
    const alertmanagerUrl = world?.alertmanagerUrl ?? options.alertmanagerUrl;

    const token = randomBytes(16).toString('hex');
    const prefix = `replay-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const config = await loadConfig({
      file: options.configFile,
      // The environment of a production shell (tokens, paging keys, a real Redis) must not leak into a replay.
      env: {},
      overrides: (c) => {
        c.server = { ...c.server, host: '127.0.0.1', port: 0 };
        c.redis = { ...c.redis, url: redisUrl, prefix };
        c.auth = { webhook: { bearerTokens: [token] }, operators: [] };
        c.playbooks = { ...c.playbooks, dir: resolve(options.playbooksDir ?? c.playbooks?.dir ?? 'playbooks'), watch: false };
        const kube = { ...c.kubernetes, enabled: true, kubeconfig };
        delete kube.context;
        delete kube.inCluster;
        c.kubernetes = kube;
        if (prometheusUrl) c.prometheus = { ...c.prometheus, url: prometheusUrl };
        if (alertmanagerUrl) c.alertmanager = { ...c.alertmanager, url: alertmanagerUrl };
        c.escalation = sinkEscalation(c.escalation, sink.url);
      },
    });

    let service: Remediator;
    try {
      service = await startRemediator(config, {
        role: 'all',
        log,
        clock,
        random: MIDDLE_OF_JITTER,
        ...(world ? { http: world.http } : {}),
      });
    } catch (err) {
      const missing =
        isRemediatorError(err) && err.code === 'REM_ERR_PLAYBOOK_INVALID'
          ? [...new Set([...err.message.matchAll(/needs (prometheus|alertmanager), which is not configured/g)].map((m) => m[1]!))]
          : [];
      if (missing.length > 0) {
        const scripted = missing.map((m) => `world.${m}`).join(' and ');
        throw new RemediatorError(
          'REM_ERR_PLAYBOOK_INVALID',
          `${(err as Error).message}\n  (give the replay one with ${missing.map((m) => `--${m}-url`).join(' and ')}, or script its answers in the stream's world: section, ${scripted}; see docs/replay.md)`,
        );
      }
      throw err;
    }
    cleanups.push(() => service.close());
    const queue = service.queue;

    const start = clock.now();
    const live = new Set<string>();
    const runIds: string[] = [];
    const episodes = new Map<string, string>();
    const deliveries: ReplayDelivery[] = [];
    const settleQueue = {
      wake: (id: string) => queue.wake(id),
      async job(id: string) {
        const job = await Job.fromId(queue.queue, id);
        return job ? { state: await job.getState(), failedReason: job.failedReason } : { state: 'missing' };
      },
    };
    const settle = (until: number, jumpToUntil = true) =>
      settleRuns({ store: service.store, queue: settleQueue, clock, live }, { until, jumpToUntil, deadline, signal: options.signal });

    for (const group of byOffset(stream.entries)) {
      await settle(start + group[0]!.atMs);
      // The scripted Alertmanager lists what was delivered (as the real one would have it) before the engine asks.
      for (const e of group) world?.delivered(e.payload);
      const posted = await Promise.all(group.map((e) => deliver(service.url!, token, e, clock.now() - start, options.signal)));
      for (const d of posted) {
        deliveries.push(d.delivery);
        for (const runId of d.started) {
          live.add(runId);
          runIds.push(runId);
        }
      }
      for (const e of group) for (const a of e.payload.alerts) episodes.set(episodeId(a.fingerprint, a.startsAt), alertLabel(a.labels));
    }
    await settle(clock.now() + parseDuration(options.settle ?? '1h'), false);
    // Pages are delivered by the escalator's own queue; give the last ones a moment to arrive.
    await sink.quiet(300, 5_000);

    const writes: SimWrite[] = sim.requests
      .slice(seedRequests)
      .map((r) => ({ method: r.method, path: r.path, status: r.status, dryRun: r.query.dryRun !== undefined }));
    return await collectReport({
      stream,
      store: service.store,
      playbooks: service.catalog.list().map((p) => p.name),
      start,
      deliveries,
      episodes,
      runIds,
      writes,
      pages: sink.events.map((p) => ({
        offsetMs: (arrivedAt.get(p) ?? p.at + clock.offset) - start,
        target: p.target,
        event: str(p.body.event),
        level: str(p.body.level),
        summary: str(p.body.summary),
      })),
      virtualMs: clock.now() - start,
      realMs: Date.now() - realStart,
      ...(world ? { world: { calls: world.calls.length, unanswered: world.unanswered() } } : {}),
    });
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err) => log.warn({ err }, 'replay cleanup failed'));
  }
}

/** Entries grouped by offset, in stream order (the loader guarantees offsets do not decrease). */
function byOffset(entries: ReplayEntry[]): ReplayEntry[][] {
  const groups: ReplayEntry[][] = [];
  for (const e of entries) {
    const last = groups.at(-1);
    if (last && last[0]!.atMs === e.atMs) last.push(e);
    else groups.push([e]);
  }
  return groups;
}

/** Posts one delivery the way Alertmanager does and returns what the receiver answered. */
async function deliver(
  url: string,
  token: string,
  e: ReplayEntry,
  offsetMs: number,
  signal: AbortSignal | undefined,
): Promise<{ delivery: ReplayDelivery; started: string[] }> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Alertmanager/0.25.0',
    authorization: `Bearer ${token}`,
    ...e.headers,
  };
  // Alertmanager cancels a webhook call after 10 s at most (docs/contracts.md §1.3).
  const timeout = AbortSignal.timeout(10_000);
  let res: Response;
  try {
    res = await fetch(`${url}/v1/alertmanager`, {
      method: 'POST',
      headers,
      body: JSON.stringify(e.payload),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (err) {
    throw new RemediatorError('REM_ERR_INTERNAL', `${e.where}: the replay's receiver did not answer: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const body = (await res.json().catch(() => ({}))) as {
    alerts?: Array<{ runs: Array<{ runId: string; decision: string }> }>;
    message?: string;
  };
  const delivery: ReplayDelivery = {
    kind: 'delivery',
    offsetMs,
    entry: e.index + 1,
    where: e.where,
    note: e.note,
    alerts: e.payload.alerts.map((a) => `${a.status} ${alertLabel(a.labels)}`),
    httpStatus: res.status,
  };
  if (!res.ok) delivery.error = body.message ?? res.statusText;
  const started = (body.alerts ?? []).flatMap((a) => a.runs.filter((r) => r.decision === 'started').map((r) => r.runId));
  return { delivery, started };
}

/**
 * The config's escalation section with every target replaced by a webhook to the sink under the same name and
 * role, so playbooks naming targets and the severity policy work unchanged.
 */
function sinkEscalation(escalation: RawConfig | undefined, sinkUrl: string): RawConfig {
  const configured = (escalation?.targets ?? {}) as Record<string, { type: string; role?: string }>;
  const roles: Record<string, 'page' | 'notify'> = Object.keys(configured).length
    ? Object.fromEntries(
        Object.entries(configured).map(([name, t]) => [
          name,
          t.role === 'page' || t.role === 'notify' ? t.role : t.type === 'pagerduty' || t.type === 'opsgenie' ? 'page' : 'notify',
        ]),
      )
    : { pager: 'page', chat: 'notify' };
  const secret = randomBytes(16).toString('hex');
  const targets = Object.fromEntries(
    Object.entries(roles).map(([name, role]) => [name, { type: 'webhook', url: `${sinkUrl}/${encodeURIComponent(name)}`, secret, role }]),
  );
  // Local deliveries: retry fast rather than on production backoffs.
  return { ...escalation, targets, delivery: { ...escalation?.delivery, backoff: '200ms', maxBackoff: '2s' } };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/config-schema.ts';
import { RemediatorError } from './domain/errors.ts';
import { parseDuration } from './domain/duration.ts';
import { StepRegistry } from './engine/step-registry.ts';
import type { StepServices } from './ports/step-services.ts';
import { actions } from './actions/index.ts';
import { gates } from './gates/index.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { HttpClient } from './ports/http-client.ts';
import { AxiosHttpClient } from './http-client/axios-http-client.ts';
import { Metrics } from './observability/metrics.ts';
import { packageVersion } from './observability/package-version.ts';
import { redisConnector } from './store/redis-connection.ts';
import { DurabilityBarrier } from './store/durability-barrier.ts';
import { FleetCorrelator } from './guards/fleet-correlator.ts';
import { KnownEpisodes } from './alerts/known-episodes.ts';
import { RunStore } from './store/run-store.ts';
import { RunWakes } from './queue/run-wakes.ts';
import { BullmqRunQueue } from './queue/bullmq-run-queue.ts';
import { RunWorker } from './queue/run-worker.ts';
import { RunStopSignals } from './queue/run-stop-signals.ts';
import { RunFence } from './queue/run-fence.ts';
import { StuckRunSweeper } from './queue/stuck-run-sweeper.ts';
import { RunCloser } from './queue/run-closer.ts';
import { TargetLock } from './guards/target-lock.ts';
import { StormBreaker } from './guards/storm-breaker.ts';
import { FixMemoryStore } from './guards/fix-memory.ts';
import { Handover } from './guards/handover.ts';
import { PlaybookCatalog } from './playbooks/playbook-catalog.ts';
import { RunCommands } from './runs/run-commands.ts';
import { RunEvents } from './store/run-events.ts';
import { Cluster } from 'ioredis';
import type { RedisClient } from './store/redis-connection.ts';
import { ConsoleSessionStore } from './store/console-session-store.ts';
import { consoleSessionSecret } from './http/console/session-secret.ts';
import { buildHealthApp } from './http/build-health-app.ts';
import { PrometheusHttpApi } from './gates/prometheus-http-api.ts';
import { AlertmanagerHttpApi } from './gates/alertmanager-http-api.ts';
import { PauseRegistry } from './guards/pause-registry.ts';
import { SafetyGuard } from './guards/safety-guard.ts';
import { guardSettings } from './guards/guards-config.ts';
import { createTargets } from './escalation/targets/index.ts';
import { DurableEscalator } from './escalation/durable-escalator.ts';
import type { CreateClusterOptions } from './kube/client-node-cluster.ts';
import { bullmqQueueFactory } from './queue/queue-factory.ts';
import { SeverityPolicy } from './escalation/severity-policy.ts';
import { LEVELS } from './escalation/incident.ts';
import { formatDuration } from './domain/duration.ts';
import { buildIncidentReport } from './runs/incident-report.ts';
import { episodeNotes, runEndNote } from './runs/episode-notes.ts';
import { resolutionWatch } from './runs/resolution-watch.ts';
import { approvalNotices, approvalTargets } from './escalation/approval-notices.ts';
import { SlackInteractions } from './escalation/slack-interactions.ts';
import { createRedactor } from './escalation/redact.ts';
import type { IncidentReport } from './escalation/incident.ts';
import { HumanTakeovers } from './runs/human-takeover.ts';
import { humanResponse } from './runs/human-response.ts';
import { responseEscalation } from './runs/response-escalation.ts';
import { planDiffPreviewer } from './runs/plan-diff.ts';
import { warRoom } from './runs/war-room.ts';
import { episodeReport } from './runs/episode-report.ts';
import { NoticeLog, noticeAnswers } from './runs/notice-log.ts';
import { CustomerNoticeFlow } from './runs/customer-notice-flow.ts';
import { resolveSecret } from './escalation/escalation-config.ts';
import type { InboundHooks } from './http/app-deps.ts';
import { pagerDutyIncidentLookup } from './escalation/inbound/pagerduty-incident-lookup.ts';
import { GitopsSuspender } from './guards/gitops-suspender.ts';
import { FINAL_STATUSES } from './engine/run-state.ts';
import { kubeReadinessDetail, type KubeReadinessOptions } from './kube/readiness-detail.ts';
import type { Playbook } from './domain/playbook.ts';
import { describeDenied, preflightSteps, type DeniedStep } from './kube/step-preflight.ts';
import { playbookPermissions, uncheckedSteps } from './kube/playbook-permissions.ts';
import type { RunView } from './store/run-record.ts';
import type { Random } from './engine/backoff.ts';
import type { SourceProblem } from './schema/yaml-source.ts';

export type Role = 'all' | 'receiver' | 'worker';

export interface StartOptions {
  role: Role;
  log: Logger;
  clock?: Clock;
  /** Listen (default true). Tests that use `inject` pass false. */
  listen?: boolean;
  /** The HTTP client of steps, gates, Prometheus and Alertmanager (default axios); `remediator test` scripts it. */
  http?: HttpClient;
  /**
   * A valid playbook that needs a service the config lacks (Prometheus, Alertmanager, escalation, Kubernetes):
   * `refuse` (default) fails the start with REM_ERR_PLAYBOOK_INVALID, as the tools (replay, test, demo) want;
   * `leave-out` runs without it and reports it in /readyz (`playbooks.detail.notInForce`) and the
   * remediator_playbooks_not_in_force gauge, as `serve` does so that a partial configuration still receives alerts.
   */
  unservable?: 'refuse' | 'leave-out';
  /**
   * The jitter source of step retry waits (default Math.random). The tools that must give the same answer every time
   * (replay, playbook tests) pass a fixed one.
   */
  random?: Random;
}

export interface Remediator {
  app?: FastifyInstance;
  /** Base URL when listening. */
  url?: string;
  catalog: PlaybookCatalog;
  store: RunStore;
  /** The run queue the service uses; the tooling (replay) wakes runs and reads jobs through it, never a second one. */
  queue: BullmqRunQueue;
  metrics: Metrics;
  /** Reloads the playbooks; a set with problems is refused whole (the problems are returned). */
  reload(): Promise<SourceProblem[]>;
  /** Graceful: stop taking work, let the step in flight finish within the grace period, close connections. */
  close(): Promise<void>;
}

/** The step registry: every action and gate of src/actions and src/gates. */
export function createRegistry(): StepRegistry {
  return new StepRegistry(actions, gates);
}

function clusterOptions(config: Config): CreateClusterOptions {
  return {
    kubeconfig: config.kubernetes.kubeconfig,
    context: config.kubernetes.context,
    inCluster: config.kubernetes.inCluster,
    requestTimeoutMs: parseDuration(config.kubernetes.requestTimeout),
    fieldManager: config.kubernetes.fieldManager,
  };
}

/**
 * What `lint --config` checks of the services without building or calling any: the Kubernetes configuration loads
 * and names a cluster. Throws REM_ERR_CONFIG_INVALID like start-up would.
 */
export async function checkServiceConfig(config: Config): Promise<void> {
  if (!config.kubernetes.enabled) return;
  const { loadKubeConfig } = await import('./kube/client-node-cluster.ts');
  loadKubeConfig(clusterOptions(config));
}

/**
 * Pre-flight for `remediator lint --config`: builds the Kubernetes client the config names and asks the API server,
 * one SelfSubjectAccessReview per distinct permission, which steps of these playbooks could not act. Throws when the
 * API server cannot be asked.
 */
export async function preflightConfig(config: Config, playbooks: readonly Playbook[], signal: AbortSignal): Promise<DeniedStep[]> {
  const { createCluster } = await import('./kube/client-node-cluster.ts');
  const kube = createCluster(clusterOptions(config));
  try {
    return await preflightSteps(kube, playbookPermissions(playbooks), signal);
  } finally {
    await kube.close();
  }
}

/**
 * The services steps may use, from config. Absent when not configured, so playbooks needing them are refused.
 * `kube` (default true): build the Kubernetes client. @kubernetes/client-node is imported here, on demand, so a
 * process that never talks to the cluster (the receiver role, `remediator lint`) does not load it (~80 MiB RSS).
 */
export async function createServices(
  config: Config,
  http: HttpClient = new AxiosHttpClient({ userAgent: 'remediator' }),
  options: { kube?: boolean } = {},
): Promise<StepServices> {
  const services: StepServices = {
    limits: {
      maxReplicas: config.kubernetes.maxReplicas,
      applyKinds: config.kubernetes.applyKinds,
      manifestsDir: resolve(config.kubernetes.manifestsDir ?? config.playbooks.dir),
      fieldManager: config.kubernetes.fieldManager,
    },
  };
  if (config.kubernetes.enabled && options.kube !== false) {
    const { createCluster } = await import('./kube/client-node-cluster.ts');
    services.kube = createCluster(clusterOptions(config));
  }
  if (config.prometheus.url) {
    services.prometheus = new PrometheusHttpApi({
      baseUrl: config.prometheus.url,
      http,
      auth: config.prometheus.bearerToken ? { type: 'bearer', token: config.prometheus.bearerToken } : undefined,
    });
  }
  if (config.alertmanager.url) {
    services.alertmanager = new AlertmanagerHttpApi({
      baseUrl: config.alertmanager.url,
      http,
      auth: config.alertmanager.bearerToken ? { type: 'bearer', token: config.alertmanager.bearerToken } : undefined,
      timeoutMs: parseDuration(config.alertmanager.timeout),
    });
  }
  return services;
}

/**
 * The step services a config enables, decided from the config alone (nothing is connected or loaded): what start-up
 * builds (createServices, plus the escalator when escalation has targets), what playbooks are checked against (so a
 * receiver, which builds no Kubernetes client, accepts the same playbooks as its workers) and what `lint --config`
 * checks against.
 */
export function servicesEnabledBy(config: Config): Set<keyof StepServices> {
  const enabled = new Set<keyof StepServices>(['limits']);
  if (config.kubernetes.enabled) enabled.add('kube');
  if (config.prometheus.url) enabled.add('prometheus');
  if (config.alertmanager.url) enabled.add('alertmanager');
  if (config.escalation && Object.keys(config.escalation.targets).length > 0) enabled.add('escalation');
  return enabled;
}

/** Refuses to start a receiver that anyone could call, unless the operator said so explicitly. */
export function checkWebhookAuth(config: Config, log: Logger): void {
  const w = config.auth.webhook;
  if (w.bearerTokens.length === 0 && !w.basic) {
    if (!w.insecure) {
      throw new RemediatorError(
        'REM_ERR_CONFIG_INVALID',
        'no webhook credentials configured: set auth.webhook.bearerTokens (env REMEDIATOR_WEBHOOK_TOKENS) or auth.webhook.basic, or set auth.webhook.insecure: true to accept unauthenticated webhooks (never in production)',
      );
    }
    log.warn(
      '!!! INSECURE: the webhook accepts requests without credentials (auth.webhook.insecure: true). Anyone who can reach this port can start playbooks.',
    );
  }
  if (config.auth.operators.length === 0)
    log.warn('no operator tokens configured (auth.operators / REMEDIATOR_OPERATOR_TOKENS): the operator API refuses every request');
}

/**
 * The composition root: config → adapters → registries → app and/or worker. Nothing else constructs adapters.
 */
export async function startRemediator(config: Config, options: StartOptions): Promise<Remediator> {
  // A start that fails half-way (playbooks refused, Redis unreachable, port taken) closes what it had opened, so the
  // caller's process can exit on its own instead of hanging on a Redis socket or a BullMQ timer.
  const opened: Array<() => unknown> = [];
  try {
    return await assemble(config, options, opened);
  } catch (err) {
    for (const close of opened.reverse()) await Promise.resolve(close()).catch(() => undefined);
    throw err;
  }
}

async function assemble(config: Config, options: StartOptions, opened: Array<() => unknown>): Promise<Remediator> {
  const { role, log } = options;
  const clock = options.clock ?? systemClock;
  if (role !== 'worker') checkWebhookAuth(config, log);

  const metrics = new Metrics({ defaultMetrics: true, build: { version: packageVersion, role } });
  let closed = false;
  // After close() starts, connections stop reconnecting, so a Redis that is gone cannot keep the process alive.
  const shouldRetry = () => !closed;
  // One factory builds every Redis connection, for standalone, Sentinel or Cluster alike; on Cluster it also
  // hash-tags the prefix so every multi-key script stays in one slot.
  const connector = redisConnector(config.redis);
  const prefix = connector.prefix(config.redis.prefix);
  const redis = connector.command(config.redis.commandTimeout, { shouldRetry });
  opened.push(() => {
    closed = true;
    redis.disconnect();
    connector.close();
  });
  const store = new RunStore(redis, prefix, {
    retentionMs: parseDuration(config.runs.maxAge),
    onDecision: (d) => {
      metrics.decisions.inc({ reason: d.reason, playbook: d.playbook ?? '' });
      approvals?.waiting(d);
    },
  });
  const connection = connector.worker({ shouldRetry });
  // The producer shares the command connection: the job a webhook queues is covered by the same WAIT as its records.
  const wakes = new RunWakes(redis, store.keys);
  const queue = new BullmqRunQueue({ connection: redis, prefix, name: store.keys.runQueue(), wakes });
  // Replicated Redis (Sentinel, Cluster): a webhook's 202 waits until replicas hold its writes. Standalone: a 202 is
  // as durable as the master's AOF setting (README, "Redis in production").
  const replicaAcks =
    connector.topology === 'standalone'
      ? undefined
      : { minReplicas: config.redis.minReplicasAcked, timeoutMs: parseDuration(config.redis.replicaAckTimeout) };
  const durability = replicaAcks && new DurabilityBarrier(redis, { ...replicaAcks, slotKey: store.keys.runs() });
  opened.push(() => queue.close());

  const http = options.http ?? new AxiosHttpClient({ userAgent: 'remediator' });
  // A receiver records alerts and never calls the cluster: it does not load the Kubernetes client.
  const services = await createServices(config, http, { kube: role !== 'receiver' });
  const pauses = new PauseRegistry(redis, store.keys);

  // Escalation: the pages carry the run's whole story, built from its record when it is sent.
  const policy = new SeverityPolicy(config.escalation?.policy);
  const reportFor = (view: RunView) => {
    const playbook = catalog.get(view.playbook);
    return buildIncidentReport(view, {
      playbook,
      level: playbook?.onExhausted.level ?? policy.levelFor(view.alert.labels),
      publicUrl: config.server.publicUrl,
      now: clock.now(),
    });
  };
  let escalator: DurableEscalator | undefined;
  // Runs waiting for approval reach the approvers (src/escalation/approval-notices.ts); set once the escalator exists.
  let approvals: ReturnType<typeof approvalNotices> | undefined;
  // What people did to an episode's incident at PagerDuty/Opsgenie: read by the response tiers and the war-room cadence.
  const takeovers = new HumanTakeovers(redis, (episodeKey) => `${store.keys.episode(episodeKey)}:human`, {
    ttlMs: parseDuration(config.runs.maxAge),
  });
  // The customer notice: drafted from the incident, sent only when an approver approves its text.
  const noticeLog = new NoticeLog(redis, (episodeKey) => `${store.keys.episode(episodeKey)}:notices`, {
    ttlMs: parseDuration(config.runs.maxAge),
  });
  // Set once the catalog exists (they build reports with the playbook); a job that comes earlier is retried.
  let responseDue: ReturnType<typeof responseEscalation> | undefined;
  let warRoomDue: ReturnType<typeof warRoom> | undefined;
  // A run outliving its level's resolution time pages once (src/runs/resolution-watch.ts); set once the catalog exists.
  let overdueWatch: ReturnType<typeof resolutionWatch> | undefined;
  if (config.escalation && servicesEnabledBy(config).has('escalation')) {
    escalator = await DurableEscalator.start({
      redis: connector,
      queues: bullmqQueueFactory,
      targetFactory: createTargets,
      http,
      policy,
      config: {
        ...config.escalation,
        delivery: {
          ...config.escalation.delivery,
          prefix: connector.prefix(config.escalation.delivery?.prefix ?? `${config.redis.prefix}-esc`),
        },
      },
      logger: log,
      clock,
      deliver: role !== 'receiver',
      // Delivered pages are taken off their chains durably too, so a failover does not send them again.
      ...(replicaAcks ? { durability: (c: RedisClient, slotKey: string) => new DurabilityBarrier(c, { ...replicaAcks, slotKey }) } : {}),
      // The run worker's lock settings: a lost pump is taken up again as soon as a lost run is.
      lockDurationMs: parseDuration(config.worker.lockDuration),
      stalledIntervalMs: parseDuration(config.worker.stalledInterval),
      observer: metrics.deliveryObserver,
      runEvents: store.keys.runEvents(),
      buildReport: async (run) => {
        const view = await store.getRun(run.id);
        if (!view) throw new RemediatorError('REM_ERR_NOT_FOUND', `no run ${run.id}`);
        return reportFor(view);
      },
      // Throwing until wired makes an early job retry (with backoff) rather than be lost.
      onOverdue: (runId, signal) => {
        if (!overdueWatch) throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', 'the resolution watch is not wired yet');
        return overdueWatch.overdue(runId, signal);
      },
      onApproval: (job, signal) => {
        if (!approvals) throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', 'the approval notices are not wired yet');
        return approvals.handle(job, signal);
      },
      onResponseDue: (due, signal) => {
        if (!responseDue) throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', 'response escalation is not wired yet');
        return responseDue(due, signal);
      },
      onWarRoom: (due, signal) => {
        if (!warRoomDue) throw new RemediatorError('REM_ERR_STORE_UNAVAILABLE', 'the war-room cadence is not wired yet');
        return warRoomDue(due, signal);
      },
    });
    services.escalation = escalator;
    const started = escalator;
    opened.push(() => started.close());
    checkTiers(policy, started.targets, log);
    const targets = approvalTargets(config.escalation);
    const unknown = targets.filter((n) => !started.targets.includes(n));
    if (unknown.length > 0)
      throw new RemediatorError(
        'REM_ERR_CONFIG_INVALID',
        `escalation.approvals.targets: unknown target(s) ${unknown.join(', ')} (configured: ${started.targets.join(', ')})`,
      );
    if (targets.length > 0) {
      approvals = approvalNotices({
        escalator: started,
        getRun: (id) => store.getRun(id),
        recordDecision: (d) => store.recordDecision(d),
        reportFor: (view) => reportFor(view),
        targets,
        unannounced: (olderThanMs, now, limit) => store.unannouncedApprovals(olderThanMs, now, limit),
        announced: (runId, at) => store.approvalAnnounced(runId, at),
        remindBeforeMs: parseDuration(config.escalation.approvals?.remindBefore ?? '5m'),
        clock,
        log: log.child({ component: 'approvals' }),
      });
    }
  }
  const registry = createRegistry();
  const catalog = new PlaybookCatalog(
    resolve(config.playbooks.dir),
    { registry, available: servicesEnabledBy(config) },
    log.child({ component: 'playbooks' }),
    {
      onRefused: () => metrics.reloadFailures.inc(),
    },
  );
  opened.push(() => catalog.close());
  const problems = await catalog.reload();
  const refused = [...problems, ...(options.unservable === 'leave-out' ? [] : catalog.unservable.flatMap((u) => u.problems))];
  if (refused.length > 0) {
    throw new RemediatorError(
      'REM_ERR_PLAYBOOK_INVALID',
      `playbooks have problems; nothing started:\n  ${refused.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n  ')}`,
    );
  }
  if (config.playbooks.watch) catalog.watch();
  const reload = async () => {
    // A refused set is counted by the catalog's onRefused, whichever path reloaded it.
    return catalog.reload();
  };

  if (escalator) {
    overdueWatch = resolutionWatch({ escalator, store, policy, reportFor, playbook: (name) => catalog.get(name), queue, clock });
    responseDue = responseEscalation({ escalator, store, policy, takeovers, reportFor, clock });
    warRoomDue = warRoom({
      escalator,
      store,
      policy,
      takeovers,
      reportFor,
      playbook: (name) => catalog.get(name),
      clock,
      ...(config.escalation?.notice
        ? {
            noticePending: async (episodeKey: string) => ['drafted', undefined].includes((await noticeLog.list(episodeKey)).at(-1)?.status),
          }
        : {}),
      ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
    });
  }
  // People taking an incident over or closing it: PagerDuty/Opsgenie acks and resolves, Slack's Take over.
  const onHumanAck = config.escalation?.inbound?.onHumanAck ?? 'stop';
  const human = humanResponse({
    store,
    queue,
    takeovers,
    clock,
    onHumanAck,
    log: log.child({ component: 'inbound' }),
    ...(escalator
      ? { closedByPeople: (episodeKey: string, signal: AbortSignal) => escalator!.closedByPeople(episodeKey, { signal }) }
      : {}),
  });
  const inbound = inboundHooks(config, { http, apply: human });
  const noticeConfig = config.escalation?.notice;
  if (noticeConfig && escalator) {
    const unknown = noticeConfig.targets.filter((n) => !escalator!.targets.includes(n));
    if (unknown.length > 0)
      throw new RemediatorError(
        'REM_ERR_CONFIG_INVALID',
        `escalation.notice.targets: ${unknown.join(', ')} not among escalation.targets (${escalator.targets.join(', ')})`,
      );
  }
  const notices =
    noticeConfig && escalator
      ? new CustomerNoticeFlow({
          store,
          escalator,
          log: noticeLog,
          reportFor,
          clock,
          config: noticeConfig,
          requireDifferentApprover: config.approvals.requireDifferentApprover,
        })
      : undefined;

  // The safety layer in front of every mutating step (src/guards/safety-guard.ts documents its order).
  // One TargetLock: the guard takes it, the run closer releases it.
  // A released lock wakes the runs waiting for it; a wake that fails leaves them to ask again after lock.retryAfter.
  const lock = config.guards.enabled
    ? new TargetLock(redis, store.keys, {
        wake: async (runIds) => {
          for (const id of runIds) {
            await queue
              .wake(id)
              .catch((err: unknown) => log.warn({ err, runId: id }, 'could not wake a run waiting for a lock; it asks again later'));
          }
        },
      })
    : undefined;
  // spec.gitops: suspend pauses Argo CD / Flux sync during a run, through the process's own Kubernetes client.
  const gitops =
    lock && services.kube
      ? new GitopsSuspender({
          redis,
          keys: store.keys,
          kube: services.kube,
          argocdNamespace: config.guards.gitops.argocdNamespace,
          fieldManager: config.kubernetes.fieldManager,
          recordDecision: async (runId, reason, message) => {
            const view = await store.getRun(runId);
            await store.recordDecision({
              at: new Date(clock.now()).toISOString(),
              reason,
              runId,
              playbook: view?.playbook,
              episodeId: view?.episodeId,
              message,
            });
          },
          runOver: async (runId) => {
            const status = await store.getStatus(runId);
            return status === undefined || FINAL_STATUSES.has(status);
          },
          log: log.child({ component: 'gitops' }),
        })
      : undefined;
  let guard: SafetyGuard | undefined;
  if (lock) {
    const settings = guardSettings(config.guards);
    guard = new SafetyGuard(settings, {
      ...(gitops ? { gitops } : {}),
      lock,
      storm: new StormBreaker(redis, store.keys, settings.storm),
      fixes: new FixMemoryStore(redis, store.keys),
      handover: new Handover(redis, store.keys),
      clock,
      pauses,
      log: log.child({ component: 'guards' }),
      // An episode a person took over (Slack's Take over, a provider's acknowledgement or resolve) is never mutated again.
      ...(config.escalation ? { takenOver: (episodeKey: string) => takeovers.stoppedBy(episodeKey, onHumanAck === 'stop') } : {}),
    });
  }
  const fence = new RunFence(redis, store.keys);
  const targetLocks = lock ? { lock, ttlMs: parseDuration(config.guards.lock.ttl) } : undefined;
  // What follows the save that ends a run, in every role: a receiver's sweeper may close a run too (run-closer.ts).
  const closer = new RunCloser(
    {
      maxDurationMs: parseDuration(config.runs.maxDuration),
      retention: { maxRecords: config.runs.maxRecords, maxAgeMs: parseDuration(config.runs.maxAge) },
    },
    {
      store,
      catalog,
      fence,
      metrics,
      clock,
      log: log.child({ component: 'runs' }),
      guard,
      targetLocks,
      ...(escalator ? { page: pageRun(escalator) } : {}),
      onFinished: async (view) => {
        // Resolve only on verified health; the escalator sends it only where a trigger went.
        // An `escalate` step with `resolve: by-hand` asked for follow-up work: its incident stays open for a person.
        if (escalator && view.status === 'succeeded' && !heldOpen(view)) await escalator.resolve(reportFor(view));
        const note = runEndNote(view);
        if (escalator && note) await escalator.update(reportFor(view), note);
      },
    },
  );
  function pageRun(e: DurableEscalator) {
    return async (runId: string, targets: string[] | undefined, reason: string) => {
      const view = await store.getRun(runId);
      if (!view) throw new RemediatorError('REM_ERR_NOT_FOUND', `no run ${runId}`);
      await e.trigger(reportFor(view), { ...(targets ? { targets } : {}), note: reason });
    };
  }

  let worker: RunWorker | undefined;
  let stops: RunStopSignals | undefined;
  if (role !== 'receiver') {
    const signals = new RunStopSignals({
      channel: store.keys.runStops(),
      connect: () => subscriberOf(redis),
      readCancel: (runId) => store.getCancel(runId),
      log: log.child({ component: 'worker' }),
    });
    opened.push(() => signals.close());
    stops = signals;
    worker = new RunWorker(
      {
        connection,
        prefix,
        queueName: store.keys.runQueue(),
        concurrency: config.worker.concurrency,
        lockDurationMs: parseDuration(config.worker.lockDuration),
        stalledIntervalMs: parseDuration(config.worker.stalledInterval),
        maxObservations: config.runs.maxObservations,
      },
      {
        store,
        catalog,
        metrics,
        clock,
        http,
        services,
        ...(options.random ? { random: options.random } : {}),
        log: log.child({ component: 'worker' }),
        guard,
        fence,
        wakes,
        targetLocks,
        closer,
        previewMutation: planDiffPreviewer({ clock }),
        stops: signals,
        ...(escalator ? { onRung: episodeNotes({ escalator, store, reportFor, watch: overdueWatch?.watch }) } : {}),
      },
    );
    worker.start();
    const started = worker;
    // Not awaited: like the worker's own connections, the subscription waits for a Redis that is away at start-up, and
    // runs taken before it is in place are checked once it is (run-stop-signals.ts).
    signals.start().catch((err: unknown) => {
      if (!closed) log.error({ err }, 'run stop signals could not subscribe: a cancel reaches a run when it is next picked up');
    });
    opened.push(() => started.close(0));
  }
  // Every role sweeps: runs recorded but never queued, overdue runs no worker holds, closings a crash cut short.
  const sweeper = new StuckRunSweeper(
    { intervalMs: parseDuration(config.runs.sweepInterval), closingGraceMs: parseDuration(config.runs.closingGrace) },
    {
      store,
      runQueue: queue,
      queue: queue.queue,
      fence,
      redis,
      closer,
      clock,
      log: log.child({ component: 'sweeper' }),
      ...(gitops ? { gitops } : {}),
      ...(approvals ? { announceApprovals: approvals.redrive } : {}),
    },
  );
  sweeper.start();
  opened.push(() => sweeper.stop());

  let app: FastifyInstance | undefined;
  let url: string | undefined;
  let runEventsClose: (() => void) | undefined;
  // Kubernetes is detail in /readyz, never a reason to be unready: the webhook works without it (src/kube/readiness-detail.ts).
  const kube = services.kube;
  const kubeCheck = kube
    ? kubeReadinessDetail(kube, () => playbookPermissions(catalog.list()), {
        onRound: preflightReporter(metrics, log.child({ component: 'preflight' })),
        unchecked: () => uncheckedSteps(catalog.list()),
      })
    : undefined;
  if (kube)
    for (const u of uncheckedSteps(catalog.list()))
      log.warn({ playbook: u.playbook, step: u.step }, `pre-flight: playbook ${u.playbook} step ${u.step} is unchecked: ${u.why}`);
  const readinessChecks = kubeCheck ? { kubernetes: kubeCheck } : undefined;
  // Pre-flight at start-up: the first round is asked now, behind start-up (a slow API server does not delay it), so
  // the log and remediator_preflight_denied name every step that could not act before any incident needs it.
  if (kubeCheck) void kubeCheck().catch((err) => log.warn({ err }, 'pre-flight could not run'));
  if (role !== 'worker') {
    const commands = new RunCommands({
      catalog,
      store,
      queue,
      clock,
      metrics,
      dryRun: config.runs.dryRun,
      requireDifferentApprover: config.approvals.requireDifferentApprover,
      humanResponse: human,
      ...(kube ? { kube } : {}),
      fieldManager: config.kubernetes.fieldManager,
    });
    const slack = escalator ? slackInteractions(config, escalator, { http, clock, log, store, reportFor }) : undefined;
    // The console's live updates: one subscriber connection per receiver, opened when a console first listens.
    const runEvents = new RunEvents(store.keys.runEvents(), () => subscriberOf(redis));
    runEventsClose = () => runEvents.close();
    const sessions = new ConsoleSessionStore(redis, store.keys, parseDuration(config.console.sessionTtl));
    const cookieKey = consoleSessionSecret(config);
    if (config.console.enabled && !cookieKey.shared)
      log.warn('console: no console.sessionSecret and no token to derive one from; sign-ins hold on this replica only');
    const consoleSessions = config.console.enabled ? { store: sessions, secret: cookieKey.secret } : undefined;
    // Imported here, not at the top: a worker never serves the API or the console, and their ~600 modules (routes,
    // schemas, the console's pages and plugins) would only add to its memory.
    const { buildApp } = await import('./http/build-app.ts');
    const built = await buildApp({
      config,
      log,
      metrics,
      store,
      queue,
      catalog,
      commands,
      clock,
      registry,
      pauses,
      reload,
      incidentReport: reportFor,
      readinessChecks,
      runEvents,
      ...(consoleSessions ? { consoleSessions } : {}),
      fleet: new FleetCorrelator(store.keys, parseDuration(config.runs.maxAge)),
      knownEpisodes: new KnownEpisodes(),
      ...(durability ? { durability } : {}),
      ...(slack ? { slack } : {}),
      ...(inbound ? { inbound } : {}),
      episodeReport: episodeReport({
        store,
        takeovers,
        reportFor,
        clock,
        notice: async (episodeKey) => lastNotice(await noticeLog.list(episodeKey)),
      }),
      ...(notices ? { notices } : {}),
      ...(escalator
        ? {
            deliveries: async (episodeKey: string) => {
              const [deliveries, human] = await Promise.all([escalator!.deliveries(episodeKey), takeovers.get(episodeKey)]);
              return { deliveries, human };
            },
          }
        : {}),
    });
    app = built;
    opened.push(() => built.close());
    opened.push(() => runEvents.close());
    if (options.listen !== false) {
      url = await app.listen({ host: config.server.host, port: config.server.port });
      log.info({ url, role }, `remediator listening on ${url}`);
    }
  }

  // A worker answers probes and scrapes on its own port (worker.healthPort) when one is configured.
  if (role === 'worker' && config.worker.healthPort !== undefined) {
    const health = await buildHealthApp({ log, metrics, store, queue, catalog, readinessChecks });
    app = health;
    opened.push(() => health.close());
    if (options.listen !== false) {
      url = await health.listen({ host: config.server.host, port: config.worker.healthPort });
      log.info({ url, role }, `worker health and metrics on ${url}`);
    }
  }

  return {
    app,
    url,
    catalog,
    store,
    queue,
    metrics,
    reload,
    async close() {
      if (closed) return;
      closed = true;
      await sweeper.stop();
      catalog.close();
      await app?.close();
      runEventsClose?.();
      await worker?.close(parseDuration(config.worker.shutdownGrace));
      stops?.close();
      await queue.close();
      await escalator?.close();
      redis.disconnect();
      connector.close();
    },
  };
}

/**
 * Slack's button clicks, when a slack-app target has a signing secret: a decision is told to the incident (an edit of
 * its message and a thread reply) through the escalator, like any update.
 */
function slackInteractions(
  config: Config,
  escalator: DurableEscalator,
  deps: { http: HttpClient; clock: Clock; log: Logger; store: RunStore; reportFor: (view: RunView) => IncidentReport },
): SlackInteractions | undefined {
  const apps = SlackInteractions.appsFrom(config.escalation?.targets ?? {});
  if (apps.length === 0) return undefined;
  return new SlackInteractions({
    apps,
    http: deps.http,
    clock: deps.clock,
    log: deps.log.child({ component: 'slack' }),
    redact: createRedactor(apps.map((a) => a.signingSecret)),
    onDecided: async (runId, note, signal) => {
      const view = await deps.store.getRun(runId);
      if (view) await escalator.update(deps.reportFor(view), note, { signal });
    },
  });
}

/**
 * Response-time tiers name configured targets: a tier the user wrote with an unknown target refuses the config; the
 * default P0 business-owner tier without its target is only warned about (each skip is recorded on the incident).
 */
function checkTiers(policy: SeverityPolicy, targets: readonly string[], log: Logger): void {
  for (const level of LEVELS) {
    for (const [i, tier] of policy.forLevel(level).tiers.entries()) {
      const unknown = tier.targets.filter((n) => !targets.includes(n));
      if (unknown.length === 0) continue;
      if (!tier.byDefault)
        throw new RemediatorError(
          'REM_ERR_CONFIG_INVALID',
          `escalation.policy.levels.${level}.tiers[${i}].targets: unknown target(s) ${unknown.join(', ')} (configured: ${targets.join(', ') || 'none'})`,
        );
      log.warn(
        { level, targets: unknown },
        `${level} incidents should tell ${unknown.join(', ')} after ${formatDuration(tier.afterMs)} (default notify tier), but no such escalation target is configured: add escalation.targets.${unknown[0]}, or set escalation.policy.levels.${level}.tiers ([] turns it off); until then each skip is recorded as response_tier_skipped`,
      );
    }
  }
}

/** The last answer to an episode's customer notice (drafts are not answers), as the incident report shows it. */
function lastNotice(records: Awaited<ReturnType<NoticeLog['list']>>): { status: string; decidedBy?: string; at?: string } | undefined {
  const last = noticeAnswers(records).at(-1);
  return last ? { status: last.status, decidedBy: last.by, at: last.at } : undefined;
}

/** The provider hooks the config asks for, with their secrets read (`env:NAME`); undefined when none is configured. */
function inboundHooks(config: Config, deps: { http: HttpClient; apply: InboundHooks['apply'] }): InboundHooks | undefined {
  const c = config.escalation?.inbound;
  if (!c?.pagerduty && !c?.opsgenie) return undefined;
  const where = 'escalation.inbound';
  return {
    ...(c.pagerduty
      ? {
          pagerduty: {
            secrets: c.pagerduty.secrets.map((v, i) => resolveSecret(v, `${where}.pagerduty.secrets[${i}]`)),
            ...(c.pagerduty.apiToken
              ? {
                  lookup: pagerDutyIncidentLookup(deps.http, {
                    apiToken: resolveSecret(c.pagerduty.apiToken, `${where}.pagerduty.apiToken`),
                    ...(c.pagerduty.apiUrl ? { url: c.pagerduty.apiUrl } : {}),
                  }),
                }
              : {}),
          },
        }
      : {}),
    ...(c.opsgenie
      ? {
          opsgenie: {
            header: c.opsgenie.header ?? 'x-remediator-token',
            token: resolveSecret(c.opsgenie.token, `${where}.opsgenie.token`),
          },
        }
      : {}),
    apply: deps.apply,
  };
}

/** Whether an `escalate` step of the run paged with `resolve: by-hand` (see src/actions/escalate.ts). */
function heldOpen(view: RunView): boolean {
  return (view.state?.steps ?? []).some(
    (s) => s.uses === 'escalate' && s.status === 'succeeded' && (s.output as { resolve?: string } | undefined)?.resolve === 'by-hand',
  );
}

/**
 * Logs each pre-flight round that changes the answer (every step that could not act, or that all are granted) and
 * keeps the `remediator_preflight_denied{playbook,step,verb,resource}` gauge to the last round that reached the API
 * server.
 */
function preflightReporter(metrics: Metrics, log: Logger): NonNullable<KubeReadinessOptions['onRound']> {
  let last: string | undefined;
  return (denied, error) => {
    if (denied === undefined) {
      const said = `error:${error?.message ?? ''}`;
      if (said !== last)
        log.warn({ err: error }, "pre-flight: the API server could not be asked whether the playbooks' steps may act; asking again later");
      last = said;
      return;
    }
    metrics.preflightDenied.reset();
    for (const d of denied) metrics.preflightDenied.set({ playbook: d.playbook, step: d.step, verb: d.verb, resource: d.resource }, 1);
    const said = JSON.stringify(denied);
    if (said === last) return;
    last = said;
    if (denied.length === 0) log.info('pre-flight: every playbook step may do what it needs');
    for (const d of denied)
      log.error(
        { code: 'REM_ERR_PREFLIGHT_DENIED', playbook: d.playbook, step: d.step, permission: d.permission, reason: d.reason },
        `pre-flight: ${describeDenied(d)}`,
      );
  };
}

/** A connection for pub/sub beside `redis` (same server or cluster): it waits for Redis rather than failing fast. */
function subscriberOf(redis: RedisClient): RedisClient {
  const options = { enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined };
  return redis instanceof Cluster ? redis.duplicate(undefined, { redisOptions: options }) : redis.duplicate(options);
}

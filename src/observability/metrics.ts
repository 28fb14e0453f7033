import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryObserver } from '../escalation/delivery-observer.ts';

export interface MetricsOptions {
  /**
   * Collect prom-client's default process and Node.js metrics (default false), under their standard names
   * (`process_*`, `nodejs_*`, no prefix) so stock Node.js dashboards find them.
   */
  defaultMetrics?: boolean;
  /** Labels of `remediator_build_info` (absent: no build info). */
  build?: { version: string; role: string };
}

/** Request durations in seconds: webhooks and API calls answer in milliseconds; a slow Redis shows at the top. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * prom-client's default metrics include three gauges whose standard names end in `_total`
 * (`nodejs_active_{handles,requests,resources}_total`). Stock Node.js dashboards query those names, and
 * `promtool check metrics` refuses a non-counter named `_total`; exposing such a gauge as `untyped` (which promtool
 * does not lint for its suffix) keeps both. Only the `# TYPE` line changes; the samples are the same.
 */
class ExpositionRegistry extends Registry {
  override async metrics(): Promise<string> {
    return (await super.metrics()).replace(/^# TYPE (\w+_total) gauge$/gm, '# TYPE $1 untyped');
  }
}

/** The service's Prometheus metrics, on one registry per process (tests build their own). */
export class Metrics {
  readonly registry: Registry = new ExpositionRegistry();
  readonly buildInfo = new Gauge({
    name: 'remediator_build_info',
    help: 'Always 1; the labels tell the version, the Node.js version and the role of this process.',
    labelNames: ['version', 'node_version', 'role'],
    registers: [this.registry],
  });
  readonly alertsReceived = new Counter({
    name: 'remediator_alerts_received_total',
    help: 'Alerts received in webhooks, by alert status.',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly webhooks = new Counter({
    name: 'remediator_webhooks_total',
    help: 'Webhook requests by HTTP status code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly httpRequests = new Histogram({
    name: 'remediator_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern (never the raw URL; "unmatched" when no route matched) and status code, with their duration; _count is the number of requests.',
    labelNames: ['method', 'route', 'code'],
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  readonly episodesStarted = new Counter({
    name: 'remediator_episodes_started_total',
    help: 'Firing episodes that started a run, by playbook.',
    labelNames: ['playbook'],
    registers: [this.registry],
  });
  readonly episodesDeduplicated = new Counter({
    name: 'remediator_episodes_deduplicated_total',
    help: 'Repeats of an episode that started no second run, by playbook.',
    labelNames: ['playbook'],
    registers: [this.registry],
  });
  readonly runs = new Counter({
    name: 'remediator_runs_total',
    help: 'Finished runs by playbook and outcome.',
    labelNames: ['playbook', 'outcome'],
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'remediator_decisions_total',
    help: 'Decisions recorded, each once, by reason code and playbook.',
    labelNames: ['reason', 'playbook'],
    registers: [this.registry],
  });
  readonly stepDuration = new Histogram({
    name: 'remediator_step_duration_seconds',
    help: 'Duration of one step call by action or gate and result.',
    labelNames: ['uses', 'result'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'remediator_queue_jobs',
    help: 'Run jobs in the queue by state.',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly playbooksLoaded = new Gauge({ name: 'remediator_playbooks_loaded', help: 'Playbooks in force.', registers: [this.registry] });
  readonly reloadFailures = new Counter({
    name: 'remediator_playbook_reload_failures_total',
    help: 'Reloads refused because a playbook had problems.',
    registers: [this.registry],
  });
  readonly escalationDeliveries = new Counter({
    name: 'remediator_escalation_deliveries_total',
    help: 'Escalation events by target and outcome: sent (a 2xx attempt), failed (an attempt answered otherwise or not at all; retried or dead-lettered), dead_lettered (given up, never delivered).',
    labelNames: ['target', 'outcome'],
    registers: [this.registry],
  });
  readonly escalationDeliveryDuration = new Histogram({
    name: 'remediator_escalation_delivery_duration_seconds',
    help: 'Duration of one attempt to deliver an escalation event, by target and outcome (sent or failed).',
    labelNames: ['target', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly redisUp = new Gauge({
    name: 'remediator_redis_up',
    help: '1 when this process reached Redis at the last scrape, else 0 (webhooks then get 503 and runs stall).',
    registers: [this.registry],
  });
  readonly playbookReloadFailing = new Gauge({
    name: 'remediator_playbook_reload_failing',
    help: '1 while the last playbook reload was refused (the previous good set stays in force), else 0.',
    registers: [this.registry],
  });
  readonly preflightDenied = new Gauge({
    name: 'remediator_preflight_denied',
    help: 'Pre-flight (SelfSubjectAccessReviews at start-up and behind /readyz): 1 per playbook step and permission the API server refused remediator, so that step could not act. Absent when all are granted.',
    labelNames: ['playbook', 'step', 'verb', 'resource'],
    registers: [this.registry],
  });
  readonly playbooksNotInForce = new Gauge({
    name: 'remediator_playbooks_not_in_force',
    help: 'Valid playbooks left out because a service they need (Prometheus, Alertmanager, escalation, Kubernetes) is not configured; 1 per playbook.',
    labelNames: ['playbook'],
    registers: [this.registry],
  });

  /** The escalation delivery pump's observer: counts attempts and dead letters, times attempts. */
  readonly deliveryObserver: DeliveryObserver = {
    attempt: (target, outcome, seconds) => {
      this.escalationDeliveries.inc({ target, outcome });
      this.escalationDeliveryDuration.observe({ target, outcome }, seconds);
    },
    deadLettered: (target) => this.escalationDeliveries.inc({ target, outcome: 'dead_lettered' }),
  };

  constructor(options: MetricsOptions = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    if (options.build) this.buildInfo.set({ version: options.build.version, node_version: process.version, role: options.build.role }, 1);
  }
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, on one registry per process (tests build their own). */
export class Metrics {
  readonly registry = new Registry();
  readonly alertsReceived = new Counter({ name: 'remediator_alerts_received_total', help: 'Alerts received in webhooks, by alert status.', labelNames: ['status'], registers: [this.registry] });
  readonly webhooks = new Counter({ name: 'remediator_webhooks_total', help: 'Webhook requests by HTTP status code.', labelNames: ['code'], registers: [this.registry] });
  readonly episodesStarted = new Counter({ name: 'remediator_episodes_started_total', help: 'Firing episodes that started a run, by playbook.', labelNames: ['playbook'], registers: [this.registry] });
  readonly episodesDeduplicated = new Counter({ name: 'remediator_episodes_deduplicated_total', help: 'Repeats of an episode that started no second run, by playbook.', labelNames: ['playbook'], registers: [this.registry] });
  readonly runs = new Counter({ name: 'remediator_runs_total', help: 'Finished runs by playbook and outcome.', labelNames: ['playbook', 'outcome'], registers: [this.registry] });
  readonly decisions = new Counter({ name: 'remediator_decisions_total', help: 'Decisions by reason code and playbook.', labelNames: ['reason', 'playbook'], registers: [this.registry] });
  readonly stepDuration = new Histogram({
    name: 'remediator_step_duration_seconds',
    help: 'Duration of one step call by action or gate and result.',
    labelNames: ['uses', 'result'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'remediator_queue_jobs', help: 'Run jobs in the queue by state.', labelNames: ['state'], registers: [this.registry] });
  readonly playbooksLoaded = new Gauge({ name: 'remediator_playbooks_loaded', help: 'Playbooks in force.', registers: [this.registry] });
  readonly reloadFailures = new Counter({ name: 'remediator_playbook_reload_failures_total', help: 'Reloads refused because a playbook had problems.', registers: [this.registry] });
  readonly redisUp = new Gauge({ name: 'remediator_redis_up', help: '1 when this process reached Redis at the last scrape, else 0 (webhooks then get 503 and runs stall).', registers: [this.registry] });
  readonly playbookReloadFailing = new Gauge({ name: 'remediator_playbook_reload_failing', help: '1 while the last playbook reload was refused (the previous good set stays in force), else 0.', registers: [this.registry] });
  readonly playbooksNotInForce = new Gauge({ name: 'remediator_playbooks_not_in_force', help: 'Valid playbooks left out because a service they need (Prometheus, Alertmanager, escalation, Kubernetes) is not configured; 1 per playbook.', labelNames: ['playbook'], registers: [this.registry] });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'remediator_' });
  }
}

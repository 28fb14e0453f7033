import { startAlertmanager, type AlertmanagerProcess } from '../alertmanager-process.ts';
import { startPrometheus, type PrometheusProcess, type PromRule, type ScrapeTarget } from '../prometheus-process.ts';
import type { DeploymentRef, PodProcesses } from './pod-processes.ts';
import { firstSample } from './first-sample.ts';
import { serviceDownRules } from './service-down-rule.ts';
import { ServiceFleet, type ServiceEndpoint, type ServiceFleetOptions } from './service-fleet.ts';

export type { ServiceEndpoint } from './service-fleet.ts';

export interface RealLoopOptions extends ServiceFleetOptions {
  /** Fast profile (tests, demo): 500 ms scrapes, 100 ms evaluations, rules `for: 1s`, Alertmanager group_wait 0s. Default true. */
  fast?: boolean;
  /** Alert rules instead of the shipped ServiceDown rule file (or its built-in equivalent). */
  rules?: PromRule[];
}

export interface AlertmanagerLink {
  /** Where Alertmanager posts (remediator's `/v1/alertmanager`). */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer` (http_config.authorization). */
  bearerToken: string;
  /** Route group_by; default `['alertname', 'namespace', 'deployment']`. */
  groupBy?: string[];
  /**
   * How many Alertmanagers Prometheus sends to. Two is an HA pair without gossip: every notification then reaches
   * remediator twice, as it does in production when deduplication over gossip loses a race. Default 1. Calling
   * `connectAlertmanager` again adds more (e.g. one with another webhook URL).
   */
  replicas?: number;
}

/**
 * The whole real loop on loopback, around a simulated cluster: a ServiceFleet (every pod of the services a real
 * process, every service a stable address), a real Prometheus scraping those addresses (one job per service,
 * named after it, with its `namespace`) and evaluating the ServiceDown rule, and once `connectAlertmanager()` is
 * called real Alertmanagers posting to remediator's webhook with a bearer token and `send_resolved`.
 *
 * Two phases because of a cycle: remediator's configuration needs Prometheus's address, and Alertmanager's needs
 * remediator's. Every process is on a free loopback port with its data in a temporary folder, and `close()` stops
 * them all by PID.
 */
export class RealLoop {
  readonly prometheus: PrometheusProcess;
  readonly alertmanagers: AlertmanagerProcess[] = [];
  readonly fleet: ServiceFleet;
  /** Where the alert rules came from: the shipped rule file's path, `built-in` or `given`. */
  readonly rulesSource: string;
  readonly #fast: boolean;

  private constructor(init: { prometheus: PrometheusProcess; fleet: ServiceFleet; fast: boolean; rulesSource: string }) {
    this.prometheus = init.prometheus;
    this.fleet = init.fleet;
    this.#fast = init.fast;
    this.rulesSource = init.rulesSource;
  }

  /**
   * Starts the fleet (call it before the pods start: right after the simulator) and Prometheus. It does not wait
   * for the first scrape: `waitUntilUp()` does.
   */
  static async start(options: RealLoopOptions): Promise<RealLoop> {
    const fast = options.fast ?? true;
    const fleet = await ServiceFleet.start(options);
    try {
      const { rules, source } = options.rules ? { rules: options.rules, source: 'given' } : await serviceDownRules({ fast });
      const scrapeTargets: ScrapeTarget[] = fleet.services().map((s) => ({
        job: s.job,
        targets: [s.instance],
        labels: { namespace: s.ref.namespace, deployment: s.ref.name, service: s.ref.name },
      }));
      const prometheus = await startPrometheus({ fast, scrapeTargets, rules });
      return new RealLoop({ prometheus, fleet, fast, rulesSource: source });
    } catch (err) {
      await fleet.close();
      throw err;
    }
  }

  get pods(): PodProcesses {
    return this.fleet.pods;
  }

  service(ref: DeploymentRef): ServiceEndpoint {
    return this.fleet.service(ref);
  }

  services(): ServiceEndpoint[] {
    return this.fleet.services();
  }

  /** Waits until Prometheus has scraped every service successfully (the first scrape comes ~5 s after start). */
  async waitUntilUp(timeoutMs = 20_000): Promise<void> {
    for (const s of this.fleet.services()) await this.prometheus.waitFor(`${s.upQuery} == 1`, timeoutMs);
  }

  /** Starts Alertmanager (or an HA pair) posting to remediator, and points Prometheus at every Alertmanager so far. */
  async connectAlertmanager(link: AlertmanagerLink): Promise<void> {
    const replicas = link.replicas ?? 1;
    for (let i = 0; i < replicas; i++) {
      this.alertmanagers.push(
        await startAlertmanager({
          webhookUrl: link.webhookUrl,
          bearerToken: link.bearerToken,
          groupBy: link.groupBy ?? ['alertname', 'namespace', 'deployment'],
          fast: this.#fast,
        }),
      );
    }
    await this.prometheus.reload({ alertmanagers: this.alertmanagers.map((a) => a.url) });
  }

  /** The outage: every process of the Deployment dies (its pods stay). Resolves with how many died. */
  kill(ref: DeploymentRef): Promise<number> {
    return this.fleet.kill(ref);
  }

  /** A dependency of the service goes down (`reason`) or comes back (undefined). */
  setDependencyDown(ref: DeploymentRef, reason: string | undefined): void {
    this.fleet.setDependencyDown(ref, reason);
  }

  /** Whether Prometheus's latest sample says the service is up (undefined: no sample yet). */
  async isUp(ref: DeploymentRef, signal?: AbortSignal): Promise<boolean | undefined> {
    const v = await firstSample(this.prometheus.url, this.service(ref).upQuery, signal);
    return v === undefined ? undefined : v === '1';
  }

  /** Stops Alertmanager, Prometheus and the fleet. Idempotent. */
  async close(): Promise<void> {
    await Promise.allSettled(this.alertmanagers.map((a) => a.stop()));
    await Promise.allSettled([this.prometheus.stop()]);
    await this.fleet.close();
  }
}

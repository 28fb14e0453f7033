import { startAlertmanager, type AlertmanagerProcess } from '../alertmanager-process.ts';
import { startPrometheus, type PrometheusProcess, type PromRule, type ScrapeTarget } from '../prometheus-process.ts';
import { PodProcesses, type DeploymentRef, type PodProcessEvent, type PodProcessesOptions, type SimulatedCluster } from './pod-processes.ts';
import { serviceDownRules } from './service-down-rule.ts';
import { startServiceProxy, type ServiceProxy } from './service-proxy.ts';

export interface RealLoopOptions {
  /** The simulated cluster whose Deployments' pods become real processes. */
  sim: SimulatedCluster;
  /**
   * The services: each is a Deployment whose pods run as real processes, and the Service of the same name (its
   * stable address, scraped by Prometheus, routed by the Service's selector).
   */
  services: DeploymentRef[];
  /** More Deployments whose pods run as real processes without a scrape job of their own (e.g. a backup a Service can be switched to). */
  extraDeployments?: DeploymentRef[];
  /** Fast profile (tests, demo): 100 ms scrapes and evaluations, rules `for: 0s`, Alertmanager group_wait 0s. Default true. */
  fast?: boolean;
  /** Alert rules instead of the shipped ServiceDown rule file (or its built-in equivalent). */
  rules?: PromRule[];
  /** Which images are bad revisions, and the readiness probe; see PodProcessesOptions. */
  isBadImage?: PodProcessesOptions['isBadImage'];
  readiness?: PodProcessesOptions['readiness'];
  /** Every pod process event (started, unready, stopped, killed), e.g. for a timeline. */
  onPodEvent?: (e: PodProcessEvent) => void;
}

export interface ServiceEndpoint {
  ref: DeploymentRef;
  /** The Service's stable address: `http://127.0.0.1:PORT`. */
  url: string;
  healthUrl: string;
  /** Prometheus's scrape job for it (the Deployment's name) and the `up` series that says whether it is up. */
  job: string;
  upQuery: string;
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
   * remediator twice, as it does in production when deduplication over gossip loses a race. Default 1.
   */
  replicas?: number;
}

/**
 * The whole real loop on loopback, around a simulated cluster: each service Deployment's pods run as real
 * stand-in processes (PodProcesses), each service has a stable address (a ServiceProxy to its Ready pods), a real
 * Prometheus scrapes those addresses and evaluates the ServiceDown rule, and once `connectAlertmanager()` is called
 * a real Alertmanager (or an HA pair) posts to remediator's webhook with a bearer token and `send_resolved`.
 *
 * Two phases because of a cycle: remediator's configuration needs Prometheus's address, and Alertmanager's needs
 * remediator's. Every process is on a free loopback port, with its data in a temporary folder, and stopped by
 * `close()` by PID.
 */
export class RealLoop {
  readonly prometheus: PrometheusProcess;
  readonly alertmanagers: AlertmanagerProcess[] = [];
  readonly pods: PodProcesses;
  /** Where the alert rules came from: the shipped rule file or `built-in`. */
  readonly rulesSource: string;
  readonly #services: Map<string, ServiceEndpoint>;
  readonly #proxies: ServiceProxy[];
  readonly #fast: boolean;

  private constructor(init: { prometheus: PrometheusProcess; pods: PodProcesses; services: Map<string, ServiceEndpoint>; proxies: ServiceProxy[]; fast: boolean; rulesSource: string }) {
    this.prometheus = init.prometheus;
    this.pods = init.pods;
    this.#services = init.services;
    this.#proxies = init.proxies;
    this.#fast = init.fast;
    this.rulesSource = init.rulesSource;
  }

  /**
   * Starts the processes of the services' current pods (call it before the pods start, e.g. right after the
   * simulator, or restart them), the Service addresses and Prometheus. It does not wait for the first scrape:
   * `waitUntilUp()` does.
   */
  static async start(options: RealLoopOptions): Promise<RealLoop> {
    const fast = options.fast ?? true;
    const pods = new PodProcesses(options.sim, { deployments: [...options.services, ...(options.extraDeployments ?? [])], isBadImage: options.isBadImage, readiness: options.readiness, onEvent: options.onPodEvent });
    const proxies: ServiceProxy[] = [];
    const services = new Map<string, ServiceEndpoint>();
    try {
      for (const ref of options.services) {
        const proxy = await startServiceProxy({ name: `${ref.namespace}/${ref.name}`, endpoints: () => pods.endpointPorts(ref) });
        proxies.push(proxy);
        services.set(key(ref), { ref, url: proxy.url, healthUrl: `${proxy.url}/health`, job: ref.name, upQuery: `up{job="${ref.name}",namespace="${ref.namespace}"}` });
      }
      const { rules, source } = options.rules ? { rules: options.rules, source: 'given' } : await serviceDownRules({ fast });
      const scrapeTargets: ScrapeTarget[] = [...services.values()].map((s) => ({
        job: s.job,
        targets: [new URL(s.url).host],
        labels: { namespace: s.ref.namespace, deployment: s.ref.name, service: s.ref.name },
      }));
      const prometheus = await startPrometheus({ fast, scrapeTargets, rules });
      return new RealLoop({ prometheus, pods, services, proxies, fast, rulesSource: source });
    } catch (err) {
      await Promise.all(proxies.map((p) => p.close()));
      await pods.close();
      throw err;
    }
  }

  /** The Service of a Deployment given to `start()`. */
  service(ref: DeploymentRef): ServiceEndpoint {
    const s = this.#services.get(key(ref));
    if (!s) throw new Error(`no service for ${key(ref)} in this loop`);
    return s;
  }

  services(): ServiceEndpoint[] {
    return [...this.#services.values()];
  }

  /** Waits until Prometheus has scraped every service successfully (the first scrape comes ~5 s after start). */
  async waitUntilUp(timeoutMs = 20_000): Promise<void> {
    for (const s of this.#services.values()) await this.prometheus.waitFor(`${s.upQuery} == 1`, timeoutMs);
  }

  /** Starts Alertmanager (or an HA pair) posting to remediator, and points Prometheus at it. */
  async connectAlertmanager(link: AlertmanagerLink): Promise<void> {
    const replicas = link.replicas ?? 1;
    for (let i = 0; i < replicas; i++) {
      this.alertmanagers.push(
        await startAlertmanager({ webhookUrl: link.webhookUrl, bearerToken: link.bearerToken, groupBy: link.groupBy ?? ['alertname', 'namespace', 'deployment'], fast: this.#fast }),
      );
    }
    await this.prometheus.reload({ alertmanagers: this.alertmanagers.map((a) => a.url) });
  }

  /** The outage: every process of the Deployment dies (its pods stay). Resolves with how many died. */
  kill(ref: DeploymentRef): Promise<number> {
    return this.pods.kill(ref);
  }

  /** A dependency of the service goes down (`reason`) or comes back (undefined); see PodProcesses.setDependencyDown. */
  setDependencyDown(ref: DeploymentRef, reason: string | undefined): void {
    this.pods.setDependencyDown(ref, reason);
  }

  /** Whether Prometheus's latest sample says the service is up (undefined: no sample yet). */
  async isUp(ref: DeploymentRef, signal?: AbortSignal): Promise<boolean | undefined> {
    const url = `${this.prometheus.url}/api/v1/query?query=${encodeURIComponent(this.service(ref).upQuery)}`;
    const res = await fetch(url, { signal: signal ?? AbortSignal.timeout(2000) });
    const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
    const v = body.data?.result?.[0]?.value[1];
    return v === undefined ? undefined : v === '1';
  }

  /** Stops Alertmanager, Prometheus, the Service addresses and every stand-in process. Idempotent. */
  async close(): Promise<void> {
    await Promise.allSettled(this.alertmanagers.map((a) => a.stop()));
    await Promise.allSettled([this.prometheus.stop(), ...this.#proxies.map((p) => p.close())]);
    await this.pods.close();
  }
}

function key(ref: DeploymentRef): string {
  return `${ref.namespace}/${ref.name}`;
}

import {
  PodProcesses,
  type DeploymentRef,
  type PodProcessEvent,
  type PodProcessesOptions,
  type SimulatedCluster,
} from './pod-processes.ts';
import { startServiceProxy, type ServiceProxy } from './service-proxy.ts';

export interface ServiceFleetOptions {
  /** The simulated cluster whose Deployments' pods become real processes. */
  sim: SimulatedCluster;
  /**
   * The services: each is a Deployment whose pods run as real processes, and the Service of the same name (its
   * stable address, routed by the Service's selector to Ready pods).
   */
  services: DeploymentRef[];
  /** More Deployments whose pods run as real processes without an address of their own (e.g. a backup a Service can be switched to). */
  extraDeployments?: DeploymentRef[];
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
  /** `127.0.0.1:PORT`: the scrape target, and so the `instance` label of its series. */
  instance: string;
  /** The scrape job for it (the Deployment's name, as the shipped ServiceDown rule expects) and its `up` series. */
  job: string;
  upQuery: string;
}

/**
 * The services of a simulated cluster as real processes on loopback: each pod of a mapped Deployment is a stand-in
 * process (PodProcesses), each service has a stable address (a ServiceProxy to the Ready pods its Service selects).
 * What a monitoring system and a health check see is real: a dead process refuses, a bad release answers 503.
 */
export class ServiceFleet {
  readonly pods: PodProcesses;
  readonly #services: Map<string, ServiceEndpoint>;
  readonly #proxies: ServiceProxy[];

  private constructor(pods: PodProcesses, services: Map<string, ServiceEndpoint>, proxies: ServiceProxy[]) {
    this.pods = pods;
    this.#services = services;
    this.#proxies = proxies;
  }

  /** Call it before the pods start (right after the simulator starts, or before a rollout): running pods get no process. */
  static async start(options: ServiceFleetOptions): Promise<ServiceFleet> {
    const pods = new PodProcesses(options.sim, {
      deployments: [...options.services, ...(options.extraDeployments ?? [])],
      isBadImage: options.isBadImage,
      readiness: options.readiness,
      onEvent: options.onPodEvent,
    });
    const proxies: ServiceProxy[] = [];
    const services = new Map<string, ServiceEndpoint>();
    try {
      for (const ref of options.services) {
        const proxy = await startServiceProxy({ name: `${ref.namespace}/${ref.name}`, endpoints: () => pods.endpointPorts(ref) });
        proxies.push(proxy);
        services.set(key(ref), {
          ref,
          url: proxy.url,
          healthUrl: `${proxy.url}/health`,
          instance: `127.0.0.1:${proxy.port}`,
          job: ref.name,
          upQuery: `up{job="${ref.name}",namespace="${ref.namespace}"}`,
        });
      }
    } catch (err) {
      await Promise.all(proxies.map((p) => p.close()));
      await pods.close();
      throw err;
    }
    return new ServiceFleet(pods, services, proxies);
  }

  /** The Service of a Deployment given to `start()`. */
  service(ref: DeploymentRef): ServiceEndpoint {
    const s = this.#services.get(key(ref));
    if (!s) throw new Error(`no service for ${key(ref)} in this fleet`);
    return s;
  }

  services(): ServiceEndpoint[] {
    return [...this.#services.values()];
  }

  /** The outage: every process of the Deployment dies (its pods stay). Resolves with how many died. */
  kill(ref: DeploymentRef): Promise<number> {
    return this.pods.kill(ref);
  }

  /** A dependency of the service goes down (`reason`) or comes back (undefined); see PodProcesses.setDependencyDown. */
  setDependencyDown(ref: DeploymentRef, reason: string | undefined): void {
    this.pods.setDependencyDown(ref, reason);
  }

  /** Stops the Service addresses and every process. Idempotent. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#proxies.map((p) => p.close()));
    await this.pods.close();
  }
}

function key(ref: DeploymentRef): string {
  return `${ref.namespace}/${ref.name}`;
}

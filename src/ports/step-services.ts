import type { Cluster } from './cluster.ts';
import type { PrometheusApi } from './prometheus-api.ts';
import type { AlertmanagerApi } from './alertmanager-api.ts';
import type { Escalator } from '../escalation/escalator.ts';

/**
 * The services a step may use, each behind a narrow interface so the engine imports no client library. A service
 * that is not configured is absent; a playbook whose steps `need` it is refused at load.
 */
export interface StepServices {
  kube?: Cluster;
  prometheus?: PrometheusApi;
  alertmanager?: AlertmanagerApi;
  escalation?: Escalator;
  /** Limits from config that actions enforce on their parameters (e.g. the global replica ceiling). */
  limits: StepLimits;
}

/** Every service, for checking playbooks on their own (lint without a config, `remediator test`, `remediator rbac`). */
export const EVERY_SERVICE: ReadonlySet<keyof StepServices> = new Set(['kube', 'prometheus', 'alertmanager', 'escalation', 'limits']);

export interface StepLimits {
  /** `kube.scale` never sets more replicas than this, whatever the playbook says. */
  maxReplicas: number;
  /** Kinds `kube.apply` may write (e.g. `NetworkPolicy`, `ConfigMap`). */
  applyKinds: string[];
  /** Folder `kube.apply` reads manifests from (the playbooks folder by default). */
  manifestsDir: string;
  /** Field manager sent with every write. */
  fieldManager: string;
}

/**
 * The narrow Kubernetes port. Actions, gates and the guard layer use this; only `client-node-cluster.ts` imports
 * @kubernetes/client-node. Every call takes an AbortSignal and fails with a classified RemediatorError
 * (REM_ERR_KUBE_NOT_FOUND / _FORBIDDEN / _CONFLICT / _UNAVAILABLE / _REJECTED).
 *
 * (Filled in by the Kubernetes work; the engine only needs the type to exist.)
 */
export interface Cluster {
  readonly description: string;
}

import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

/**
 * A kubeconfig for the simulated cluster, usable by kubectl (`--kubeconfig FILE`) and client-node
 * (`kc.loadFromFile(FILE)`). The cluster is plain http with `insecure-skip-tls-verify: true`, which client-node
 * requires before it agrees to talk http at all.
 */
export interface KubeconfigOptions {
  /** Context (and cluster/user) name; default `kube-sim`. */
  context?: string;
  /** Default namespace of the context; default none (kubectl then uses `default`). */
  namespace?: string;
}

export function kubeconfigYaml(server: string, token: string, opts: KubeconfigOptions = {}): string {
  const name = opts.context ?? 'kube-sim';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name, ...(opts.namespace ? { namespace: opts.namespace } : {}) } }],
    'current-context': name,
    preferences: {},
  });
}

export async function writeKubeconfig(path: string, server: string, token: string, opts: KubeconfigOptions = {}): Promise<void> {
  await writeFile(path, kubeconfigYaml(server, token, opts), { mode: 0o600 });
}

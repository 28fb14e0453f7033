import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createCluster, type ClientNodeCluster } from '../../src/kube/client-node-cluster.ts';
import { startKubeSim, type KubeSim, type KubeSimOptions } from '../../src/sim/index.ts';

export interface SimCluster {
  sim: KubeSim;
  kube: ClientNodeCluster;
  kubeconfig: string;
}

/**
 * A kube-sim for the current test file plus a Cluster built the production way (createCluster from a kubeconfig
 * file the sim wrote). Both are closed when the file's tests end.
 */
export async function simCluster(options: KubeSimOptions = {}): Promise<SimCluster> {
  const sim = await startKubeSim({ logRequests: true, podReadyDelayMs: 50, ...options });
  const dir = await mkdtemp(path.join(tmpdir(), 'remediator-kube-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  const kube = createCluster({ kubeconfig, requestTimeoutMs: 5_000 });
  t.teardown(async () => {
    await kube.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { sim, kube, kubeconfig };
}

/** Requests the sim saw since `from` (an index into sim.requests), without the discovery noise. */
export function requestsSince(sim: KubeSim, from: number) {
  return sim.requests.slice(from).filter((r) => !r.path.startsWith('/api?') && r.path !== '/api' && r.path !== '/apis');
}

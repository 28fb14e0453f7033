/**
 * The simulated cluster of bench/kube-latency.ts, in a process of its own: its rollouts, controllers and garbage
 * collection then never pause the process that takes the times. argv: the number of Deployments (`bench/svc-<i>`)
 * and the kubeconfig path to write. Prints one JSON line `{"url": …}` once they are rolled out; then answers each
 * `settle` line on stdin with `settled` once every rollout has finished. Closes the cluster and ends when stdin ends.
 */
import { createInterface } from 'node:readline';
import { startKubeSim, addDeployment } from '../src/sim/index.ts';

const count = Number(process.argv[2]);
const kubeconfig = process.argv[3]!;
const sim = await startKubeSim({ seed: 'empty', podReadyDelayMs: 20 });
for (let i = 0; i < count; i++) addDeployment(sim, { namespace: 'bench', name: `svc-${i}`, image: 'bench:1', replicas: 1 });
await sim.settle({ timeoutMs: 120_000 });
await sim.writeKubeconfig(kubeconfig, { scheme: 'http', namespace: 'bench' });
process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'settle') continue;
  await sim.settle({ timeoutMs: 30_000 });
  process.stdout.write('settled\n');
}
await sim.close();

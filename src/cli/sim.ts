import { startKubeSim } from '../sim/index.ts';

/**
 * `remediator sim`: the simulated cluster (src/sim, the strict fake API server the tests also use) with the
 * runbook's ai-ninja Deployments, until Ctrl-C. Point kubectl or remediator (`kubernetes.kubeconfig`) at it.
 */
export async function simCommand(opts: { port?: string; kubeconfig: string }): Promise<void> {
  const sim = await startKubeSim({ seed: 'ai-ninja', port: opts.port ? Number(opts.port) : undefined, podReadyDelayMs: 1000 });
  await sim.writeKubeconfig(opts.kubeconfig, { namespace: 'ai-ninja' });
  await sim.settle();
  console.log(`simulated cluster on ${sim.tlsUrl} (and ${sim.url}); kubeconfig written to ${opts.kubeconfig}`);
  console.log(`  kubectl --kubeconfig ${opts.kubeconfig} get deployments,pods`);
  console.log(`  KUBECONFIG_PATH=${opts.kubeconfig} npx remediator serve`);
  const stop = async () => {
    await sim.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

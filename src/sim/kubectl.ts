import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { KubeSim } from './index.ts';

/**
 * Runs the real kubectl against a kube-sim through a kubeconfig in a private temp dir. HOME and the gcloud config
 * dir point there too, so nothing from the machine's ~/.kube or gcloud setup leaks in.
 */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectlAvailable(): boolean {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0;
}

export interface Kubectl {
  (args: string[], options?: { timeoutMs?: number }): Promise<KubectlResult>;
  kubeconfig: string;
  cleanup(): Promise<void>;
}

export async function kubectlFor(sim: KubeSim, namespace = 'default'): Promise<Kubectl> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-sim-kubectl-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig, { namespace });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    CLOUDSDK_CONFIG: join(dir, 'gcloud'),
    KUBECONFIG: kubeconfig,
    TZ: 'UTC',
  };
  const run = ((args: string[], options: { timeoutMs?: number } = {}) =>
    new Promise<KubectlResult>((resolve) => {
      execFile(
        'kubectl',
        ['--kubeconfig', kubeconfig, '--request-timeout=10s', ...args],
        { env, timeout: options.timeoutMs ?? 30_000, encoding: 'utf8' },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    })) as Kubectl;
  run.kubeconfig = kubeconfig;
  run.cleanup = () => rm(dir, { recursive: true, force: true });
  return run;
}

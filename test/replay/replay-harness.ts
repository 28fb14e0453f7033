import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shipped streams. */
export const REPLAYS = fileURLToPath(new URL('../fixtures/replays/', import.meta.url));

/**
 * A two-rung ServiceDown ladder of the test's own (the shipped playbooks change under other work): restart and wait
 * for the rollout, then scale up. Only the simulated cluster is needed.
 */
export const RESTART_THEN_SCALE = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: restart-then-scale }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"', 'namespace="ai-ninja"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  rungs:
    - name: restart
      steps:
        - id: restart
          action: kube.rolloutRestart
          with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
        - id: rollout
          gate: kube.rolloutStatus
          with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
          interval: 1s
          timeout: 60s
    - name: scale-up
      steps:
        - id: scale
          action: kube.scale
          with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", replicas: 3 }
`;

/** A folder with the given files, removed when the test file ends. */
export async function tempDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-replay-test-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The shipped playbooks, as `remediator replay` loads them by default. */
export const SHIPPED_PLAYBOOKS = fileURLToPath(new URL('../../playbooks/', import.meta.url));

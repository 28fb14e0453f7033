import type { Playbook } from '../domain/playbook.ts';
import type { PlaybookDoc } from '../domain/playbook-schema.ts';
import { revertRunAction } from '../actions/revert-run.ts';

/**
 * The built-in playbook a revert run (POST /v1/runs/:id/revert) follows. Its name is not a valid playbook name
 * (playbook names are DNS-1123 labels, without dots), so no playbook file can take it; it has no triggers, so no
 * alert matches it, and it is not listed with the loaded playbooks. The catalog answers it by name so the worker, the
 * closer and the sweeper handle a revert run like any other.
 *
 * One step, `remediator.revert`, with the run's recorded changes as params (`params.revertOf`, `params.changes`,
 * set by RunCommands.revert from the plan the operator saw). It mutates, so every object passes the safety guard
 * (scope, GitOps ownership, the per-object lock; as a run an operator started, no budget or storm count). A failed
 * or refused revert ends the run `failed` and is not retried: the operator looks and asks again.
 */
export const REVERT_PLAYBOOK_NAME = 'remediator.revert';

/**
 * The revert of a run acts on GitOps-owned objects as that run's playbook did (spec.gitops): `remediator.revert`
 * refuses them, `remediator.revert.allow` and `remediator.revert.suspend` follow `allow` and `suspend`.
 */
export function revertPlaybookName(gitops: Playbook['gitops']): string {
  return gitops === 'refuse' ? REVERT_PLAYBOOK_NAME : `${REVERT_PLAYBOOK_NAME}.${gitops}`;
}

/** The built-in revert playbook of that name, or undefined. */
export function builtinRevertPlaybook(name: string): Playbook | undefined {
  if (name === REVERT_PLAYBOOK_NAME) return revertPlaybook;
  for (const gitops of ['allow', 'suspend'] as const) if (name === revertPlaybookName(gitops)) return variants[gitops];
  return undefined;
}

const doc = {
  apiVersion: 'remediator.io/v1',
  kind: 'Playbook',
  metadata: { name: REVERT_PLAYBOOK_NAME, description: 'Put back what a finished run changed (POST /v1/runs/:id/revert).' },
  spec: {
    triggers: [],
    steps: [{ id: 'revert', action: revertRunAction.name, with: { of: '{{ params.revertOf }}', changes: '{{ params.changes }}' } }],
  },
} as unknown as PlaybookDoc;

export const revertPlaybook: Playbook = {
  name: REVERT_PLAYBOOK_NAME,
  description: 'Put back what a finished run changed.',
  file: '(built in)',
  priority: 0,
  stop: false,
  dryRun: false,
  triggers: [],
  params: {},
  rungs: [
    {
      name: 'revert',
      steps: [
        {
          id: 'revert',
          kind: 'action',
          uses: revertRunAction.name,
          definition: revertRunAction,
          with: { of: '{{ params.revertOf }}', changes: '{{ params.changes }}' },
          onFailure: 'abort',
          attemptTimeoutMs: 60_000,
          deadlineMs: 60_000,
          deadlineExplicit: false,
          retry: { attempts: 1, backoffMs: 0, factor: 1, maxBackoffMs: 0 },
          mutating: true,
        },
      ],
    },
  ],
  onExhausted: { escalate: false },
  onResolved: 'continue',
  concurrency: 'wait',
  gitops: 'refuse',
  mutating: true,
  doc,
};

const variants = {
  allow: { ...revertPlaybook, name: revertPlaybookName('allow'), gitops: 'allow' },
  suspend: { ...revertPlaybook, name: revertPlaybookName('suspend'), gitops: 'suspend' },
} satisfies Record<string, Playbook>;

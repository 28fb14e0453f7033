import type { Matcher } from './matcher.ts';
import type { PlaybookDoc, WhenDoc } from './playbook-schema.ts';
import type { StepDefinition } from '../engine/step-definition.ts';
import type { RetryPolicy } from '../engine/backoff.ts';

/** A playbook after loading: validated, matchers parsed, defaults applied, durations in milliseconds. */
export interface Playbook {
  name: string;
  description?: string;
  owner?: string;
  runbookUrl?: string;
  file: string;
  priority: number;
  stop: boolean;
  dryRun: boolean;
  triggers: Array<{ matchers: Matcher[]; status: 'firing' | 'resolved' | 'any' }>;
  target?: { namespace?: string; kind: string; name: string };
  params: Record<string, unknown>;
  rungs: Rung[];
  onExhausted: { escalate: boolean; level?: 'P0' | 'P1' | 'P2' | 'P3'; targets?: string[] };
  onResolved: 'continue' | 'skip-waits';
  /** When another run holds the target: wait for it, or end as skipped. */
  concurrency: 'wait' | 'skip';
  /** Overrides of the config's per-target budget (ms). */
  budget?: { runs?: number; windowMs?: number; cooldownMs?: number };
  /** Objects owned by Argo CD or Flux: refuse (default), allow, or suspend the owner's auto-sync during the run. */
  gitops: 'refuse' | 'allow' | 'suspend';
  /** Correlated incidents (spec.fleet): several services of one namespace down within `windowMs` get one run. */
  fleet?: { by: string; namespaceLabel: string; min: number; windowMs: number; holdMs: number };
  /** Whether any step mutates (the guard layer and dry-run apply). */
  mutating: boolean;
  /** The document as written, for GET /v1/playbooks/:name. */
  doc: PlaybookDoc;
}

export interface Rung {
  name: string;
  description?: string;
  steps: Step[];
}

export interface Step {
  id: string;
  name?: string;
  kind: 'action' | 'gate';
  /** The action or gate name. */
  uses: string;
  definition: StepDefinition;
  /** Parameters as written (templates unrendered). */
  with: Record<string, unknown>;
  when?: CompiledWhen;
  onFailure: string;
  /** Action: one attempt. Gate: one poll. */
  attemptTimeoutMs: number;
  /** Action: all attempts together. Gate: time to pass. */
  deadlineMs: number;
  /** The playbook set `deadline` itself (a pending action, e.g. `wait`, is bounded only then). */
  deadlineExplicit: boolean;
  /** Actions: the retry policy (src/engine/backoff.ts). Gates: one attempt per poll. */
  retry: RetryPolicy;
  gate?: { intervalMs: number; successes: number };
  approval?: { timeoutMs: number };
  mutating: boolean;
}

export interface CompiledWhen {
  steps?: Record<string, Array<'succeeded' | 'failed' | 'skipped'>>;
  alert?: Matcher[];
  dryRun?: boolean;
  doc: WhenDoc;
}

export function allSteps(p: Playbook): Array<{ rung: number; index: number; step: Step }> {
  return p.rungs.flatMap((r, rung) => r.steps.map((step, index) => ({ rung, index, step })));
}

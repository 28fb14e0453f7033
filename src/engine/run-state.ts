import type { Observation, RecordedChange } from './step-definition.ts';

/**
 * The state of one run: the cursor the worker saves in the run record after every step (BullMQ's step-job pattern,
 * the job holding only the run id) and the history operators see. It is plain JSON.
 *
 * Status meanings:
 * - queued: recorded, not picked up yet; running: a step is executing; waiting: sleeping until a retry, a poll or
 *   a `wait` ends; awaiting_approval: a step's plan waits for an operator.
 * - succeeded: the last rung's actions ran AND its verification gates passed. Nothing else is called success.
 * - completed: every step ran but the rung had no gate, so nothing verified the fix.
 * - failed: the ladder is exhausted (and escalation, if configured, was asked for) or a step aborted the run.
 * - escalated: the run handed over to a human (ladder exhausted, a step said escalate, or a guard refused).
 * - cancelled: an operator cancelled it. skipped: a guard decided the run must not act at all.
 */
export type RunStatus =
  | 'queued'
  | 'running'
  | 'waiting'
  | 'awaiting_approval'
  | 'succeeded'
  | 'completed'
  | 'failed'
  | 'escalated'
  | 'cancelled'
  | 'skipped';

export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'completed', 'failed', 'escalated', 'cancelled', 'skipped']);

export type StepStatus = 'running' | 'pending' | 'succeeded' | 'failed' | 'skipped';

export interface StepError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface StepRecord {
  id: string;
  rung: string;
  uses: string;
  kind: 'action' | 'gate';
  status: StepStatus;
  startedAt: string;
  endedAt?: string;
  attempts: number;
  summary?: string;
  output?: unknown;
  error?: StepError;
  /** Why it was skipped (a `when` that did not hold, a guard decision, a dry run). */
  reason?: string;
  /** Gate polls: the first few and the most recent, bounded. */
  observations?: Array<Observation & { at: string }>;
  polls?: number;
}

export interface RungRecord {
  name: string;
  outcome: 'running' | 'succeeded' | 'failed';
  reason?: string;
  startedAt: string;
  endedAt?: string;
}

export interface RunState {
  version: 1;
  status: RunStatus;
  /** The step to run next (or being run). */
  cursor: { rung: number; step: number };
  /** Attempts made on the current step (actions) — reset when the cursor moves. */
  attempt: number;
  /** When the current step first started (ms), for its deadline. */
  stepStartedAt?: number;
  /** The extension's own scratch between calls (a `pending` state, a gate's pinned revision). */
  stepState?: unknown;
  gate?: { consecutive: number; polls: number };
  /** Outputs of finished steps by id, for templates (`{{ steps.undo.revision }}`). */
  outputs: Record<string, unknown>;
  changes: RecordedChange[];
  steps: StepRecord[];
  rungs: RungRecord[];
  /** A gate passed in the current rung. */
  verified: boolean;
  /** Ms when the worker should look at the run again (waiting / awaiting_approval). */
  wakeAt?: number;
  /**
   * Any wake ends this wait at once: the run waits for a target's lock, and the release that frees it wakes the run.
   * Other waits (a gate's interval, a `wait` step, an approval window) last until `wakeAt` unless their answer came.
   */
  wakeEarly?: boolean;
  /** The alert's resolve already made a waiting gate check early (`onResolved: skip-waits`, once per run). */
  resolveCutWait?: boolean;
  startedAt?: string;
  endedAt?: string;
  /** One line: why the run ended as it did. */
  outcome?: string;
  escalation?: { reason: string; at: string; level?: string };
  /** The plan a step waits to have approved (exactly what it will apply), and until when. */
  approval?: PendingApproval;
}

export interface PendingApproval {
  stepId: string;
  /** sha256 of the plan; an approval applies to this hash only. */
  planHash: string;
  plan: { step: string; uses: string; params: unknown; target?: unknown; dryRun: boolean };
  requestedAt: string;
  expiresAt: string;
  /**
   * What the plan would change in the objects, from a dry run of the step when approval was first asked. Shown
   * beside the plan; not part of its hash (the objects may change before the step runs, and it re-reads them then).
   */
  diff?: PlanDiff;
}

/** The objects a dry run of a mutating step would change, field by field. No Secret value is ever in it. */
export interface PlanDiff {
  /** When the live objects were read. */
  at: string;
  objects: ObjectDiff[];
  /** Why no diff could be made (the dry run failed, no cluster to read); `objects` is then empty. */
  error?: string;
}

export interface ObjectDiff {
  /** `namespace/Kind/name` (`Kind/name` for a cluster-scoped object), with ` (scale)` for the Scale subresource. */
  object: string;
  change: 'modified' | 'created' | 'deleted' | 'unchanged';
  fields: FieldChange[];
  /** Changed fields left out of `fields` to keep the record small. */
  more?: number;
}

/** One leaf field: `spec.replicas` 2 → 4. An absent side means the field is absent there. */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
  /** The values are a Secret's and are not shown. */
  hidden?: boolean;
}

/** What an operator said about a plan (stored beside the run, read by the worker on wake). */
export interface ApprovalDecision {
  stepId: string;
  planHash: string;
  verdict: 'approved' | 'rejected';
  by: string;
  reason: string;
  at: string;
}

export function initialRunState(): RunState {
  return {
    version: 1,
    status: 'queued',
    cursor: { rung: 0, step: 0 },
    attempt: 0,
    outputs: {},
    changes: [],
    steps: [],
    rungs: [],
    verified: false,
  };
}

import type { DecisionReason } from '../engine/decision.ts';
import type { RunStatus } from '../engine/run-state.ts';

/** One delivery as it was posted and answered. */
export interface ReplayDelivery {
  kind: 'delivery';
  /** Virtual ms since the start of the replay when it was posted. */
  offsetMs: number;
  /** 1-based entry number and its `file:line`. */
  entry: number;
  where: string;
  note?: string;
  /** `firing`/`resolved` per alert, e.g. "firing ServiceDown ai-ninja/phone-gateway". */
  alerts: string[];
  httpStatus: number;
  /** The receiver's error message when it did not accept the delivery. */
  error?: string;
}

/** One decision the engine recorded, as `remediator replay` prints it. */
export interface ReplayDecision {
  kind: 'decision';
  offsetMs: number;
  at: string;
  /** alertname and namespace/deployment (or service, instance) of the episode the decision is about. */
  alert: string;
  episodeId?: string;
  playbook?: string;
  reason: DecisionReason;
  message: string;
  runId?: string;
}

export interface ReplayRun {
  id: string;
  playbook: string;
  alert: string;
  status: RunStatus;
  outcome?: string;
  /** Steps that ran, as `rung/step: status`. */
  steps: string[];
  /** Changes the run recorded (what it could undo). */
  changes: number;
}

/** A page the escalator delivered (to the replay's sink, never to the real target). */
export interface ReplayPageSent {
  offsetMs: number;
  /** The configured target name. */
  target: string;
  event?: string;
  level?: string;
  summary?: string;
}

/** A call to the stream's scripted world that nothing in its `world:` answers (folded: one row per distinct call). */
export interface ReplayUnansweredCall {
  service: 'prometheus' | 'http' | 'alertmanager';
  /** The PromQL expression, `GET http://svc/health`, or `GET /api/v2/alerts <filters>`. */
  call: string;
  /** How many times it was made. */
  count: number;
}

export interface ReplaySummary {
  deliveries: number;
  /** Deliveries the receiver did not answer 2xx. */
  refusedDeliveries: number;
  runsStarted: number;
  deduplicated: number;
  unmatched: number;
  resolved: number;
  /** Writes the simulated API server accepted (not GETs, not dry runs). */
  mutations: number;
  mutationsByTarget: Record<string, number>;
  /** Runs that handed over to a human. */
  escalations: number;
  /** Pages and notifications the escalator delivered (to the replay's sink). */
  pagesSent: number;
  /** Every decision reason and how often it was recorded. */
  byReason: Partial<Record<DecisionReason, number>>;
  /** Runs by final status; runs still waiting when the replay stopped appear under their live status. */
  runsByStatus: Partial<Record<RunStatus, number>>;
  /** Virtual time the replay covered (ms) and the real time it took (ms). */
  virtualMs: number;
  realMs: number;
  /** Calls to the stream's `world:` nothing answered (every one, not folded); 0 without a world. */
  unansweredWorldCalls: number;
}

export interface ReplayReport {
  stream: { file: string; name: string; description?: string; entries: number };
  playbooks: string[];
  startedAt: string;
  /** Deliveries and decisions in time order (a delivery before the decisions it caused at the same instant). */
  timeline: Array<ReplayDelivery | ReplayDecision>;
  runs: ReplayRun[];
  pages: ReplayPageSent[];
  /** Present when the stream has a `world:`: how many calls it received and the ones it had no answer for. */
  world?: { calls: number; unanswered: ReplayUnansweredCall[] };
  summary: ReplaySummary;
}

import type { RunStore } from '../store/run-store.ts';
import type { DecisionReason } from '../engine/decision.ts';
import type { RunStatus } from '../engine/run-state.ts';
import type { ReplayStream } from './replay-stream.ts';
import type { ReplayDecision, ReplayDelivery, ReplayPageSent, ReplayReport, ReplayRun, ReplayUnansweredCall } from './replay-report.ts';

/** A request the simulated API server answered, as the report counts it. */
export interface SimWrite {
  method: string;
  path: string;
  status?: number;
  dryRun: boolean;
}

export interface CollectInput {
  stream: ReplayStream;
  store: RunStore;
  playbooks: string[];
  /** Virtual ms since the epoch at which the replay started. */
  start: number;
  deliveries: ReplayDelivery[];
  /** Every episode the stream touched, with the alert label to print. */
  episodes: Map<string, string>;
  runIds: string[];
  writes: SimWrite[];
  pages: ReplayPageSent[];
  virtualMs: number;
  realMs: number;
  /** The stream's scripted world, when it has one: calls received and the unanswered ones. */
  world?: { calls: number; unanswered: ReplayUnansweredCall[] };
}

/** `ServiceDown ai-ninja/phone-gateway`: the alert name and where it is, as the decision lines show it. */
export function alertLabel(labels: Record<string, string>): string {
  const name = labels.alertname ?? 'alert';
  const where = [labels.namespace, labels.deployment ?? labels.service ?? labels.instance].filter(Boolean).join('/');
  return where ? `${name} ${where}` : name;
}

/**
 * Reads back what the engine decided (each episode's decision list, which also holds its runs' decisions) and
 * builds the report: one time-ordered timeline, the runs, and the summary.
 */
export async function collectReport(input: CollectInput): Promise<ReplayReport> {
  const { store, start } = input;
  const decisions: ReplayDecision[] = [];
  for (const [ep, alert] of input.episodes) {
    for (const d of await store.episodeDecisions(ep)) {
      decisions.push({
        kind: 'decision',
        offsetMs: Date.parse(d.at) - start,
        at: d.at,
        alert,
        episodeId: ep,
        playbook: d.playbook,
        reason: d.reason,
        message: d.message,
        runId: d.runId,
      });
    }
  }
  // A fleet run has an episode of its own (it handles several alerts): its decisions are read from there.
  const seen = new Set([...input.episodes].map(([ep]) => ep));
  for (const id of input.runIds) {
    const view = await store.getRun(id);
    const ep = view?.episodeId;
    if (!view || ep === undefined || seen.has(ep)) continue;
    seen.add(ep);
    const alert = alertLabel(view.alert.labels);
    for (const d of await store.episodeDecisions(ep)) {
      decisions.push({
        kind: 'decision',
        offsetMs: Date.parse(d.at) - start,
        at: d.at,
        alert,
        episodeId: ep,
        playbook: d.playbook,
        reason: d.reason,
        message: d.message,
        runId: d.runId,
      });
    }
  }
  // Stable: decisions of one episode keep their recorded order; a delivery comes before what it caused.
  const timeline = [...input.deliveries, ...decisions].sort((a, b) => a.offsetMs - b.offsetMs || rank(a) - rank(b));

  const runs: ReplayRun[] = [];
  for (const id of input.runIds) {
    const view = await store.getRun(id);
    if (!view) continue;
    runs.push({
      id,
      playbook: view.playbook,
      alert: alertLabel(view.alert.labels),
      status: view.status,
      outcome: view.state?.outcome,
      steps: (view.state?.steps ?? []).map((s) => `${s.rung}/${s.id}: ${s.status}`),
      changes: view.state?.changes.length ?? 0,
    });
  }

  const byReason: Partial<Record<DecisionReason, number>> = {};
  for (const d of decisions) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
  const runsByStatus: Partial<Record<RunStatus, number>> = {};
  for (const r of runs) runsByStatus[r.status] = (runsByStatus[r.status] ?? 0) + 1;
  const mutationsByTarget: Record<string, number> = {};
  for (const w of input.writes) {
    const target = mutationTarget(w);
    if (target) mutationsByTarget[target] = (mutationsByTarget[target] ?? 0) + 1;
  }

  return {
    stream: {
      file: input.stream.file,
      name: input.stream.name,
      description: input.stream.description,
      entries: input.stream.entries.length,
    },
    playbooks: input.playbooks,
    startedAt: new Date(start).toISOString(),
    timeline,
    runs,
    pages: input.pages,
    ...(input.world ? { world: input.world } : {}),
    summary: {
      deliveries: input.deliveries.length,
      refusedDeliveries: input.deliveries.filter((d) => d.httpStatus < 200 || d.httpStatus > 299).length,
      runsStarted: byReason.started ?? 0,
      deduplicated: byReason.deduplicated ?? 0,
      unmatched: byReason.unmatched ?? 0,
      resolved: byReason.resolved ?? 0,
      mutations: Object.values(mutationsByTarget).reduce((a, b) => a + b, 0),
      mutationsByTarget,
      escalations: new Set(decisions.filter((d) => d.reason === 'escalated').map((d) => d.runId ?? d.episodeId)).size,
      pagesSent: input.pages.length,
      byReason,
      runsByStatus,
      virtualMs: input.virtualMs,
      realMs: input.realMs,
      unansweredWorldCalls: (input.world?.unanswered ?? []).reduce((n, c) => n + c.count, 0),
    },
  };
}

function rank(e: ReplayDelivery | ReplayDecision): number {
  return e.kind === 'delivery' ? 0 : 1;
}

/**
 * `namespace/resource/name` for a write the API server accepted; undefined for reads, refusals, dry runs, access
 * reviews and Events (the record an action leaves of what it did, not a change to a workload).
 */
function mutationTarget(w: SimWrite): string | undefined {
  if (
    w.method === 'GET' ||
    w.dryRun ||
    (w.status ?? 0) >= 300 ||
    w.path.includes('/authorization.k8s.io/') ||
    /\/events(\/|$)/.test(w.path)
  )
    return undefined;
  const m = /\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)/.exec(w.path);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : w.path;
}

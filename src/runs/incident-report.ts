import type { RunView } from '../store/run-record.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { IncidentApproval, IncidentReport, Level, TimelineEntry } from '../escalation/incident.ts';
import type { PendingApproval } from '../engine/run-state.ts';
import { runEpisodeId } from '../alerts/episode.ts';
import { etaText, remainingRungs } from './remaining-time.ts';

/**
 * The story of a run as pages, Slack messages and the post-incident timeline tell it: the alert, the snapshot taken
 * before acting, each rung with ✓/✗ and why, every action and gate with its time, decisions and escalations.
 */
export function buildIncidentReport(
  run: RunView,
  options: { playbook?: Playbook; level: Level; publicUrl?: string; now?: number },
): IncidentReport {
  const { alert } = run;
  const state = run.state;
  const name = alert.labels.alertname ?? run.playbook;
  const timeline: TimelineEntry[] = [
    { at: alert.startsAt, kind: 'alert', text: `${name} fired${alert.labels.namespace ? ` in ${alert.labels.namespace}` : ''}` },
  ];
  for (const d of run.decisions) {
    const kind = d.reason === 'escalated' ? 'escalation' : d.reason === 'resolved' ? 'recovery' : 'decision';
    timeline.push({ at: d.at, kind, text: `${d.reason}: ${d.message}` });
  }
  for (const s of state?.steps ?? []) {
    const ended = s.status === 'succeeded' || s.status === 'failed' || s.status === 'skipped';
    const text = `${s.kind === 'gate' ? 'verify' : 'action'} ${s.id} (${s.uses}): ${s.status}${s.summary ? ` — ${s.summary}` : ''}${s.error ? ` — ${s.error.message}` : ''}${s.reason ? ` — ${s.reason}` : ''}`;
    timeline.push({
      at: s.endedAt ?? s.startedAt,
      kind: s.kind === 'gate' ? 'gate' : 'action',
      text,
      ...(ended && s.status !== 'skipped' ? { ok: s.status === 'succeeded' } : {}),
    });
  }
  timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  const tried = new Map((state?.rungs ?? []).map((r) => [r.name, r]));
  const rungNames = options.playbook ? options.playbook.rungs.map((r) => r.name) : [...tried.keys()];
  const rungs = rungNames.map((rungName) => {
    const r = tried.get(rungName);
    if (!r) return { name: rungName, outcome: 'pending' as const };
    return {
      name: rungName,
      outcome: r.outcome,
      ...(r.reason ? { reason: r.reason } : {}),
      startedAt: r.startedAt,
      ...(r.endedAt ? { endedAt: r.endedAt } : {}),
    };
  });
  const snapshotStep = state?.steps.find((s) => s.uses === 'kube.snapshot' && s.status === 'succeeded');
  // A fleet run's cluster diagnosis: its output, or the snapshot a found cause carries in its error.
  const clusterStep = state?.steps.find(
    (s) => s.uses === 'kube.clusterSnapshot' && (s.status === 'succeeded' || s.error?.code === 'REM_ERR_INFRASTRUCTURE'),
  );
  const clusterSnapshot = clusterStep?.output ?? clusterStep?.error?.details;
  const fleetServices = Array.isArray(run.params.services) ? (run.params.services as unknown[]).map(String) : undefined;
  const status =
    run.status === 'succeeded'
      ? 'recovered'
      : run.status === 'escalated'
        ? 'escalated'
        : run.status === 'failed' || run.status === 'skipped' || run.status === 'cancelled'
          ? 'failed'
          : 'remediating';
  const service = alert.labels.service ?? alert.labels.deployment ?? run.target?.name;
  const base = options.publicUrl?.replace(/\/+$/, '');
  const episodeKey = runEpisodeId(run);
  // Known only with the playbook: how long the remaining rungs may still take (and, when none is left, that it is
  // the responders' call). A recovered incident needs none.
  const eta =
    options.playbook && status !== 'recovered' ? etaText(remainingRungs(run, options.playbook), options.now ?? Date.now()) : undefined;
  return {
    // The API's episodeId: one incident per alert episode, so a retry of an escalated run resolves the page its first
    // run opened.
    episodeKey,
    level: options.level,
    alert: {
      name,
      summary: alert.annotations.summary ?? name,
      ...(alert.annotations.description ? { description: alert.annotations.description } : {}),
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      fingerprint: alert.fingerprint,
      ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
      ...((alert.annotations.runbook_url ?? options.playbook?.runbookUrl)
        ? { runbookUrl: alert.annotations.runbook_url ?? options.playbook?.runbookUrl }
        : {}),
      ...(alert.annotations.dashboard_url ? { dashboardUrl: alert.annotations.dashboard_url } : {}),
    },
    services: fleetServices ?? (service ? [service] : []),
    ...(run.target ? { target: run.target } : {}),
    status,
    rungs,
    ...(snapshotStep?.output !== undefined
      ? { snapshot: snapshotStep.output }
      : clusterSnapshot !== undefined
        ? { snapshot: clusterSnapshot }
        : {}),
    timeline,
    run: {
      id: run.id,
      playbook: run.playbook,
      ...(base ? { url: `${base}/v1/runs/${run.id}`, reportUrl: `${base}/v1/incidents/${episodeKey}/report` } : {}),
    },
    ...(eta ? { eta } : {}),
    ...(options.playbook?.owner ? { owner: options.playbook.owner } : {}),
    ...(run.status === 'awaiting_approval' && state?.approval && !run.cancel ? { approval: pendingApproval(run, state.approval) } : {}),
  };
}

/** The plan a run waits on, as people read it, with the answer once one is recorded for that exact plan. */
function pendingApproval(run: RunView, pending: PendingApproval): IncidentApproval {
  const target = pending.plan.target as { namespace?: string; kind?: string; name?: string } | undefined;
  const on = target?.name ? ` on ${[target.namespace, target.kind, target.name].filter(Boolean).join('/')}` : '';
  const answer = run.approvals?.[pending.stepId];
  return {
    stepId: pending.stepId,
    planHash: pending.planHash,
    plan: `${pending.plan.step} (${pending.plan.uses})${on}${pending.plan.dryRun ? ' [dry run]' : ''}`,
    expiresAt: pending.expiresAt,
    ...(answer && answer.planHash === pending.planHash ? { answer: { verdict: answer.verdict, by: answer.by, at: answer.at } } : {}),
  };
}

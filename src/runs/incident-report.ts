import type { RunView } from '../store/run-record.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { IncidentReport, Level, TimelineEntry } from '../escalation/incident.ts';
import { runEpisodeId } from '../alerts/episode.ts';

/**
 * The story of a run as pages, Slack messages and the post-incident timeline tell it: the alert, the snapshot taken
 * before acting, each rung with ✓/✗ and why, every action and gate with its time, decisions and escalations.
 */
export function buildIncidentReport(run: RunView, options: { playbook?: Playbook; level: Level; publicUrl?: string }): IncidentReport {
  const { alert } = run;
  const state = run.state;
  const name = alert.labels['alertname'] ?? run.playbook;
  const timeline: TimelineEntry[] = [{ at: alert.startsAt, kind: 'alert', text: `${name} fired${alert.labels['namespace'] ? ` in ${alert.labels['namespace']}` : ''}` }];
  for (const d of run.decisions) {
    const kind = d.reason === 'escalated' ? 'escalation' : d.reason === 'resolved' ? 'recovery' : 'decision';
    timeline.push({ at: d.at, kind, text: `${d.reason}: ${d.message}` });
  }
  for (const s of state?.steps ?? []) {
    const ended = s.status === 'succeeded' || s.status === 'failed' || s.status === 'skipped';
    const text = `${s.kind === 'gate' ? 'verify' : 'action'} ${s.id} (${s.uses}): ${s.status}${s.summary ? ` — ${s.summary}` : ''}${s.error ? ` — ${s.error.message}` : ''}${s.reason ? ` — ${s.reason}` : ''}`;
    timeline.push({ at: s.endedAt ?? s.startedAt, kind: s.kind === 'gate' ? 'gate' : 'action', text, ...(ended && s.status !== 'skipped' ? { ok: s.status === 'succeeded' } : {}) });
  }
  timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  const tried = new Map((state?.rungs ?? []).map((r) => [r.name, r]));
  const rungNames = options.playbook ? options.playbook.rungs.map((r) => r.name) : [...tried.keys()];
  const rungs = rungNames.map((rungName) => {
    const r = tried.get(rungName);
    if (!r) return { name: rungName, outcome: 'pending' as const };
    return { name: rungName, outcome: r.outcome, ...(r.reason ? { reason: r.reason } : {}), startedAt: r.startedAt, ...(r.endedAt ? { endedAt: r.endedAt } : {}) };
  });
  const snapshotStep = state?.steps.find((s) => s.uses === 'kube.snapshot' && s.status === 'succeeded');
  // A fleet run's cluster diagnosis: its output, or the snapshot a found cause carries in its error.
  const clusterStep = state?.steps.find((s) => s.uses === 'kube.clusterSnapshot' && (s.status === 'succeeded' || s.error?.code === 'REM_ERR_INFRASTRUCTURE'));
  const clusterSnapshot = clusterStep?.output ?? clusterStep?.error?.details;
  const fleetServices = Array.isArray(run.params['services']) ? (run.params['services'] as unknown[]).map(String) : undefined;
  const status = run.status === 'succeeded' ? 'recovered' : run.status === 'escalated' ? 'escalated' : run.status === 'failed' || run.status === 'skipped' || run.status === 'cancelled' ? 'failed' : 'remediating';
  const service = alert.labels['service'] ?? alert.labels['deployment'] ?? run.target?.name;
  return {
    // The API's episodeId: one incident per alert episode, so a retry of an escalated run resolves the page its first
    // run opened.
    episodeKey: runEpisodeId(run),
    level: options.level,
    alert: {
      name,
      summary: alert.annotations['summary'] ?? name,
      ...(alert.annotations['description'] ? { description: alert.annotations['description'] } : {}),
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      fingerprint: alert.fingerprint,
      ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
      ...(alert.annotations['runbook_url'] ?? options.playbook?.runbookUrl ? { runbookUrl: alert.annotations['runbook_url'] ?? options.playbook?.runbookUrl } : {}),
      ...(alert.annotations['dashboard_url'] ? { dashboardUrl: alert.annotations['dashboard_url'] } : {}),
    },
    services: fleetServices ?? (service ? [service] : []),
    ...(run.target ? { target: run.target } : {}),
    status,
    rungs,
    ...(snapshotStep?.output !== undefined ? { snapshot: snapshotStep.output } : clusterSnapshot !== undefined ? { snapshot: clusterSnapshot } : {}),
    timeline,
    run: { id: run.id, playbook: run.playbook, ...(options.publicUrl ? { url: `${options.publicUrl.replace(/\/+$/, '')}/v1/runs/${run.id}` } : {}) },
    ...(options.playbook?.owner ? { owner: options.playbook.owner } : {}),
  };
}

import type { ReplayReport } from './replay-report.ts';

/**
 * The replay as people read it: one line per delivery (▶) and one per decision, each with its offset on the
 * replay's clock, then the runs and a summary. Decision lines are
 * `offset  alert  playbook  decision  run  reason` (the run id before the free-text reason so columns line up), with `-` for a missing playbook or run.
 */
export function formatReplay(report: ReplayReport): string {
  const out: string[] = [];
  const s = report.summary;
  out.push(
    `replay ${report.stream.name} (${report.stream.entries} deliveries from ${report.stream.file}) with playbooks: ${report.playbooks.join(', ') || '(none)'}`,
  );
  if (report.stream.description) out.push(`  ${report.stream.description.trim().replace(/\s*\n\s*/g, ' ')}`);
  out.push('');
  const decisions = report.timeline.filter((e) => e.kind === 'decision');
  const width = (pick: (d: (typeof decisions)[number]) => string) => Math.max(0, ...decisions.map((d) => pick(d).length));
  const w = { alert: width((d) => d.alert), playbook: width((d) => d.playbook ?? '-'), reason: width((d) => d.reason) };
  for (const e of report.timeline) {
    if (e.kind === 'delivery') {
      const answer = e.httpStatus >= 200 && e.httpStatus < 300 ? '' : `  → HTTP ${e.httpStatus}: ${e.error ?? ''}`;
      out.push(`${offset(e.offsetMs)}  ▶ #${e.entry} ${e.alerts.join(', ')}${e.note ? ` — ${e.note}` : ''}${answer}`);
    } else {
      out.push(
        `${offset(e.offsetMs)}    ${e.alert.padEnd(w.alert)}  ${(e.playbook ?? '-').padEnd(w.playbook)}  ${e.reason.padEnd(w.reason)}  ${e.runId ?? '-'}  ${e.message}`,
      );
    }
  }
  out.push('');
  out.push('runs:');
  if (report.runs.length === 0) out.push('  (none)');
  for (const r of report.runs)
    out.push(`  ${r.id}  ${r.playbook}  ${r.alert}  ${r.status.toUpperCase()}${r.outcome ? `: ${r.outcome}` : ''}`);
  if (report.pages.length > 0) {
    out.push('');
    out.push("pages (delivered to the replay's sink, not to the targets):");
    for (const p of report.pages)
      out.push(`  ${offset(p.offsetMs)}  ${p.target}  ${p.event ?? ''} ${p.level ?? ''}  ${p.summary ?? ''}`.trimEnd());
  }
  if (report.world && report.world.unanswered.length > 0) {
    out.push('');
    out.push("unanswered world calls (nothing in the stream's world: answers them; each got an error):");
    for (const c of report.world.unanswered) out.push(`  ${c.service}  ${c.call}  ×${c.count}`);
  }
  out.push('');
  const mutations = Object.entries(s.mutationsByTarget)
    .map(([t, n]) => `${t} ×${n}`)
    .join(', ');
  out.push(
    `summary: ${s.deliveries} deliveries${s.refusedDeliveries ? ` (${s.refusedDeliveries} refused)` : ''}, ${s.runsStarted} run(s) started, ${s.deduplicated} deduplicated, ${s.unmatched} unmatched, ${s.resolved} resolve(s), ${s.mutations} mutation(s)${mutations ? ` (${mutations})` : ''}, ${s.escalations} escalation(s), ${s.pagesSent} page(s) sent${report.world ? `, ${s.unansweredWorldCalls} unanswered world call(s) of ${report.world.calls}` : ''}`,
  );
  out.push(
    `  runs: ${
      Object.entries(s.runsByStatus)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }`,
  );
  out.push(
    `  decisions: ${Object.entries(s.byReason)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  out.push(`  ${offset(s.virtualMs).slice(1)} of alert time replayed in ${(s.realMs / 1000).toFixed(1)} s`);
  return `${out.join('\n')}\n`;
}

/** `+h:mm:ss.mmm` */
export function offset(ms: number): string {
  const v = Math.max(0, Math.round(ms));
  const h = Math.floor(v / 3_600_000);
  const m = Math.floor((v % 3_600_000) / 60_000);
  const sec = Math.floor((v % 60_000) / 1000);
  const milli = v % 1000;
  return `+${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}.${String(milli).padStart(3, '0')}`;
}

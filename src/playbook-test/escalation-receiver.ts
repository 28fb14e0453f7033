import type { SinkEvent } from '../dev/webhook-sink.ts';

/** One escalation as a test sees it: the level, and which configured target names received it. */
export interface ObservedEscalation {
  level: string;
  targets: string[];
  dedupKey: string;
  summary: string;
}

/**
 * The pages among the events a test run's webhook sink received (each target name is a path of the sink), in the
 * order their first delivery arrived. Each `remediation.escalated` event is one page; the same trigger delivered to
 * several targets (same episode, level and note) counts once, with every target that got it. Updates and resolves
 * are not pages.
 */
export function observedEscalations(events: readonly SinkEvent[]): ObservedEscalation[] {
  const out = new Map<string, ObservedEscalation>();
  for (const e of events) {
    if (e.body.event !== 'remediation.escalated') continue;
    const key = `${String(e.body.dedupKey)}|${String(e.body.level)}|${String(e.body.note ?? '')}`;
    const seen = out.get(key);
    if (seen) {
      if (!seen.targets.includes(e.target)) seen.targets.push(e.target);
      continue;
    }
    out.set(key, {
      level: String(e.body.level),
      targets: [e.target],
      dedupKey: String(e.body.dedupKey),
      summary: String(e.body.summary ?? ''),
    });
  }
  return [...out.values()];
}

/**
 * Pauses: an operator (or the storm breaker) stops automatic mutations for the whole fleet, one namespace or one
 * playbook until lifted or until `until`. Manual runs are never paused: an operator starting one means it.
 */
export type PauseScope = 'global' | 'namespace' | 'playbook';

export interface PauseRecord {
  scope: PauseScope;
  /** The namespace or playbook name; absent for global. */
  value?: string;
  /** Why, in people's words (the operator's reason, or the storm breaker's count). */
  reason: string;
  /** `storm_paused` when the storm breaker set it, `paused` when an operator did. */
  code: 'storm_paused' | 'paused';
  by: string;
  since: string;
  /** ISO time the pause ends by itself; absent = until lifted. */
  until?: string;
  /** `until` in ms, for the atomic scripts (they cannot parse dates). */
  untilMs?: number;
}

/** The field a pause is stored under: one pause per scope and value. */
export function pauseField(scope: PauseScope, value?: string): string {
  return scope === 'global' ? 'global' : `${scope}:${value ?? ''}`;
}

export function isActive(p: PauseRecord, now: number): boolean {
  return p.untilMs === undefined || p.untilMs > now;
}

/** The pause that stops an automatic mutation of this playbook in this namespace: global first, then narrower. */
export function applicablePause(
  pauses: readonly PauseRecord[],
  now: number,
  subject: { playbook: string; namespace?: string },
): PauseRecord | undefined {
  const active = pauses.filter((p) => isActive(p, now));
  return (
    active.find((p) => p.scope === 'global') ??
    active.find((p) => p.scope === 'namespace' && subject.namespace !== undefined && p.value === subject.namespace) ??
    active.find((p) => p.scope === 'playbook' && p.value === subject.playbook)
  );
}

export function describePause(p: PauseRecord): string {
  const what = p.scope === 'global' ? 'all automatic mutations are paused' : `automatic mutations of ${p.scope} "${p.value}" are paused`;
  return `${what} since ${p.since} by ${p.by}${p.until ? ` until ${p.until}` : ' until an operator lifts it (DELETE /v1/pause)'}: ${p.reason}`;
}

import { Type, type Static } from '@sinclair/typebox';
import { CronExpressionParser } from 'cron-parser';
import { RemediatorError } from '../domain/errors.ts';
import { Duration, parseDuration } from '../domain/duration.ts';

/** One window as written under `guards.maintenance` (the guards section's schema embeds it). */
export const MaintenanceWindowSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Shown in the decision that a window suppressed a mutation.' }),
    cron: Type.String({
      minLength: 1,
      description: 'When the window opens (cron, minutes or seconds precision, e.g. "0 2 * * 6" = Saturdays 02:00).',
    }),
    duration: Duration({ description: 'How long the window stays open after each opening.' }),
    timezone: Type.String({ default: 'UTC', description: 'IANA time zone the cron is read in.' }),
    namespaces: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Only targets in these namespaces; default all.' })),
    playbooks: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Only these playbooks; default all.' })),
  },
  { additionalProperties: false },
);

export type MaintenanceWindowConfig = Static<typeof MaintenanceWindowSchema>;

/**
 * Maintenance windows: while one is open, automatic mutations are suppressed (people are changing things by hand
 * and a remediation would fight them). A window opens at each occurrence of its cron and stays open `duration`.
 */
export interface MaintenanceWindow {
  name: string;
  cron: string;
  durationMs: number;
  timezone: string;
  namespaces?: readonly string[];
  playbooks?: readonly string[];
}

export interface OpenWindow {
  window: MaintenanceWindow;
  openedAt: number;
  closesAt: number;
}

/** Checks every cron once at start-up, so a typo stops start-up instead of silently never matching. */
export function compileWindows(config: readonly MaintenanceWindowConfig[]): MaintenanceWindow[] {
  return config.map((w, i) => {
    const window: MaintenanceWindow = {
      name: w.name,
      cron: w.cron,
      durationMs: parseDuration(w.duration),
      timezone: w.timezone,
      namespaces: w.namespaces,
      playbooks: w.playbooks,
    };
    try {
      CronExpressionParser.parse(w.cron, { tz: w.timezone, strict: false }).prev();
    } catch (err) {
      throw new RemediatorError('REM_ERR_CONFIG_INVALID', `guards.maintenance[${i}] (${w.name}): ${(err as Error).message}`);
    }
    return window;
  });
}

/** The latest opening of the window at or before `now` (ms), or undefined if it never opened. */
export function lastOpening(window: MaintenanceWindow, now: number): number | undefined {
  // Start just after `now` so an opening exactly at `now` counts; prev() is strictly before its start date.
  const it = CronExpressionParser.parse(window.cron, { tz: window.timezone, currentDate: new Date(now + 1) });
  try {
    return it.prev().getTime();
  } catch {
    return undefined;
  }
}

/**
 * The first window open at `now` that applies to this playbook and namespace. A window with `namespaces` applies
 * only when the namespace is known and listed.
 */
export function openWindow(
  windows: readonly MaintenanceWindow[],
  now: number,
  subject: { playbook: string; namespace?: string },
): OpenWindow | undefined {
  for (const window of windows) {
    if (window.playbooks && !window.playbooks.includes(subject.playbook)) continue;
    if (window.namespaces && (subject.namespace === undefined || !window.namespaces.includes(subject.namespace))) continue;
    const openedAt = lastOpening(window, now);
    if (openedAt !== undefined && now < openedAt + window.durationMs) return { window, openedAt, closesAt: openedAt + window.durationMs };
  }
  return undefined;
}

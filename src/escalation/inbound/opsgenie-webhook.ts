import { createHash, timingSafeEqual } from 'node:crypto';
import { episodeFromPageKey, type HumanEvent, type IgnoredEvent } from './human-event.ts';

/** The `source` remediator names on every alert, note and close it sends (render/opsgenie-alert.ts). */
export const OPSGENIE_OWN_SOURCE = 'remediator';

/**
 * Opsgenie's outgoing webhook signs nothing; its only documented credential is a custom header (docs/contracts.md §5.5).
 * The configured header's value is compared in constant time (hashes of equal length, so the length does not leak).
 */
export function verifyOpsgenieToken(value: string | string[] | undefined, token: string): boolean {
  if (typeof value !== 'string' || value.length === 0) return false;
  const a = createHash('sha256').update(value).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** The fields of an Opsgenie webhook body read here; each is checked before it is used. */
interface OpsgenieEvent {
  action?: unknown;
  alert?: { alias?: unknown; username?: unknown; alertId?: unknown } | null;
  source?: { name?: unknown } | null;
}

/**
 * `{"action":"Acknowledge"|"Close"|…, "alert":{"alias","username",…}, "source":{"name","type"}}`. Acted on:
 * Acknowledge and Close of an alert whose alias is remediator's (`remediator-<episode>`), made by a user. A close
 * whose source is remediator itself (its own verified resolve) is ignored, so it never loops back.
 */
export function parseOpsgenieEvent(body: unknown): HumanEvent | IgnoredEvent {
  const b = body as OpsgenieEvent | null;
  if (!b || typeof b !== 'object') return { ignored: 'body is not an object' };
  const action = b.action;
  const kind = action === 'Acknowledge' ? 'ack' : action === 'Close' ? 'resolve' : undefined;
  if (!kind) return { ignored: `action ${JSON.stringify(action)} is not acted on` };
  const alert = b.alert ?? {};
  const source = b.source ?? {};
  if (source.name === OPSGENIE_OWN_SOURCE) return { ignored: `${action} made by remediator itself` };
  const episodeKey = episodeFromPageKey(alert.alias);
  if (!episodeKey) return { ignored: 'alert was not opened by remediator' };
  const username = typeof alert.username === 'string' ? alert.username.trim() : '';
  if (!username || username === 'System') return { ignored: `${action} not made by a person` };
  return {
    kind,
    episodeKey,
    person: username,
    source: 'opsgenie',
    ...(typeof alert.alertId === 'string' ? { eventId: `${alert.alertId}:${action}` } : {}),
  };
}

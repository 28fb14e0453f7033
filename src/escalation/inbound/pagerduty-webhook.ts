import { createHmac, timingSafeEqual } from 'node:crypto';
import { episodeFromPageKey, noteText, type HumanEvent, type IgnoredEvent } from './human-event.ts';

/** A person's event on an incident that carries no incident key: its episode must be looked up (pagerduty-incident-lookup.ts). */
export interface UnkeyedEvent extends Omit<HumanEvent, 'episodeKey'> {
  incidentId: string;
}

/**
 * PagerDuty v3 webhooks (docs/contracts.md §5.7): one event per delivery, signed.
 *
 * `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]` — several while a secret is rotated. Each `v1=` value is compared
 * in constant time with hex(HMAC-SHA256(secret, raw body)) for every configured secret; one match is enough. The
 * raw, unaltered body is required: the route keeps the bytes it received.
 */
export function verifyPagerDutySignature(raw: Buffer, header: string | string[] | undefined, secrets: readonly string[]): boolean {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return false;
  const offered = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => Buffer.from(s.slice(3), 'utf8'));
  if (offered.length === 0) return false;
  let ok = false;
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', secret).update(raw).digest('hex'), 'utf8');
    // Every comparison runs (no early exit), so the time does not tell which secret or signature matched.
    for (const sig of offered) if (sig.length === expected.length && timingSafeEqual(sig, expected)) ok = true;
  }
  return ok;
}

/** The fields of a PagerDuty v3 webhook event read here; each is checked before it is used. */
interface PagerDutyEvent {
  event_type?: unknown;
  id?: unknown;
  agent?: { type?: unknown; summary?: unknown; id?: unknown } | null;
  data?: { incident_key?: unknown; id?: unknown; type?: unknown; content?: unknown; incident?: { id?: unknown } | null } | null;
}

const KINDS: Readonly<Record<string, HumanEvent['kind']>> = {
  'incident.acknowledged': 'ack',
  'incident.resolved': 'resolve',
  'incident.annotated': 'note',
};

/**
 * The event a person made, or why remediator ignores it. Acted on: `incident.acknowledged`, `incident.resolved` and
 * `incident.annotated` whose `agent` is a user (`user_reference`) and whose incident carries remediator's dedup key
 * (`data.incident_key` = `remediator-<episode>`). remediator's own resolve (Events API) comes back with a service or
 * integration agent, or none, and is ignored: it must not loop back.
 *
 * A note (`data.type` `incident_note`: `content`, and `incident.id` for its incident) carries no incident key: it is
 * always an UnkeyedEvent, its incident's episode looked up like that of an incident with child alerts.
 */
export function parsePagerDutyEvent(body: unknown): HumanEvent | UnkeyedEvent | IgnoredEvent {
  const event = (body as { event?: PagerDutyEvent | null } | null)?.event;
  if (!event || typeof event !== 'object') return { ignored: 'no event object' };
  const type = event.event_type;
  const kind = typeof type === 'string' && Object.hasOwn(KINDS, type) ? KINDS[type] : undefined;
  if (!kind) return { ignored: `event type ${JSON.stringify(type)} is not acted on` };
  const agent = event.agent;
  if (agent?.type !== 'user_reference')
    return { ignored: `${type} by ${agent?.type ?? 'no agent'}, not a person (remediator's own resolves come back this way)` };
  const data = event.data ?? {};
  const person =
    typeof agent.summary === 'string' && agent.summary.trim()
      ? agent.summary.trim()
      : typeof agent.id === 'string'
        ? agent.id
        : 'a PagerDuty user';
  const common = { kind, person, source: 'pagerduty' as const, ...(typeof event.id === 'string' ? { eventId: event.id } : {}) };
  if (kind === 'note') {
    const text = noteText(data.content);
    if (!text) return { ignored: `${type} carries no note text` };
    const incidentId = data.incident?.id;
    if (typeof incidentId !== 'string') return { ignored: `${type} names no incident (data.incident.id)` };
    return { ...common, text, incidentId };
  }
  const episodeKey = episodeFromPageKey(data.incident_key);
  if (episodeKey) return { ...common, episodeKey };
  // No key at all (an incident with child alerts): its alerts may still be remediator's.
  if ((data.incident_key === null || data.incident_key === undefined) && typeof data.id === 'string')
    return { ...common, incidentId: data.id };
  return { ignored: `incident ${typeof data.id === 'string' ? data.id : '?'} was not opened by remediator` };
}

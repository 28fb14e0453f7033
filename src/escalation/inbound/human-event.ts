/**
 * What a person did to an incident, as remediator acts on it: acknowledged it (a human has taken over) or resolved
 * it. At a paging provider `episodeKey` is the episode whose page it was, recovered from the dedup key / alias
 * remediator sent (`pageKey`); Slack's Take over button is an acknowledgement of the clicked run's episode that always
 * stops automation (`stop`).
 */
export interface HumanEvent {
  kind: 'ack' | 'resolve';
  episodeKey: string;
  /** The person, as the provider names them (never an id alone when a name is known). */
  person: string;
  source: 'pagerduty' | 'opsgenie' | 'slack';
  /** The person asked automation to stop (Slack's Take over), whatever `escalation.inbound.onHumanAck` says. */
  stop?: boolean;
  /** The provider's id of the event, for logs and to tell a redelivery. */
  eventId?: string;
}

/** An inbound event remediator does not act on, and why (answered 202 so the provider does not retry it). */
export interface IgnoredEvent {
  ignored: string;
}

const PAGE_KEY_PREFIX = 'remediator-';
const EPISODE = /^[A-Za-z0-9._-]{1,200}$/;

/** The inverse of `pageKey`: the episode of a dedup key / alias remediator sent, or undefined for anyone else's. */
export function episodeFromPageKey(key: unknown): string | undefined {
  if (typeof key !== 'string' || !key.startsWith(PAGE_KEY_PREFIX)) return undefined;
  const episode = key.slice(PAGE_KEY_PREFIX.length);
  return EPISODE.test(episode) ? episode : undefined;
}

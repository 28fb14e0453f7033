/**
 * What a person did to an incident, as remediator acts on it: acknowledged it (a human has taken over), resolved
 * it, or added a note to it (PagerDuty's `incident.annotated`: recorded, never acted on). At a paging provider `episodeKey` is the episode whose page it was, recovered from the dedup key / alias
 * remediator sent (`pageKey`); Slack's Take over button is an acknowledgement of the clicked run's episode that always
 * stops automation (`stop`).
 */
export interface HumanEvent {
  kind: 'ack' | 'resolve' | 'note';
  episodeKey: string;
  /** The person, as the provider names them (never an id alone when a name is known). */
  person: string;
  source: 'pagerduty' | 'opsgenie' | 'slack';
  /** The person asked automation to stop (Slack's Take over), whatever `escalation.inbound.onHumanAck` says. */
  stop?: boolean;
  /** The provider's id of the event, for logs and to tell a redelivery. */
  eventId?: string;
  /** A note's text as the person wrote it (kind `note`), at most NOTE_MAX_CHARS. */
  text?: string;
}

/** The longest note kept on a run's timeline; a longer one is cut and says how much was left out. */
export const NOTE_MAX_CHARS = 2000;

/**
 * A person's note as remediator keeps it: text only (control characters other than line breaks removed, surrounding
 * space trimmed), at most NOTE_MAX_CHARS. Undefined when nothing is left. It is kept as written and shown as data;
 * nothing reads it as an instruction.
 */
export function noteText(content: unknown): string | undefined {
  if (typeof content !== 'string') return undefined;
  const text = content
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, ' ')
    // Every control character but the line break.
    .replace(/[^\P{Cc}\n]/gu, '')
    .trim();
  if (!text) return undefined;
  const chars = [...text];
  return chars.length <= NOTE_MAX_CHARS
    ? text
    : `${chars.slice(0, NOTE_MAX_CHARS).join('')}… (${chars.length - NOTE_MAX_CHARS} more characters in PagerDuty)`;
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

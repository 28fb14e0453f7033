/**
 * Removes secrets from text before it reaches a log line, an error message, a run record or a dead-letter record.
 * Each secret is replaced in its raw and URL-encoded forms; for a secret URL (a Slack webhook) its path is a secret
 * of its own too, because `redactUrl` and HTTP client errors print URLs with their paths. Secrets shorter than
 * 4 characters are ignored: replacing them would garble every message and they protect nothing.
 */
export type Redactor = (text: string) => string;

export const REDACTED = '[redacted]';

export function createRedactor(secrets: ReadonlyArray<string | undefined>): Redactor {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    needles.add(s);
    needles.add(encodeURIComponent(s));
    if (/^https?:\/\//i.test(s)) {
      try {
        const u = new URL(s);
        if (u.pathname.length >= 4) needles.add(u.pathname);
        needles.add(u.toString());
      } catch {
        // not a URL after all: the raw form is enough
      }
    }
  }
  // Longest first, so a URL is replaced whole before its path is.
  const list = [...needles].filter((n) => n.length >= 4).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const n of list) out = out.split(n).join(REDACTED);
    return out;
  };
}

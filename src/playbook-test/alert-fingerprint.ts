/**
 * The fingerprint Alertmanager gives an alert: FNV-1a 64 over the label set sorted by name, each name and value
 * followed by the separator byte 0xff, printed as 16 lowercase hex digits (prometheus/common
 * `model.labelSetToFingerprint`). Test alerts get the same fingerprint Alertmanager would send, so episodes and
 * the `alertmanager.resolved` gate see what they see in production.
 */
const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

export function alertFingerprint(labels: Readonly<Record<string, string>>): string {
  let h = OFFSET;
  const add = (byte: number) => {
    h ^= BigInt(byte);
    h = (h * PRIME) & MASK;
  };
  for (const name of Object.keys(labels).sort()) {
    for (const b of Buffer.from(name, 'utf8')) add(b);
    add(SEPARATOR);
    for (const b of Buffer.from(labels[name]!, 'utf8')) add(b);
    add(SEPARATOR);
  }
  return h.toString(16).padStart(16, '0');
}

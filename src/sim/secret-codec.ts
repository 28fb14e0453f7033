import { badRequest } from './status.ts';

/**
 * What decoding a v1 Secret does on the real server before anything else sees it: every `data` value must be
 * standard base64 (Go's `[]byte` JSON decoding; a bad value is a 400, not a 422), and `stringData` is a write-only
 * convenience that is base64-encoded into `data` (overwriting keys of the same name) and never stored.
 */
const BASE64 = /^[A-Za-z0-9+/]*$/;

function illegalByte(value: string): number | undefined {
  const body = value.replace(/={1,2}$/, '');
  for (let i = 0; i < body.length; i++) if (!BASE64.test(body[i]!)) return i;
  if (value.length % 4 !== 0) return value.length - (value.length % 4);
  return undefined;
}

export function decodeSecret(obj: any): void {
  if (obj?.kind !== 'Secret') return;
  for (const v of Object.values<unknown>(obj.data ?? {})) {
    const at = typeof v === 'string' ? illegalByte(v) : 0;
    if (at !== undefined) throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${at}`);
  }
  if (obj.stringData && typeof obj.stringData === 'object') {
    obj.data = { ...(obj.data ?? {}) };
    for (const [k, v] of Object.entries<unknown>(obj.stringData)) obj.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  delete obj.stringData;
}

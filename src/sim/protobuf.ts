/**
 * Just enough of Kubernetes' protobuf encoding to read what kubectl sends as protobuf: the `k8s\0` envelope
 * (runtime.Unknown), a SelfSubjectAccessReview (`kubectl auth can-i`), and the Secrets and ConfigMaps that
 * `kubectl create secret|configmap` post. Everything else that arrives as protobuf is answered 415 by the router.
 */
type Fields = Map<number, (Buffer | number)[]>;

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}

function parseMessage(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let value: Buffer | number;
    if (wire === 0) {
      [value, pos] = readVarint(buf, pos);
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      value = buf.subarray(p2, p2 + len);
      pos = p2 + len;
    } else if (wire === 1) {
      value = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wire === 5) {
      value = buf.subarray(pos, pos + 4);
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
}

function str(f: Fields, n: number): string | undefined {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

function sub(f: Fields, n: number): Fields | undefined {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? parseMessage(v) : undefined;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Unwraps the `k8s\0` envelope: the object's apiVersion/kind and its raw protobuf bytes. */
export function decodeEnvelope(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('not a Kubernetes protobuf envelope');
  const unknown = parseMessage(body.subarray(4));
  const typeMeta = sub(unknown, 1);
  const raw = unknown.get(2)?.[0];
  return {
    apiVersion: (typeMeta && str(typeMeta, 1)) ?? '',
    kind: (typeMeta && str(typeMeta, 2)) ?? '',
    raw: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0),
  };
}

/** A SelfSubjectAccessReview decoded into its JSON form. */
export function decodeSelfSubjectAccessReview(raw: Buffer): any {
  const review = parseMessage(raw);
  const spec = sub(review, 2);
  const ra = spec && sub(spec, 1);
  const nra = spec && sub(spec, 2);
  const out: any = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} };
  if (ra) {
    const names = ['', 'namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
    out.spec.resourceAttributes = {};
    for (let i = 1; i < names.length; i++) {
      const v = str(ra, i);
      if (v !== undefined) out.spec.resourceAttributes[names[i]!] = v;
    }
  }
  if (nra) out.spec.nonResourceAttributes = { path: str(nra, 1), verb: str(nra, 2) };
  return out;
}

/** A `map<string, string|bytes>` field (repeated entries with key 1, value 2). */
function map(f: Fields, n: number, bytes: boolean): Record<string, string> | undefined {
  const entries = f.get(n);
  if (!entries) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    if (!Buffer.isBuffer(e)) continue;
    const kv = parseMessage(e);
    const v = kv.get(2)?.[0];
    const value = Buffer.isBuffer(v) ? v : Buffer.alloc(0);
    out[str(kv, 1) ?? ''] = bytes ? value.toString('base64') : value.toString('utf8');
  }
  return out;
}

/** The ObjectMeta fields a client sets on create (k8s.io/apimachinery meta/v1 generated.proto numbering). */
function objectMeta(f: Fields | undefined): any {
  if (!f) return {};
  const meta: any = {};
  for (const [n, key] of [
    [1, 'name'],
    [2, 'generateName'],
    [3, 'namespace'],
    [6, 'resourceVersion'],
  ] as const) {
    const v = str(f, n);
    if (v) meta[key] = v;
  }
  const labels = map(f, 11, false);
  const annotations = map(f, 12, false);
  if (labels) meta.labels = labels;
  if (annotations) meta.annotations = annotations;
  return meta;
}

/** A Secret or ConfigMap (core/v1 generated.proto) in its JSON form; undefined for any other kind. */
export function decodeCoreObject(kind: string, raw: Buffer): any | undefined {
  const f = parseMessage(raw);
  if (kind === 'Secret') {
    const out: any = { apiVersion: 'v1', kind, metadata: objectMeta(sub(f, 1)) };
    const data = map(f, 2, true);
    if (data) out.data = data;
    const type = str(f, 3);
    if (type) out.type = type;
    const stringData = map(f, 4, false);
    if (stringData) out.stringData = stringData;
    if (f.get(5)?.[0] === 1) out.immutable = true;
    return out;
  }
  if (kind === 'ConfigMap') {
    const out: any = { apiVersion: 'v1', kind, metadata: objectMeta(sub(f, 1)) };
    const data = map(f, 2, false);
    if (data) out.data = data;
    const binaryData = map(f, 3, true);
    if (binaryData) out.binaryData = binaryData;
    if (f.get(4)?.[0] === 1) out.immutable = true;
    return out;
  }
  return undefined;
}

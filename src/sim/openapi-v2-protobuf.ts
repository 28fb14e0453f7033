import { stringify as toYaml } from 'yaml';

/**
 * The Swagger 2.0 document in the protobuf form kubectl asks `/openapi/v2` for
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, the gnostic `openapi.v2.Document` message). Only
 * the parts the simulated cluster's document uses are encoded: info, paths with their operations (parameters,
 * consumes/produces, responses, `x-kubernetes-*` extensions), definitions, security. Field numbers follow gnostic's
 * OpenAPIv2.proto; vendor extensions travel as YAML text, which is how kube-openapi reads them back.
 */
type Json = any;

class Writer {
  #parts: Buffer[] = [];

  #varint(n: number): void {
    const bytes: number[] = [];
    let v = n;
    while (v > 0x7f) {
      bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    this.#parts.push(Buffer.from(bytes));
  }

  #tag(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  string(field: number, v: string | undefined): this {
    if (v === undefined || v === '') return this;
    return this.bytes(field, Buffer.from(v, 'utf8'));
  }

  strings(field: number, vs: string[] | undefined): this {
    for (const v of vs ?? []) this.bytes(field, Buffer.from(v, 'utf8'));
    return this;
  }

  bool(field: number, v: boolean | undefined): this {
    if (!v) return this;
    this.#tag(field, 0);
    this.#varint(1);
    return this;
  }

  bytes(field: number, b: Buffer): this {
    this.#tag(field, 2);
    this.#varint(b.length);
    this.#parts.push(b);
    return this;
  }

  message(field: number, build: ((w: Writer) => void) | undefined): this {
    if (!build) return this;
    const w = new Writer();
    build(w);
    return this.bytes(field, w.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** `repeated NamedAny vendor_extension`: every `x-` key, its value as YAML. */
function extensions(w: Writer, field: number, obj: Json): void {
  for (const [k, v] of Object.entries<Json>(obj ?? {})) {
    if (!k.startsWith('x-')) continue;
    w.message(field, (n) => n.string(1, k).message(2, (a) => a.string(2, toYaml(v))));
  }
}

function schema(w: Writer, s: Json): void {
  w.string(1, s.$ref).string(2, s.format).string(4, s.description).strings(19, s.required);
  if (s.additionalProperties !== undefined) {
    w.message(21, (a) =>
      typeof s.additionalProperties === 'boolean'
        ? a.bool(2, s.additionalProperties)
        : a.message(1, (x) => schema(x, s.additionalProperties)),
    );
  }
  if (s.type) w.message(22, (t) => t.strings(1, [s.type]));
  if (s.items) w.message(23, (i) => i.message(1, (x) => schema(x, s.items)));
  if (s.properties) {
    w.message(25, (p) => {
      for (const [name, sub] of Object.entries<Json>(s.properties))
        p.message(1, (n) => n.string(1, name).message(2, (x) => schema(x, sub)));
    });
  }
  extensions(w, 31, s);
}

function parameter(w: Writer, p: Json): void {
  w.message(1, (param) => {
    if (p.in === 'body') {
      param.message(1, (b) =>
        b
          .string(1, p.description)
          .string(2, p.name)
          .string(3, p.in)
          .bool(4, p.required)
          .message(5, (x) => schema(x, p.schema)),
      );
      return;
    }
    param.message(2, (nb) => {
      if (p.in === 'path')
        nb.message(4, (q) =>
          q.bool(1, p.required).string(2, p.in).string(3, p.description).string(4, p.name).string(5, p.type).bool(19, p.uniqueItems),
        );
      else
        nb.message(3, (q) =>
          q.bool(1, p.required).string(2, p.in).string(3, p.description).string(4, p.name).string(6, p.type).bool(20, p.uniqueItems),
        );
    });
  });
}

function operation(w: Writer, op: Json): void {
  w.strings(1, op.tags).string(3, op.description).string(5, op.operationId).strings(6, op.produces).strings(7, op.consumes);
  for (const p of op.parameters ?? []) w.message(8, (x) => parameter(x, p));
  w.message(9, (rs) => {
    for (const [code, r] of Object.entries<Json>(op.responses ?? {})) {
      rs.message(1, (n) =>
        n
          .string(1, code)
          .message(2, (v) =>
            v.message(1, (resp) =>
              resp.string(1, r.description).message(2, r.schema ? (si) => si.message(1, (x) => schema(x, r.schema)) : undefined),
            ),
          ),
      );
    }
  });
  w.strings(10, op.schemes);
  extensions(w, 13, op);
}

const OPERATION_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

/** Encodes a Swagger 2.0 document (as `openApiV2Document` builds it) as an `openapi.v2.Document`. */
export function encodeOpenApiV2(doc: Json): Buffer {
  const w = new Writer();
  w.string(1, doc.swagger);
  w.message(2, (i) => i.string(1, doc.info?.title).string(2, doc.info?.version));
  w.message(8, (paths) => {
    for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
      paths.message(2, (n) =>
        n.string(1, path).message(2, (pi) => {
          for (const [method, field] of Object.entries(OPERATION_FIELDS))
            if (item[method]) pi.message(field, (o) => operation(o, item[method]));
        }),
      );
    }
  });
  w.message(9, (defs) => {
    for (const [name, s] of Object.entries<Json>(doc.definitions ?? {}))
      defs.message(1, (n) => n.string(1, name).message(2, (x) => schema(x, s)));
  });
  for (const req of doc.security ?? []) {
    w.message(12, (sr) => {
      for (const [name, scopes] of Object.entries<Json>(req))
        sr.message(1, (n) => n.string(1, name).message(2, (a) => a.strings(1, scopes)));
    });
  }
  w.message(13, (sd) => {
    for (const [name, d] of Object.entries<Json>(doc.securityDefinitions ?? {}))
      sd.message(1, (n) =>
        n
          .string(1, name)
          .message(2, (item) => item.message(2, (k) => k.string(1, d.type).string(2, d.name).string(3, d.in).string(4, d.description))),
      );
  });
  return w.finish();
}

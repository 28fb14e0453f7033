import type { IncomingMessage, ServerResponse } from 'node:http';
import { SIM_USER, type AccessRules } from './access.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.ts';
import type { Faults } from './faults.ts';
import type { MetricsApi } from './metrics-api.ts';
import { openApiV2Document, openApiV3Index, openApiV3Text } from './openapi.ts';
import { encodeOpenApiV2 } from './openapi-v2-protobuf.ts';
import { ResourceHandlers, type ResourceContext } from './resource-handlers.ts';
import { typeByPath, type ResourceType } from './resources.ts';
import { badRequest, forbidden, methodNotAllowed, notFoundPath, StatusError, unauthorized } from './status.ts';
import { decodeCoreObject, decodeEnvelope, decodeSelfSubjectAccessReview } from './protobuf.ts';
import { toTable, wantsTable } from './tables.ts';
import { serveWatch } from './watch.ts';

/**
 * HTTP in front of the resource handlers: request recording, bearer-token authentication, injected faults, RBAC
 * denials, discovery, SelfSubjectAccessReviews, and the response encoding (JSON always, even when protobuf is asked
 * for — clients list JSON as an accepted fallback).
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  accept: string | undefined;
  userAgent: string | undefined;
  /** The body as text (base64 when it was protobuf). */
  body: string;
  /** HTTP status of the answer (set once answered). */
  status?: number;
}

export interface RouterOptions extends ResourceContext {
  token: string;
  faults: Faults;
  access: AccessRules;
  serverAddress: () => string;
  /** When set, every request is appended here. */
  requests: RecordedRequest[] | undefined;
  metrics: MetricsApi;
}

interface ResourcePath {
  group: string;
  version: string;
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

const BODY_LIMIT = 3 * 1024 * 1024;
const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
let openApiV2Bytes: Buffer | undefined;
/** The v2 document in protobuf, encoded once (it only depends on the resource table). */
function openApiV2Protobuf(): Buffer {
  openApiV2Bytes ??= encodeOpenApiV2(openApiV2Document());
  return openApiV2Bytes;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) reject(new StatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Splits `/api/v1/…` and `/apis/<group>/<version>/…` into a resource reference, or undefined for other paths. */
function parseResourcePath(pathname: string): ResourcePath | 'unknown-resource' | undefined {
  const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const t = typeByPath(group, version, rest[2]!);
    if (t?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const type = typeByPath(group, version, rest[0]!);
  if (!type || rest.length > 3) return 'unknown-resource';
  if (type.namespaced && namespace === undefined && rest.length > 1) return 'unknown-resource';
  return { group, version, type, namespace, name: rest[1], subresource: rest[2] };
}

function verbOf(method: string, p: ResourcePath, query: URLSearchParams): string {
  switch (method) {
    case 'GET':
      if (p.name) return 'get';
      return query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return p.name ? 'delete' : 'deletecollection';
    default:
      throw methodNotAllowed(method);
  }
}

export function createRouter(opts: RouterOptions): { handle(req: IncomingMessage, res: ServerResponse): void; closeWatches(): void } {
  const handlers = new ResourceHandlers(opts);
  const watches = new Set<() => void>();

  async function route(req: IncomingMessage, res: ServerResponse, record: RecordedRequest | undefined): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kube-sim');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const protobuf = /^application\/vnd\.kubernetes\.protobuf/.test(req.headers['content-type'] ?? '');
    let body = protobuf ? '' : raw.toString('utf8');
    if (record) record.body = protobuf ? raw.toString('base64') : body;
    const { pathname, searchParams: query } = url;

    if (pathname === '/healthz' || pathname === '/livez' || pathname === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    // Anonymous clients may read /version (system:public-info-viewer); everything else needs the token.
    const anonymousVersion = method === 'GET' && pathname === '/version' && req.headers.authorization === undefined;
    if (!anonymousVersion && req.headers.authorization !== `Bearer ${opts.token}`) throw unauthorized();

    if (method === 'GET') {
      if (pathname === '/version') return sendJson(res, 200, SERVER_VERSION);
      if (pathname === '/api') return sendJson(res, 200, apiVersions(opts.serverAddress()));
      if (pathname === '/apis') return sendJson(res, 200, apiGroupList());
      const gv = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/?$/.exec(pathname);
      if (gv) {
        const list = apiResourceList(gv[2] ?? '', gv[1] ?? gv[3]!);
        if (list) return sendJson(res, 200, list);
        throw notFoundPath();
      }
      if (pathname === '/openapi/v3') return sendJson(res, 200, openApiV3Index());
      const oa = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(pathname);
      if (oa) {
        const doc = openApiV3Text(oa[2] ?? '', oa[1] ?? oa[3]!);
        if (!doc) throw notFoundPath();
        // A request that names the current hash may be cached for good, as the real server says.
        const cache = query.get('hash') === doc.hash ? 'public, immutable' : 'no-cache, private';
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Cache-Control': cache,
          ETag: `"${doc.hash}"`,
          'Content-Length': Buffer.byteLength(doc.text),
        });
        res.end(doc.text);
        return;
      }
      if (pathname === '/openapi/v2') {
        const accept = req.headers.accept ?? '';
        if (accept.includes('application/com.github.proto-openapi.spec.v2@v1.0+protobuf') || accept.includes(OPENAPI_V2_PROTOBUF)) {
          // The `@` form clients ask for is not a valid media type; the answer names the dotted one, as kube-openapi does.
          const bytes = openApiV2Protobuf();
          res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF, 'Cache-Control': 'no-cache, private', 'Content-Length': bytes.length });
          res.end(bytes);
          return;
        }
        if (accept !== '' && !/application\/json|\*\/\*/.test(accept)) {
          throw new StatusError(
            406,
            'NotAcceptable',
            `only the following media types are accepted: application/json, ${OPENAPI_V2_PROTOBUF}`,
          );
        }
        return sendJson(res, 200, openApiV2Document());
      }
      const g = /^\/apis\/([^/]+)\/?$/.exec(pathname);
      if (g) {
        const group = apiGroup(g[1]!);
        if (group) return sendJson(res, 200, group);
        throw notFoundPath();
      }
    }

    const p = parseResourcePath(pathname);
    if (p === undefined || p === 'unknown-resource') throw notFoundPath();

    const injected = opts.faults.errorFor(method, `${pathname}${url.search}`);
    if (injected) throw injected;

    const verb = verbOf(method, p, query);
    // A verb the resource does not serve (writes to the metrics API, watching it) is refused like the real server.
    if (!p.subresource && !p.type.verbs.includes(verb)) throw methodNotAllowed(method);
    const access = { verb, resource: p.type.plural, group: p.group, namespace: p.namespace, subresource: p.subresource };
    if (!opts.access.allowed(access)) {
      const resource = p.subresource ? `${p.type.plural}/${p.subresource}` : p.type.plural;
      throw forbidden(p.type, resource, p.group, verb, SIM_USER, p.name, p.namespace);
    }

    if (p.type.computed === 'metrics') {
      const accept = req.headers.accept;
      if (p.name) {
        const m = opts.metrics.get(p.type, p.namespace, p.name);
        return sendJson(res, 200, wantsTable(accept) ? toTable(p.type, [m], '') : m);
      }
      const list = opts.metrics.list(p.type, p.namespace, query.get('labelSelector'), query.get('fieldSelector'));
      return sendJson(res, 200, wantsTable(accept) ? toTable(p.type, list.items, '') : list);
    }

    if (p.type.kind === 'SelfSubjectAccessReview') {
      if (method !== 'POST' || p.name) throw methodNotAllowed(method);
      if (protobuf) {
        try {
          body = JSON.stringify(decodeSelfSubjectAccessReview(decodeEnvelope(raw).raw));
        } catch (err) {
          throw badRequest(`unable to decode protobuf SelfSubjectAccessReview: ${(err as Error).message}`);
        }
      }
      return sendJson(res, 201, selfSubjectAccessReview(body, opts.access));
    }
    // JSON bodies are understood, and the protobuf Secrets and ConfigMaps `kubectl create secret|configmap` send.
    if (protobuf && raw.length > 0) {
      try {
        const envelope = decodeEnvelope(raw);
        const decoded = envelope.kind === p.type.kind ? decodeCoreObject(envelope.kind, envelope.raw) : undefined;
        if (decoded) body = JSON.stringify(decoded);
      } catch (err) {
        throw badRequest(`unable to decode protobuf ${p.type.kind}: ${(err as Error).message}`);
      }
    }
    if (protobuf && raw.length > 0 && body === '')
      throw new StatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
      );

    const result = handlers.handle({
      method,
      type: p.type,
      namespace: p.namespace,
      name: p.name,
      subresource: p.subresource,
      query,
      contentType: req.headers['content-type'],
      accept: req.headers.accept,
      userAgent: req.headers['user-agent'],
      body,
    });
    if (result.kind === 'json') {
      const warning = result.warnings?.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
      return sendJson(res, result.code, result.body, warning ? { Warning: warning } : {});
    }
    if (result.kind === 'text') {
      res.writeHead(result.code, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
      res.end(result.body);
      return;
    }
    let stop: () => void = () => {};
    stop = serveWatch(opts.store, result, res, () => watches.delete(stop));
    watches.add(stop);
  }

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://kube-sim');
      let record: RecordedRequest | undefined;
      if (opts.requests) {
        record = {
          method: (req.method ?? 'GET').toUpperCase(),
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          contentType: req.headers['content-type'],
          accept: req.headers.accept,
          userAgent: req.headers['user-agent'],
          body: '',
        };
        opts.requests.push(record);
      }
      res.on('finish', () => {
        if (record) record.status = res.statusCode;
      });
      route(req, res, record).catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const status = err instanceof StatusError ? err : badRequest(`kube-sim: ${(err as Error)?.stack ?? String(err)}`);
        if (!(err instanceof StatusError)) {
          // An unexpected exception is a bug in the simulator; answer 500 so it is not mistaken for a client error.
          return sendJson(res, 500, {
            ...status.status,
            code: 500,
            reason: 'InternalError',
            message: `kube-sim internal error: ${(err as Error)?.stack ?? String(err)}`,
          });
        }
        sendJson(res, status.status.code, status.status, status.headers);
      });
    },
    closeWatches() {
      for (const stop of [...watches]) stop();
    },
  };
}

function selfSubjectAccessReview(body: string, access: AccessRules): unknown {
  let review: any;
  try {
    review = JSON.parse(body);
  } catch {
    throw badRequest("couldn't get version/kind; json parse error");
  }
  const attrs = review?.spec?.resourceAttributes;
  let allowed = true;
  if (attrs) {
    allowed = access.allowed({
      verb: attrs.verb ?? '',
      resource: attrs.resource ?? '',
      group: attrs.group ?? '',
      namespace: attrs.namespace || undefined,
      subresource: attrs.subresource || undefined,
    });
  }
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: review?.spec ?? {},
    status: allowed
      ? { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "kube-sim" of ClusterRole "cluster-admin" to User "${SIM_USER}"` }
      : { allowed: false },
  };
}

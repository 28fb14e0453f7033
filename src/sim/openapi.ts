import { createHash } from 'node:crypto';
import { SERVER_VERSION } from './discovery.ts';
import { API_GROUPS, RESOURCE_TYPES, type ResourceType } from './resources.ts';

/**
 * The OpenAPI documents, generated from the resource table (never written per kind): `/openapi/v3` (the index of
 * group-version documents, each with a content hash) and `/openapi/v3/<api|apis/group>/<version>`, and the same
 * operations as one Swagger 2.0 document for `/openapi/v2`.
 *
 * What clients read from them, and so what must be right:
 * - kubectl checks that the PATCH operation of a kind (found by its `x-kubernetes-group-version-kind`) takes the
 *   `fieldValidation` query parameter; then it leaves validation to the server (`fieldValidation=Strict`) instead of
 *   validating client-side against the schemas.
 * - kubectl's client-side apply looks for `application/strategic-merge-patch+json` among the PATCH request body types
 *   to decide it may send a strategic merge patch.
 * Kind schemas stay shallow (top-level fields typed, nested objects open) and carry no
 * `x-kubernetes-group-version-kind` (operations do): kubectl looks a kind's schema up by that extension to compute a
 * three-way strategic merge, and a shallow schema would make it warn `unable to find api field`; without a schema it
 * uses its compiled-in types, which carry the real merge keys. `kubectl explain` therefore finds no schemas.
 */
type Json = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const ref = (name: string, v3: boolean): Json => ({ $ref: v3 ? `#/components/schemas/${name}` : `#/definitions/${name}` });

/** `io.k8s.api.apps.v1.Deployment`, `io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics`: the real schema names. */
export function schemaName(t: ResourceType, kind = t.kind): string {
  if (t.group === 'metrics.k8s.io') return `io.k8s.metrics.pkg.apis.metrics.${t.version}.${kind}`;
  return `io.k8s.api.${t.group === '' ? 'core' : t.group.split('.')[0]}.${t.version}.${kind}`;
}

function gvk(t: ResourceType, kind = t.kind): Json {
  return { group: t.group, version: t.version, kind };
}

const STRING = { type: 'string' };
const OPEN_OBJECT = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const STRING_MAP = { type: 'object', additionalProperties: STRING };
const OPEN_ARRAY = { type: 'array', items: OPEN_OBJECT };

/** The JSON type of a top-level field, by its name across the kinds served. */
function fieldSchema(field: string): Json {
  if (['data', 'stringData', 'binaryData'].includes(field)) return STRING_MAP;
  if (['subsets', 'endpoints', 'ports', 'containers'].includes(field)) return OPEN_ARRAY;
  if (field === 'immutable') return { type: 'boolean' };
  if (field === 'count') return { type: 'integer', format: 'int32' };
  if (['spec', 'status', 'involvedObject', 'source', 'series', 'related', 'usage'].includes(field)) return OPEN_OBJECT;
  return STRING;
}

const OBJECT_META_FIELDS = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/** Fields of ObjectMeta; `fieldValidation=Strict` refuses others in `metadata`. */
export function objectMetaFields(): readonly string[] {
  return OBJECT_META_FIELDS;
}

function metaSchemas(v3: boolean): Record<string, Json> {
  const objectMeta: Json = {
    type: 'object',
    properties: Object.fromEntries(
      OBJECT_META_FIELDS.map((f) => {
        if (f === 'labels' || f === 'annotations') return [f, STRING_MAP];
        if (f === 'generation' || f === 'deletionGracePeriodSeconds') return [f, { type: 'integer', format: 'int64' }];
        if (f === 'ownerReferences')
          return [f, { type: 'array', items: OPEN_OBJECT, 'x-kubernetes-patch-merge-key': 'uid', 'x-kubernetes-patch-strategy': 'merge' }];
        if (f === 'finalizers')
          return [f, { type: 'array', items: STRING, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' }];
        if (f === 'managedFields') return [f, OPEN_ARRAY];
        return [f, STRING];
      }),
    ),
  };
  return {
    [`${META}.ObjectMeta`]: objectMeta,
    [`${META}.ListMeta`]: {
      type: 'object',
      properties: { resourceVersion: STRING, continue: STRING, remainingItemCount: { type: 'integer', format: 'int64' } },
    },
    [`${META}.Patch`]: {
      type: 'object',
      description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
    },
    [`${META}.DeleteOptions`]: {
      type: 'object',
      properties: {
        propagationPolicy: STRING,
        gracePeriodSeconds: { type: 'integer', format: 'int64' },
        preconditions: OPEN_OBJECT,
        dryRun: { type: 'array', items: STRING },
      },
    },
    [`${META}.Status`]: {
      type: 'object',
      properties: {
        apiVersion: STRING,
        kind: STRING,
        metadata: ref(`${META}.ListMeta`, v3),
        status: STRING,
        message: STRING,
        reason: STRING,
        details: OPEN_OBJECT,
        code: { type: 'integer', format: 'int32' },
      },
    },
  };
}

function kindSchemas(t: ResourceType, v3: boolean): Record<string, Json> {
  const base = { apiVersion: STRING, kind: STRING };
  const item: Json = {
    type: 'object',
    description: `${t.kind} (${t.group || 'core'}/${t.version}), as served by kube-sim.`,
    properties: { ...base, metadata: ref(`${META}.ObjectMeta`, v3), ...Object.fromEntries(t.fields.map((f) => [f, fieldSchema(f)])) },
  };
  const out: Record<string, Json> = { [schemaName(t)]: item };
  if (t.verbs.includes('list')) {
    out[schemaName(t, `${t.kind}List`)] = {
      type: 'object',
      required: ['items'],
      properties: { ...base, metadata: ref(`${META}.ListMeta`, v3), items: { type: 'array', items: ref(schemaName(t), v3) } },
    };
  }
  return out;
}

function camel(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `readAppsV1NamespacedDeployment`: how the real server names operations. */
function operationId(verb: string, t: ResourceType, scope: 'namespaced' | 'cluster' | 'all', kind: string): string {
  const group = t.group === '' ? 'Core' : camel(t.group.split('.')[0]!);
  const where = scope === 'namespaced' ? 'Namespaced' : '';
  const suffix = scope === 'all' ? 'ForAllNamespaces' : '';
  return `${verb}${group}${camel(t.version)}${where}${kind}${suffix}`;
}

const queryParam = (name: string, schema: Json = STRING): Json => ({ name, in: 'query', schema, description: name });
const pathParam = (name: string): Json => ({ name, in: 'path', required: true, schema: STRING, description: `${name} of the object` });
const WRITE_PARAMS = [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
const LIST_PARAMS = [
  queryParam('labelSelector'),
  queryParam('fieldSelector'),
  queryParam('limit', { type: 'integer' }),
  queryParam('continue'),
  queryParam('resourceVersion'),
  queryParam('timeoutSeconds', { type: 'integer' }),
  queryParam('watch', { type: 'boolean' }),
];
const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];
const RESPONSE_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

interface Operation {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  action: string;
  id: string;
  params: Json[];
  body?: { schema: string; types: string[] };
  response: string;
  kind: Json;
}

/** Every path and operation of one resource type, in a form both documents are rendered from. */
function operations(t: ResourceType): Map<string, Operation[]> {
  const prefix = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  const paths = new Map<string, Operation[]>();
  const add = (path: string, op: Operation) => paths.set(path, [...(paths.get(path) ?? []), op]);
  const scope = t.namespaced ? 'namespaced' : 'cluster';
  const nsParams = t.namespaced ? [pathParam('namespace')] : [];
  const collection = t.namespaced ? `${prefix}/namespaces/{namespace}/${t.plural}` : `${prefix}/${t.plural}`;
  const item = `${collection}/{name}`;
  const itemParams = [pathParam('name'), ...nsParams];
  const name = schemaName(t);
  const list = schemaName(t, `${t.kind}List`);
  const k = gvk(t);
  const has = (v: string) => t.verbs.includes(v);
  if (has('list')) {
    add(collection, {
      method: 'get',
      action: 'list',
      id: operationId('list', t, scope, t.kind),
      params: [...nsParams, ...LIST_PARAMS],
      response: list,
      kind: k,
    });
    if (t.namespaced)
      add(`${prefix}/${t.plural}`, {
        method: 'get',
        action: 'list',
        id: operationId('list', t, 'all', t.kind),
        params: LIST_PARAMS,
        response: list,
        kind: k,
      });
  }
  if (has('create'))
    add(collection, {
      method: 'post',
      action: 'post',
      id: operationId('create', t, scope, t.kind),
      params: [...nsParams, ...WRITE_PARAMS],
      body: { schema: name, types: ['*/*'] },
      response: name,
      kind: k,
    });
  if (has('deletecollection'))
    add(collection, {
      method: 'delete',
      action: 'deletecollection',
      id: operationId('deleteCollection', t, scope, t.kind),
      params: [...nsParams, ...LIST_PARAMS],
      response: `${META}.Status`,
      kind: k,
    });
  if (has('get'))
    add(item, { method: 'get', action: 'get', id: operationId('read', t, scope, t.kind), params: itemParams, response: name, kind: k });
  if (has('update'))
    add(item, {
      method: 'put',
      action: 'put',
      id: operationId('replace', t, scope, t.kind),
      params: [...itemParams, ...WRITE_PARAMS],
      body: { schema: name, types: ['*/*'] },
      response: name,
      kind: k,
    });
  if (has('patch'))
    add(item, {
      method: 'patch',
      action: 'patch',
      id: operationId('patch', t, scope, t.kind),
      params: [...itemParams, ...WRITE_PARAMS, queryParam('force', { type: 'boolean' })],
      body: { schema: `${META}.Patch`, types: PATCH_TYPES },
      response: name,
      kind: k,
    });
  if (has('delete'))
    add(item, {
      method: 'delete',
      action: 'delete',
      id: operationId('delete', t, scope, t.kind),
      params: [...itemParams, queryParam('dryRun'), queryParam('gracePeriodSeconds', { type: 'integer' }), queryParam('propagationPolicy')],
      body: { schema: `${META}.DeleteOptions`, types: ['*/*'] },
      response: `${META}.Status`,
      kind: k,
    });
  for (const sub of t.subresources) {
    const path = `${item}/${sub}`;
    if (sub === 'log') {
      add(path, {
        method: 'get',
        action: 'connect',
        id: operationId('read', t, scope, `${t.kind}Log`),
        params: [
          ...itemParams,
          queryParam('container'),
          queryParam('tailLines', { type: 'integer' }),
          queryParam('previous', { type: 'boolean' }),
        ],
        response: '',
        kind: k,
      });
      continue;
    }
    const subKind = sub === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : k;
    const subSchema = sub === 'scale' ? 'io.k8s.api.autoscaling.v1.Scale' : name;
    const label = `${t.kind}${camel(sub)}`;
    add(path, {
      method: 'get',
      action: 'get',
      id: operationId('read', t, scope, label),
      params: itemParams,
      response: subSchema,
      kind: subKind,
    });
    add(path, {
      method: 'put',
      action: 'put',
      id: operationId('replace', t, scope, label),
      params: [...itemParams, ...WRITE_PARAMS],
      body: { schema: subSchema, types: ['*/*'] },
      response: subSchema,
      kind: subKind,
    });
    add(path, {
      method: 'patch',
      action: 'patch',
      id: operationId('patch', t, scope, label),
      params: [...itemParams, ...WRITE_PARAMS, queryParam('force', { type: 'boolean' })],
      body: { schema: `${META}.Patch`, types: PATCH_TYPES },
      response: subSchema,
      kind: subKind,
    });
  }
  return paths;
}

function typesOf(group: string, version: string): ResourceType[] {
  return RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
}

function scaleSchema(v3: boolean): Record<string, Json> {
  return {
    'io.k8s.api.autoscaling.v1.Scale': {
      type: 'object',
      properties: {
        apiVersion: STRING,
        kind: STRING,
        metadata: ref(`${META}.ObjectMeta`, v3),
        spec: { type: 'object', properties: { replicas: { type: 'integer', format: 'int32' } } },
        status: OPEN_OBJECT,
      },
    },
  };
}

function schemasFor(types: ResourceType[], v3: boolean): Record<string, Json> {
  let out: Record<string, Json> = { ...metaSchemas(v3) };
  for (const t of types) out = { ...out, ...kindSchemas(t, v3) };
  if (types.some((t) => t.subresources.includes('scale'))) out = { ...out, ...scaleSchema(v3) };
  return out;
}

/** The OpenAPI 3.0 document of one group/version ('' = core), or undefined when it is not served. */
export function openApiV3Document(group: string, version: string): Json | undefined {
  const types = typesOf(group, version);
  if (types.length === 0) return undefined;
  const paths: Record<string, Json> = {};
  for (const t of types) {
    for (const [path, ops] of operations(t)) {
      const item: Json = (paths[path] as Json | undefined) ?? { parameters: [] };
      for (const op of ops) {
        item[op.method] = {
          tags: [`${group || 'core'}_${version}`],
          description: `${op.action} ${t.kind}`,
          operationId: op.id,
          parameters: op.params,
          ...(op.body
            ? {
                requestBody: {
                  required: true,
                  content: Object.fromEntries(op.body.types.map((ct) => [ct, { schema: ref(op.body!.schema, true) }])),
                },
              }
            : {}),
          responses: {
            '200': {
              description: 'OK',
              content: Object.fromEntries(
                (op.response ? RESPONSE_TYPES : ['text/plain']).map((ct) => [
                  ct,
                  { schema: op.response ? ref(op.response, true) : STRING },
                ]),
              ),
            },
            '401': { description: 'Unauthorized' },
          },
          'x-kubernetes-action': op.action,
          'x-kubernetes-group-version-kind': op.kind,
        };
      }
      paths[path] = item;
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
    components: {
      schemas: schemasFor(types, true),
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

const v3Cache = new Map<string, { text: string; hash: string }>();

/** A group/version document as served, with the hash the index advertises (stable for a given resource table). */
export function openApiV3Text(group: string, version: string): { text: string; hash: string } | undefined {
  const key = `${group}/${version}`;
  const cached = v3Cache.get(key);
  if (cached) return cached;
  const doc = openApiV3Document(group, version);
  if (!doc) return undefined;
  const text = JSON.stringify(doc);
  const entry = { text, hash: createHash('sha512').update(text).digest('hex').toUpperCase() };
  v3Cache.set(key, entry);
  return entry;
}

/** `/openapi/v3`: every group/version path with its document's URL (`?hash=` lets clients cache it forever). */
export function openApiV3Index(): Json {
  const gvs = [{ group: '', version: 'v1' }, ...API_GROUPS];
  const paths: Record<string, Json> = {};
  for (const { group, version } of gvs) {
    const path = group === '' ? `api/${version}` : `apis/${group}/${version}`;
    const doc = openApiV3Text(group, version);
    if (doc) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
  }
  return { paths };
}

/** `/openapi/v2`: every operation and definition in one Swagger 2.0 document. */
export function openApiV2Document(): Json {
  const paths: Record<string, Json> = {};
  const types = [...RESOURCE_TYPES];
  for (const t of types) {
    for (const [path, ops] of operations(t)) {
      const item: Json = (paths[path] as Json | undefined) ?? {};
      for (const op of ops) {
        const body = op.body ? [{ name: 'body', in: 'body', required: true, schema: ref(op.body.schema, false) }] : [];
        item[op.method] = {
          description: `${op.action} ${t.kind}`,
          consumes: op.body ? op.body.types : ['*/*'],
          produces: op.response ? RESPONSE_TYPES : ['text/plain'],
          schemes: ['https'],
          tags: [`${t.group || 'core'}_${t.version}`],
          operationId: op.id,
          parameters: [...op.params.map(({ schema, ...p }) => ({ ...p, ...(schema as Json), uniqueItems: true })), ...body],
          responses: {
            '200': { description: 'OK', ...(op.response ? { schema: ref(op.response, false) } : { schema: STRING }) },
            '401': { description: 'Unauthorized' },
          },
          'x-kubernetes-action': op.action,
          'x-kubernetes-group-version-kind': op.kind,
        };
      }
      paths[path] = item;
    }
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
    definitions: schemasFor(types, false),
    securityDefinitions: {
      BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' },
    },
    security: [{ BearerToken: [] }],
  };
}

import { randomBytes } from 'node:crypto';
import { applyDefaults } from './defaults.ts';
import { applyPatch, decodePatch, patchTypeOf } from './patch.ts';
import { apiVersionOf, RESOURCE_TYPES, type ResourceType } from './resources.ts';
import { labelSelectorString, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { alreadyExists, badRequest, conflict, invalid, methodNotAllowed, notFound, StatusError, successStatus } from './status.ts';
import type { ObjectStore } from './store.ts';
import { nowRfc3339 } from './store.ts';
import { managerFor, recordApply, recordUpdate } from './managed-fields.ts';
import { objectMetaFields } from './openapi.ts';
import { decodeSecret } from './secret-codec.ts';
import { toTable, wantsTable } from './tables.ts';
import { dropNulls } from './template-hash.ts';
import { validate } from './validation.ts';

/**
 * The REST semantics of one resource request: get/list/create/update/patch/delete on objects and their `scale`,
 * `status` and `log` subresources, with resourceVersion preconditions, dryRun, defaulting and validation — the parts
 * of the real apiserver's generic registry a client can observe.
 */
export interface ResourceRequest {
  method: string;
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  query: URLSearchParams;
  contentType: string | undefined;
  accept: string | undefined;
  userAgent?: string | undefined;
  body: string;
}

export type HandlerResult =
  | { kind: 'json'; code: number; body: unknown; warnings?: string[] }
  | { kind: 'text'; code: number; body: string }
  | {
      kind: 'watch';
      type: ResourceType;
      namespace: string | undefined;
      labelSelector: string | null;
      fieldSelector: string | null;
      resourceVersion: string | null;
      timeoutSeconds: number | undefined;
      sendInitialEvents: boolean;
      allowBookmarks: boolean;
      table?: { includeObject: string };
    };

export interface PodLogOptions {
  container: string;
  tailLines?: number;
  previous: boolean;
}

export interface ResourceContext {
  store: ObjectStore;
  /** Log text of a container (the controller knows what the pod has been doing). */
  podLog(pod: any, options: PodLogOptions): string;
}

const json = (code: number, body: unknown, warnings: string[] = []): HandlerResult => ({
  kind: 'json',
  code,
  body,
  ...(warnings.length ? { warnings } : {}),
});

/**
 * `fieldValidation` (Strict from kubectl, Warn by default): fields the kind does not have, at the top level and in
 * `metadata`, are refused with the real strict decoding error or reported as warnings. Nested fields are not checked.
 */
function unknownFields(req: ResourceRequest, body: any): string[] {
  const mode = req.query.get('fieldValidation') ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(mode))
    throw badRequest(`fieldValidation: Unsupported value: "${mode}": supported values: "Ignore", "Strict", "Warn"`);
  if (mode === 'Ignore' || req.subresource === 'scale') return [];
  const known = new Set(['apiVersion', 'kind', 'metadata', ...req.type.fields]);
  const meta = new Set(objectMetaFields());
  const unknown = [
    ...Object.keys(body).filter((k) => !known.has(k)),
    ...Object.keys(body.metadata ?? {})
      .filter((k) => !meta.has(k))
      .map((k) => `metadata.${k}`),
  ];
  if (unknown.length === 0) return [];
  if (mode === 'Strict') {
    const list = unknown.map((u) => `unknown field "${u}"`).join(', ');
    throw badRequest(
      `${req.type.kind} in version "${req.type.version}" cannot be handled as a ${req.type.kind}: strict decoding error: ${list}`,
    );
  }
  return unknown.map((u) => `unknown field "${u}"`);
}

function randomSuffix(n = 5): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(n);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

function parseBody(body: string): any {
  try {
    const v = JSON.parse(body);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected an object');
    return v;
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

function isDryRun(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

/** Objects in the wire form of a single GET: `kind` and `apiVersion` set. */
function wire(t: ResourceType, obj: any): any {
  return { kind: t.kind, apiVersion: apiVersionOf(t), ...obj };
}

export function toScale(obj: any): any {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: labelSelectorString(obj.spec?.selector) },
  };
}

function checkResourceVersion(t: ResourceType, name: string, current: any, provided: unknown): void {
  if (provided !== undefined && provided !== null && provided !== '' && String(provided) !== current.metadata.resourceVersion) {
    throw conflict(t, name);
  }
}

function checkSubresource(t: ResourceType, sub: string | undefined): void {
  if (sub !== undefined && !t.subresources.includes(sub))
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

export class ResourceHandlers {
  #ctx: ResourceContext;

  constructor(ctx: ResourceContext) {
    this.#ctx = ctx;
  }

  get #store(): ObjectStore {
    return this.#ctx.store;
  }

  handle(req: ResourceRequest): HandlerResult {
    const { method, name } = req;
    checkSubresource(req.type, req.subresource);
    if (method === 'GET') {
      if (name) return this.#get(req, name);
      if (req.query.get('watch') === 'true' || req.query.get('watch') === '1') return this.#watch(req);
      return this.#list(req);
    }
    if (method === 'POST' && !name) return this.#create(req);
    if (method === 'PUT' && name) return this.#update(req, name);
    if (method === 'PATCH' && name) return this.#patch(req, name);
    if (method === 'DELETE') return name ? this.#delete(req, name) : this.#deleteCollection(req);
    throw methodNotAllowed(method);
  }

  #current(req: ResourceRequest, name: string): any {
    const obj = this.#store.get(req.type.kind, req.namespace ?? '', name);
    if (!obj) throw notFound(req.type, name);
    return obj;
  }

  #get(req: ResourceRequest, name: string): HandlerResult {
    const obj = this.#current(req, name);
    if (req.subresource === 'scale') return json(200, toScale(obj));
    if (req.subresource === 'log') return this.#log(req, obj);
    if (wantsTable(req.accept))
      return json(200, toTable(req.type, [obj], obj.metadata.resourceVersion, req.query.get('includeObject') ?? 'Metadata'));
    return json(200, wire(req.type, obj));
  }

  #log(req: ResourceRequest, pod: any): HandlerResult {
    const containers: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
    let container = req.query.get('container') ?? undefined;
    if (!container) {
      if (containers.length !== 1) {
        throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${containers.join(' ')}]`);
      }
      container = containers[0]!;
    }
    if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
    const tail = req.query.get('tailLines');
    const tailLines = tail === null ? undefined : Number(tail);
    if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0)) throw badRequest(`tailLines: Invalid value: ${tail}`);
    const previous = req.query.get('previous') === 'true';
    const statuses: any[] = pod.status?.containerStatuses ?? [];
    const cs = statuses.find((s) => s.name === container);
    if (previous && !cs?.lastState?.terminated) {
      throw badRequest(`previous terminated container "${container}" in pod "${pod.metadata.name}" not found`);
    }
    if (!previous && cs?.state?.waiting?.reason === 'ContainerCreating') {
      throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
    }
    return {
      kind: 'text',
      code: 200,
      body: this.#ctx.podLog(pod, { container, ...(tailLines !== undefined ? { tailLines } : {}), previous }),
    };
  }

  #list(req: ResourceRequest): HandlerResult {
    const byLabel = parseLabelSelector(req.query.get('labelSelector'));
    const byField = parseFieldSelector(req.query.get('fieldSelector'));
    const items = this.#store.list(req.type.kind, req.namespace, (o) => byLabel(o) && byField(o));
    const rv = this.#store.resourceVersion;
    if (wantsTable(req.accept)) return json(200, toTable(req.type, items, rv, req.query.get('includeObject') ?? 'Metadata'));
    // `limit`/`continue` are accepted and everything is returned in one page (no `continue` token).
    return json(200, { kind: `${req.type.kind}List`, apiVersion: apiVersionOf(req.type), metadata: { resourceVersion: rv }, items });
  }

  #watch(req: ResourceRequest): HandlerResult {
    const timeout = req.query.get('timeoutSeconds');
    // Selectors are parsed now so a bad one fails the request instead of the stream.
    parseLabelSelector(req.query.get('labelSelector'));
    parseFieldSelector(req.query.get('fieldSelector'));
    return {
      kind: 'watch',
      type: req.type,
      namespace: req.namespace,
      labelSelector: req.query.get('labelSelector'),
      fieldSelector: req.query.get('fieldSelector'),
      resourceVersion: req.query.get('resourceVersion'),
      timeoutSeconds: timeout === null ? undefined : Number(timeout),
      sendInitialEvents: req.query.get('sendInitialEvents') === 'true',
      allowBookmarks: req.query.get('allowWatchBookmarks') === 'true',
      ...(wantsTable(req.accept) ? { table: { includeObject: req.query.get('includeObject') ?? 'Metadata' } } : {}),
    };
  }

  #checkKind(body: any, expectedKind: string, expectedApiVersion: string): void {
    if (body.apiVersion !== undefined && body.apiVersion !== expectedApiVersion) {
      throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${expectedApiVersion})`);
    }
    if (body.kind !== undefined && body.kind !== expectedKind) {
      throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${expectedKind})`);
    }
  }

  #checkNamespace(req: ResourceRequest, body: any): void {
    body.metadata ??= {};
    if (!req.type.namespaced) return;
    if (body.metadata.namespace !== undefined && body.metadata.namespace !== '' && body.metadata.namespace !== req.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    body.metadata.namespace = req.namespace;
  }

  #requireNamespace(req: ResourceRequest): void {
    if (req.type.namespaced && req.namespace && !this.#store.has('Namespace', '', req.namespace)) {
      throw new StatusError(404, 'NotFound', `namespaces "${req.namespace}" not found`, { name: req.namespace, kind: 'namespaces' });
    }
  }

  #create(req: ResourceRequest): HandlerResult {
    if (req.type.kind === 'SelfSubjectAccessReview') throw new Error('handled by the router');
    if (req.subresource) throw methodNotAllowed(req.method);
    const body = parseBody(req.body);
    this.#checkKind(body, req.type.kind, apiVersionOf(req.type));
    this.#checkNamespace(req, body);
    this.#requireNamespace(req);
    if (!body.metadata.name && body.metadata.generateName) body.metadata.name = `${body.metadata.generateName}${randomSuffix()}`;
    return this.#createObject(req, body);
  }

  #createObject(req: ResourceRequest, input: any, applied?: any): HandlerResult {
    const t = req.type;
    const warnings = unknownFields(req, input);
    const body = dropNulls(input);
    body.kind = t.kind;
    const name = body.metadata.name;
    if (name && this.#store.has(t.kind, req.namespace ?? '', name)) throw alreadyExists(t, name);
    delete body.metadata.resourceVersion;
    if (['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'].includes(t.kind)) body.status = {};
    if (t.kind === 'Pod') body.status = { phase: 'Pending', qosClass: 'BestEffort' };
    if (t.kind === 'PersistentVolumeClaim' || t.kind === 'PersistentVolume') body.status = { phase: 'Pending' };
    decodeSecret(body);
    applyDefaults(body);
    const manager = managerFor(req.query.get('fieldManager'), req.userAgent);
    body.metadata.managedFields = applied
      ? recordApply([], undefined, applied, body, manager, apiVersionOf(t), true, undefined)
      : recordUpdate([], undefined, body, manager, apiVersionOf(t), undefined);
    const errors = validate(t, body);
    if (errors.length) throw invalid(t, name ?? '', errors);
    if (isDryRun(req.query)) {
      return json(
        201,
        wire(t, { ...body, metadata: { ...body.metadata, uid: crypto.randomUUID(), creationTimestamp: nowRfc3339() } }),
        warnings,
      );
    }
    return json(201, wire(t, this.#store.create(body)), warnings);
  }

  /** Stores `next` as the new state of `current`, applying the rules every write shares. */
  #commit(req: ResourceRequest, current: any, input: any, applied?: any): HandlerResult {
    const t = req.type;
    const warnings = unknownFields(req, input);
    let next = dropNulls(input);
    next.kind = t.kind;
    next.metadata ??= {};
    next.metadata.name = current.metadata.name;
    if (t.namespaced) next.metadata.namespace = current.metadata.namespace;
    if (next.metadata.uid !== undefined && next.metadata.uid !== current.metadata.uid) {
      throw conflict(
        t,
        current.metadata.name,
        `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    next.metadata.uid = current.metadata.uid;
    next.metadata.creationTimestamp = current.metadata.creationTimestamp;
    if (current.metadata.generation !== undefined) next.metadata.generation = current.metadata.generation;
    if (req.subresource === 'status') {
      // The status subresource writes status only.
      next = { ...current, status: next.status };
    } else if (t.subresources.includes('status')) {
      // The main resource ignores status for kinds that have a status subresource.
      next.status = current.status;
    }
    decodeSecret(next);
    applyDefaults(next);
    const manager = managerFor(req.query.get('fieldManager'), req.userAgent);
    const entries = current.metadata.managedFields ?? [];
    next.metadata.managedFields = applied
      ? recordApply(entries, current, applied, next, manager, apiVersionOf(t), req.query.get('force') === 'true', req.subresource)
      : recordUpdate(entries, current, next, manager, apiVersionOf(t), req.subresource);
    const errors = validate(t, next, current);
    if (errors.length) throw invalid(t, current.metadata.name, errors);
    if (isDryRun(req.query)) {
      next.metadata.resourceVersion = current.metadata.resourceVersion;
      return json(200, wire(t, next), warnings);
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    return json(200, wire(t, this.#store.update(next)), warnings);
  }

  /** Writes a new Scale onto its object (the Scale's own name/rv were checked by the caller). */
  #commitScale(req: ResourceRequest, current: any, scale: any): HandlerResult {
    const replicas = scale?.spec?.replicas ?? 0;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalid({ ...req.type, kind: 'Scale', group: 'autoscaling' }, current.metadata.name, [
        {
          field: 'spec.replicas',
          reason: 'FieldValueInvalid',
          detail: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        },
      ]);
    }
    const next = structuredClone(current);
    next.spec.replicas = replicas;
    const result = this.#commit({ ...req, subresource: undefined }, current, next);
    return result.kind === 'json' ? json(200, toScale(result.body)) : result;
  }

  #update(req: ResourceRequest, name: string): HandlerResult {
    const body = parseBody(req.body);
    if (req.subresource === 'log') throw methodNotAllowed(req.method);
    body.metadata ??= {};
    if (body.metadata.name !== undefined && body.metadata.name !== name) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (req.subresource === 'scale') {
      this.#checkKind(body, 'Scale', 'autoscaling/v1');
      const current = this.#current(req, name);
      checkResourceVersion(req.type, name, current, body.metadata.resourceVersion);
      return this.#commitScale(req, current, body);
    }
    this.#checkKind(body, req.type.kind, apiVersionOf(req.type));
    this.#checkNamespace(req, body);
    const current = this.#store.get(req.type.kind, req.namespace ?? '', name);
    if (!current) throw notFound(req.type, name);
    const rv = body.metadata.resourceVersion;
    if ((rv === undefined || rv === '') && req.type.requireResourceVersionOnUpdate && req.subresource === undefined) {
      throw invalid(req.type, name, [
        { field: 'metadata.resourceVersion', reason: 'FieldValueInvalid', detail: 'Invalid value: 0x0: must be specified for an update' },
      ]);
    }
    checkResourceVersion(req.type, name, current, rv);
    return this.#commit(req, current, body);
  }

  #patch(req: ResourceRequest, name: string): HandlerResult {
    if (req.subresource === 'log') throw methodNotAllowed(req.method);
    const type = patchTypeOf(req.contentType);
    const patch = decodePatch(type, req.body);
    if (type === 'apply') {
      if (!req.query.get('fieldManager')) {
        throw new StatusError(
          422,
          'Invalid',
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
          {
            group: 'meta.k8s.io',
            kind: 'PatchOptions',
            causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
          },
        );
      }
      if (req.query.has('force') && !['true', 'false'].includes(req.query.get('force')!))
        throw badRequest(`force: Invalid value: ${req.query.get('force')}`);
      if (patch.metadata?.name !== undefined && patch.metadata.name !== name) {
        throw badRequest(`the name of the object (${patch.metadata.name}) does not match the name on the URL (${name})`);
      }
      if (req.subresource === undefined) {
        const expectedApiVersion = apiVersionOf(req.type);
        if (patch.apiVersion !== expectedApiVersion || patch.kind !== req.type.kind) {
          throw badRequest(`invalid object type: ${patch.apiVersion ?? ''}, Kind=${patch.kind ?? ''}`);
        }
      }
    }
    const current = this.#store.get(req.type.kind, req.namespace ?? '', name);
    if (!current) {
      if (type === 'apply' && req.subresource === undefined) {
        // Server-side apply creates what does not exist yet.
        this.#requireNamespace(req);
        const body = structuredClone(patch);
        this.#checkNamespace(req, body);
        body.metadata.name = name;
        return this.#createObject(req, body, patch);
      }
      throw notFound(req.type, name);
    }
    if (req.subresource === 'scale') {
      const base = toScale(current);
      const patched = applyPatch(type, base, patch);
      checkResourceVersion(req.type, name, current, patched?.metadata?.resourceVersion);
      return this.#commitScale(req, current, patched);
    }
    const patched = applyPatch(type, current, patch);
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched))
      throw badRequest('patch produced an object that is not a JSON object');
    patched.metadata ??= {};
    if (patched.metadata.name !== name)
      throw badRequest(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`);
    checkResourceVersion(req.type, name, current, patched.metadata.resourceVersion);
    return this.#commit(req, current, patched, type === 'apply' ? patch : undefined);
  }

  #deleteOptions(req: ResourceRequest): any {
    let opts: any = {};
    if (req.body.trim() !== '') {
      opts = parseBody(req.body);
    }
    const grace = req.query.get('gracePeriodSeconds');
    if (grace !== null) opts.gracePeriodSeconds = Number(grace);
    const policy = req.query.get('propagationPolicy');
    if (policy !== null) opts.propagationPolicy = policy;
    if (opts.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
      throw badRequest(
        `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
      );
    }
    if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
      throw badRequest(
        `DeleteOptions.meta.k8s.io "" is invalid: gracePeriodSeconds: Invalid value: ${opts.gracePeriodSeconds}: must be greater than or equal to 0`,
      );
    }
    return opts;
  }

  #delete(req: ResourceRequest, name: string): HandlerResult {
    if (req.subresource) throw methodNotAllowed(req.method);
    const opts = this.#deleteOptions(req);
    const current = this.#current(req, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid !== undefined && pre.uid !== null && pre.uid !== current.metadata.uid) {
      throw conflict(req.type, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== null && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(
        req.type,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    }
    const dryRun = isDryRun(req.query);
    const answer = this.#deletedAnswer(req.type, current, opts);
    if (!dryRun) this.#deleteWithDependents(req.type, current, opts.propagationPolicy ?? 'Background');
    return json(200, answer);
  }

  /** Pods answer with the object being deleted (as during graceful termination); other kinds with a Success Status. */
  #deletedAnswer(t: ResourceType, obj: any, opts: any): unknown {
    if (t.kind === 'Pod') {
      const grace = opts.gracePeriodSeconds ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
      return wire(t, { ...obj, metadata: { ...obj.metadata, deletionTimestamp: nowRfc3339(), deletionGracePeriodSeconds: grace } });
    }
    return successStatus(t, obj.metadata.name, obj.metadata.uid);
  }

  /** Deletes an object; Background/Foreground also delete what it owns (as the garbage collector would), Orphan unlinks. */
  #deleteWithDependents(t: ResourceType, obj: any, policy: string): void {
    const uid = obj.metadata.uid;
    this.#store.delete(t.kind, obj.metadata.namespace ?? '', obj.metadata.name);
    const dependents: { t: ResourceType; o: any }[] = [];
    for (const dt of RESOURCE_TYPES) {
      if (dt.kind === 'SelfSubjectAccessReview') continue;
      for (const o of this.#store.list(dt.kind, t.kind === 'Namespace' ? obj.metadata.name : obj.metadata.namespace)) {
        if (t.kind === 'Namespace' && dt.namespaced) dependents.push({ t: dt, o });
        else if ((o.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid)) dependents.push({ t: dt, o });
      }
    }
    for (const { t: dt, o } of dependents) {
      if (policy === 'Orphan' && t.kind !== 'Namespace') {
        o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r: any) => r.uid !== uid);
        if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
        this.#store.update(o);
      } else if (this.#store.has(dt.kind, o.metadata.namespace ?? '', o.metadata.name)) {
        this.#deleteWithDependents(dt, o, 'Background');
      }
    }
  }

  #deleteCollection(req: ResourceRequest): HandlerResult {
    const opts = this.#deleteOptions(req);
    const byLabel = parseLabelSelector(req.query.get('labelSelector'));
    const byField = parseFieldSelector(req.query.get('fieldSelector'));
    const items = this.#store.list(req.type.kind, req.namespace, (o) => byLabel(o) && byField(o));
    if (!isDryRun(req.query)) for (const o of items) this.#deleteWithDependents(req.type, o, opts.propagationPolicy ?? 'Background');
    return json(200, {
      kind: `${req.type.kind}List`,
      apiVersion: apiVersionOf(req.type),
      metadata: { resourceVersion: this.#store.resourceVersion },
      items,
    });
  }
}

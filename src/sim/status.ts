import { qualifiedName, type ResourceType } from './resources.ts';

/**
 * `Status` failures shaped exactly like the real API server's (k8s.io/apimachinery/pkg/api/errors). Handlers throw a
 * `StatusError`; the router turns it into the JSON body and HTTP code.
 */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class StatusError extends Error {
  readonly status: StatusBody;
  readonly headers: Record<string, string>;

  constructor(code: number, reason: string, message: string, details?: StatusDetails, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'StatusError';
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
    this.headers = headers;
  }
}

function details(t: ResourceType, name: string | undefined): StatusDetails {
  return { ...(name ? { name } : {}), ...(t.group ? { group: t.group } : {}), kind: t.plural };
}

export function notFound(t: ResourceType, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedName(t)} "${name}" not found`, details(t, name));
}

export function alreadyExists(t: ResourceType, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualifiedName(t)} "${name}" already exists`, details(t, name));
}

/** The optimistic-concurrency failure, with the real server's wording. */
export function conflict(
  t: ResourceType,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(t)} "${name}": ${why}`, details(t, name));
}

export interface FieldError {
  field: string;
  /** `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`, `FieldValueForbidden`. */
  reason: string;
  /** e.g. `Invalid value: -1: must be greater than or equal to 0`. */
  detail: string;
}

/** 422 Invalid: `Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: must be …`. */
export function invalid(t: ResourceType, name: string, errors: FieldError[]): StatusError {
  const kindName = t.group ? `${t.kind}.${t.group}` : t.kind;
  const parts = errors.map((e) => `${e.field}: ${e.detail}`);
  const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${kindName} "${name}" is invalid: ${joined}`, {
    name,
    ...(t.group ? { group: t.group } : {}),
    kind: t.kind,
    causes: errors.map((e) => ({ reason: e.reason, message: e.detail, field: e.field })),
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function unauthorized(): StatusError {
  return new StatusError(401, 'Unauthorized', 'Unauthorized');
}

/** The RBAC denial text: `deployments.apps "x" is forbidden: User "…" cannot patch resource "deployments/scale" in API group "apps" in the namespace "ns"`. */
export function forbidden(
  t: ResourceType | undefined,
  resource: string,
  group: string,
  verb: string,
  user: string,
  name: string | undefined,
  namespace: string | undefined,
): StatusError {
  const subject = t ? `${qualifiedName(t)}${name ? ` "${name}"` : ''}` : resource;
  const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
  const message = `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}"${where}`;
  return new StatusError(403, 'Forbidden', message, {
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    kind: t?.plural ?? resource,
  });
}

export function methodNotAllowed(method: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, {
    causes: [{ message: method }],
  });
}

export function unsupportedMediaType(contentType: string): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
    {
      causes: [{ reason: 'UnsupportedMediaType', message: contentType }],
    },
  );
}

export function notFoundPath(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

export function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function tooManyRequests(): StatusError {
  return new StatusError(
    429,
    'TooManyRequests',
    'Too many requests, please try again later.',
    { retryAfterSeconds: 1 },
    { 'Retry-After': '1' },
  );
}

export function successStatus(t: ResourceType, name: string, uid: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...details(t, name), uid } };
}

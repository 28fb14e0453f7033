/**
 * The error catalog. Every error remediator reports to a caller, a run record or a log carries one of these
 * stable codes. `docs/errors.md` lists the same codes; test/engine/errors.test.ts keeps the two in sync.
 *
 * - `status` is the HTTP status an API answer uses when this error reaches a route.
 * - `retryable` says whether the engine may try the step again under its retry policy.
 */
export const ERROR_CATALOG = {
  REM_ERR_PAYLOAD_INVALID: { status: 400, retryable: false, summary: 'The Alertmanager payload is not a valid v4 webhook body.' },
  REM_ERR_BODY_TOO_LARGE: { status: 413, retryable: false, summary: 'The request body exceeds the configured limit.' },
  REM_ERR_UNAUTHORIZED: { status: 401, retryable: false, summary: 'Missing or wrong credentials for this endpoint.' },
  REM_ERR_FORBIDDEN: {
    status: 403,
    retryable: false,
    summary:
      'The credentials are valid but not for this endpoint: a token of the other audience (webhook or operator), or an operator whose role does not include the one the route needs.',
  },
  REM_ERR_CSRF: {
    status: 403,
    retryable: false,
    summary:
      "A state-changing console request (session cookie, no bearer token) lacks the session's CSRF token (header x-csrf-token); reload the page to get one.",
  },
  REM_ERR_SELF_APPROVAL: {
    status: 403,
    retryable: false,
    summary:
      'Whoever started or retried a run may not approve or reject its plan, and whoever wrote a customer notice may not approve it (approvals.requireDifferentApprover); another approver must answer. Recorded as an approval_refused decision.',
  },
  REM_ERR_NOT_FOUND: { status: 404, retryable: false, summary: 'The named playbook, run or resource does not exist.' },
  REM_ERR_BAD_REQUEST: { status: 400, retryable: false, summary: 'The request is malformed or fails its schema.' },
  REM_ERR_CONFLICT: {
    status: 409,
    retryable: false,
    summary: 'The request conflicts with the current state (e.g. retrying a run that is still active).',
  },
  REM_ERR_STORE_UNAVAILABLE: {
    status: 503,
    retryable: true,
    summary: 'Redis could not be reached or did not acknowledge the write; the caller should retry.',
  },
  REM_ERR_CONFIG_INVALID: { status: 500, retryable: false, summary: 'The configuration file or environment is invalid.' },
  REM_ERR_PLAYBOOK_INVALID: { status: 400, retryable: false, summary: 'A playbook failed to parse or validate.' },
  REM_ERR_REPLAY_INVALID: {
    status: 400,
    retryable: false,
    summary: 'A replay stream file failed to parse or validate (remediator replay).',
  },
  REM_ERR_TEMPLATE: {
    status: 400,
    retryable: false,
    summary: 'A template refers to a value that does not exist or renders to an invalid value.',
  },
  REM_ERR_INVALID_NAME: { status: 400, retryable: false, summary: 'A rendered Kubernetes object name is not a valid DNS-1123 name.' },
  REM_ERR_STEP_TIMEOUT: { status: 504, retryable: true, summary: 'One attempt of a step exceeded its timeout.' },
  REM_ERR_RUN_DEADLINE: {
    status: 504,
    retryable: false,
    summary: 'A run did not end within its maximum duration (runs.maxDuration or spec.maxDuration); it was escalated.',
  },
  REM_ERR_STEP_DEADLINE: { status: 504, retryable: false, summary: 'A step exceeded its total deadline across attempts.' },
  REM_ERR_STEP_INTERRUPTED: {
    status: 409,
    retryable: false,
    summary:
      'A step was stopped part-way because its run was cancelled (an operator, an acknowledgement with onHumanAck: stop, a resolve); what it had already done is not undone.',
  },
  REM_ERR_STEP_FAILED: { status: 500, retryable: true, summary: 'A step failed for a reason its action reported.' },
  REM_ERR_HTTP_STATUS: { status: 502, retryable: true, summary: 'An HTTP request got a status other than the expected one.' },
  REM_ERR_HTTP_TRANSPORT: {
    status: 502,
    retryable: true,
    summary: 'An HTTP request failed before a response arrived (connection refused, reset, timeout).',
  },
  REM_ERR_GATE_FAILED: { status: 500, retryable: false, summary: 'A verification gate observed a definitive failure.' },
  REM_ERR_GATE_TIMEOUT: { status: 504, retryable: false, summary: 'A verification gate did not pass within its timeout.' },
  REM_ERR_GATE_NO_DATA: { status: 500, retryable: false, summary: 'A verification gate got no data, which never counts as a pass.' },
  REM_ERR_CANCELLED: { status: 409, retryable: false, summary: 'The run was cancelled by an operator.' },
  REM_ERR_UNKNOWN_EXTENSION: { status: 400, retryable: false, summary: 'A step names an action or gate that is not registered.' },
  REM_ERR_DEPENDENCY_MISSING: {
    status: 500,
    retryable: false,
    summary: 'A step needs a service (Kubernetes, Prometheus, Alertmanager, escalation) that is not configured.',
  },
  REM_ERR_KUBE_NOT_FOUND: { status: 404, retryable: false, summary: 'The Kubernetes object does not exist.' },
  REM_ERR_KUBE_FORBIDDEN: {
    status: 403,
    retryable: false,
    summary: 'The service account lacks the permission for this verb and resource.',
  },
  REM_ERR_KUBE_CONFLICT: {
    status: 409,
    retryable: true,
    summary: 'The object changed since it was read (resourceVersion conflict); re-read and retry.',
  },
  REM_ERR_KUBE_UNAVAILABLE: { status: 503, retryable: true, summary: 'The API server throttled (429), failed (5xx) or timed out.' },
  REM_ERR_KUBE_REJECTED: {
    status: 422,
    retryable: false,
    summary: 'The API server rejected the request (other 4xx); its Status message is attached.',
  },
  REM_ERR_KUBE_PRECONDITION: {
    status: 409,
    retryable: false,
    summary: 'The object is not in a state the action may act on (paused, bounds exceeded, already equal).',
  },
  REM_ERR_BATCH_FAILED: {
    status: 500,
    retryable: false,
    summary: 'A batch step (kube.batchRestart) failed for at least one of its objects; the details list a ✅/❌ result per object.',
  },
  REM_ERR_INFRASTRUCTURE: {
    status: 500,
    retryable: false,
    summary:
      'A cluster diagnosis (kube.clusterSnapshot with failOnInfrastructure) found a cluster-level cause (node NotReady or under pressure, claim not Bound, referenced ConfigMap or Secret missing); nothing is changed and a person is paged. The details carry the snapshot.',
  },
  REM_ERR_GUARD_REFUSED: {
    status: 409,
    retryable: false,
    summary: 'A safety guard refused the mutation; the decision carries its reason code.',
  },
  REM_ERR_APPROVAL_EXPIRED: { status: 409, retryable: false, summary: 'A step waited for approval longer than allowed.' },
  REM_ERR_APPROVAL_REJECTED: { status: 409, retryable: false, summary: 'An operator rejected the plan of a step awaiting approval.' },
  REM_ERR_PLAN_CHANGED: {
    status: 409,
    retryable: false,
    summary:
      "The plan an answer or request was bound to (the plan a Slack button was shown with, a revert's planHash) is no longer the current one; nothing was done: ask for the plan again and confirm that one.",
  },
  REM_ERR_SLACK_SIGNATURE: {
    status: 401,
    retryable: false,
    summary:
      'A request to the Slack interactivity endpoint has no valid v0 signature from a configured signing secret, or its timestamp is more than 5 minutes from now (stale or replayed); nothing was done.',
  },
  REM_ERR_SLACK_NOT_PERMITTED: {
    status: 403,
    retryable: false,
    summary:
      'A Slack member pressed a button but is not mapped to an operator (escalation.targets.<name>.users) or their role does not allow that action; they get an ephemeral reply and nothing changes.',
  },
  REM_ERR_REVERT_CONFLICT: {
    status: 409,
    retryable: false,
    summary:
      "A revert was refused: an object the run changed was changed since by someone else (its fields, another run's stamp, or a later writer of those fields in its managedFields); the message and details name each object.",
  },
  REM_ERR_PREFLIGHT_DENIED: {
    status: 403,
    retryable: false,
    summary:
      "Pre-flight (SelfSubjectAccessReviews at start-up and in lint --config): remediator's identity may not do what a playbook step needs; each denied step is named.",
  },
  REM_ERR_ESCALATION_FAILED: { status: 502, retryable: true, summary: 'A paging target could not be reached or refused the event.' },
  REM_ERR_SIGNATURE_INVALID: {
    status: 401,
    retryable: false,
    summary: 'An inbound provider webhook (PagerDuty v3, Opsgenie) did not carry a valid signature or credential; nothing was changed.',
  },
  REM_ERR_INTERNAL: { status: 500, retryable: false, summary: 'An unexpected internal error.' },
} as const satisfies Record<string, { status: number; retryable: boolean; summary: string }>;

export type RemErrorCode = keyof typeof ERROR_CATALOG;

/**
 * The one error class remediator throws on purpose. Steps throw it to report a classified failure; routes turn it
 * into `{ code, message, details }` with the catalog's status.
 */
export class RemediatorError extends Error {
  readonly code: RemErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: RemErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RemediatorError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CATALOG[code].retryable;
    this.details = options.details;
  }

  get statusCode(): number {
    return ERROR_CATALOG[this.code].status;
  }

  toJSON(): { code: RemErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isRemediatorError(err: unknown): err is RemediatorError {
  return err instanceof RemediatorError;
}

/** Turns anything thrown into a RemediatorError without losing its message. */
export function toRemediatorError(err: unknown): RemediatorError {
  if (err instanceof RemediatorError) return err;
  if (err instanceof Error && err.name === 'AbortError') {
    return new RemediatorError('REM_ERR_STEP_TIMEOUT', err.message || 'aborted', { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new RemediatorError('REM_ERR_STEP_FAILED', message, { cause: err });
}

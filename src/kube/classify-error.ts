import { ApiException } from '@kubernetes/client-node';
import { RemediatorError } from '../domain/errors.ts';

/** What was being attempted, for messages people can act on: `patch deployments.apps "web" in namespace "shop"`. */
export interface KubeCall {
  verb: string;
  /** Plural resource with its group, as RBAC and kubectl name it: `deployments.apps`, `pods`, `deployments.apps/scale`. */
  resource: string;
  namespace?: string;
  name?: string;
}

/** The `Status` object the API server sends with every error. */
export interface KubeStatus {
  message?: string;
  reason?: string;
  code?: number;
  details?: unknown;
}

export function describeCall(call: KubeCall): string {
  const name = call.name === undefined ? '' : ` "${call.name}"`;
  const ns = call.namespace === undefined ? '' : ` in namespace "${call.namespace}"`;
  return `${call.verb} ${call.resource}${name}${ns}`;
}

/**
 * Turns anything a client-node call threw into one classified RemediatorError. The one place that knows
 * client-node's error shapes: `ApiException.body` is the Status as a JSON *string* (docs/contracts.md §3.4); transport
 * failures are undici errors; our own per-call timeout is a `TimeoutError` DOMException.
 *
 * - 404 → REM_ERR_KUBE_NOT_FOUND (not retryable)
 * - 401/403 → REM_ERR_KUBE_FORBIDDEN naming the verb and resource
 * - 409 → REM_ERR_KUBE_CONFLICT (retryable: re-read and write again)
 * - 429, 5xx, timeouts, connection failures → REM_ERR_KUBE_UNAVAILABLE (retryable)
 * - other 4xx → REM_ERR_KUBE_REJECTED with the server's Status message
 *
 * When the caller's own signal aborted, its reason is returned unchanged so the engine sees a cancellation or a
 * step timeout rather than a Kubernetes failure.
 */
export function classifyKubeError(err: unknown, call: KubeCall, callerSignal?: AbortSignal): unknown {
  if (err instanceof RemediatorError) return err;
  if (callerSignal?.aborted) return callerSignal.reason ?? err;
  const what = describeCall(call);
  if (err instanceof ApiException) {
    const code = err.code;
    const status = parseStatus(err.body);
    const serverMessage = status?.message ?? (typeof err.body === 'string' && err.body.length > 0 ? err.body.slice(0, 500) : undefined);
    const details: Record<string, unknown> = { httpStatus: code, ...call };
    if (status?.reason !== undefined) details.reason = status.reason;
    if (serverMessage !== undefined) details.serverMessage = serverMessage;
    const suffix = serverMessage === undefined ? '' : `: ${serverMessage}`;
    if (code === 404) return new RemediatorError('REM_ERR_KUBE_NOT_FOUND', `${what}: not found${suffix}`, { details, cause: err });
    if (code === 403) return new RemediatorError('REM_ERR_KUBE_FORBIDDEN', `forbidden to ${what}${suffix}`, { details, cause: err });
    if (code === 401) {
      return new RemediatorError('REM_ERR_KUBE_FORBIDDEN', `the API server did not accept remediator's credentials (401) to ${what}`, {
        details,
        cause: err,
      });
    }
    if (code === 409) return new RemediatorError('REM_ERR_KUBE_CONFLICT', `conflict on ${what}${suffix}`, { details, cause: err });
    if (code === 429 || code >= 500) {
      return new RemediatorError('REM_ERR_KUBE_UNAVAILABLE', `the API server answered ${code} to ${what}${suffix}`, {
        details,
        cause: err,
      });
    }
    return new RemediatorError('REM_ERR_KUBE_REJECTED', `the API server rejected ${what} (${code})${suffix}`, { details, cause: err });
  }
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') {
    return new RemediatorError('REM_ERR_KUBE_UNAVAILABLE', `${what}: no answer from the API server in time`, {
      details: { ...call, timeout: true },
      cause: err,
    });
  }
  const transport = e?.cause?.code ?? e?.code;
  if (e?.name === 'TypeError' || e?.name === 'AbortError' || (typeof transport === 'string' && /^(E[A-Z]+|UND_ERR.*)$/.test(transport))) {
    const reason = [transport, e?.cause?.message ?? e?.message].filter(Boolean).join(' ');
    return new RemediatorError('REM_ERR_KUBE_UNAVAILABLE', `${what}: could not reach the API server (${reason})`, {
      details: { ...call, transport },
      cause: err,
    });
  }
  return err;
}

function parseStatus(body: unknown): KubeStatus | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as KubeStatus) : undefined;
    } catch {
      return undefined;
    }
  }
  if (typeof body === 'object' && body !== null) return body as KubeStatus;
  return undefined;
}

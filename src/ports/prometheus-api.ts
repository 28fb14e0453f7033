/**
 * The narrow Prometheus port used by `prometheus.query`: one instant query, answered as a typed union that mirrors
 * the `/api/v1/query` envelope. Failures Prometheus (or a proxy in front of it, or the network) reports are values,
 * not exceptions, because a gate must tell a broken query (`bad_data`) from a Prometheus that is busy (`timeout`)
 * from one that is down (`network`). Only an aborted signal throws (its reason).
 */
export interface PrometheusApi {
  readonly baseUrl: string;
  query(expr: string, options: PromQueryOptions): Promise<PromQueryResult>;
}

export interface PromQueryOptions {
  signal: AbortSignal;
  /** Sent to Prometheus as the query `timeout`; the HTTP request gets a little longer so its own answer arrives. */
  timeoutMs: number;
  /** Evaluation time in milliseconds since the epoch; Prometheus's current time when absent. */
  time?: number;
}

/** A sample value as Prometheus spelled it (`"1"`, `"NaN"`, `"+Inf"`, `"1e-07"`) and as a JS number. */
export interface PromValue {
  /** Seconds since the epoch, as Prometheus sent it (a float). */
  timestamp: number;
  value: number;
  raw: string;
}

export interface PromSample extends PromValue {
  labels: Record<string, string>;
}

/** Extra remarks Prometheus attached to a successful or failed answer. */
interface PromNotes {
  warnings: string[];
  infos: string[];
}

export type PromQueryResult =
  | ({ status: 'success'; resultType: 'vector'; samples: PromSample[] } & PromNotes)
  | ({ status: 'success'; resultType: 'scalar' } & PromValue & PromNotes)
  | ({ status: 'success'; resultType: 'string'; timestamp: number; value: string } & PromNotes)
  | ({ status: 'success'; resultType: 'matrix'; series: Array<{ labels: Record<string, string>; values: PromValue[] }> } & PromNotes)
  | ({ status: 'error'; errorType: PromErrorType; error: string; httpStatus?: number } & PromNotes);

/**
 * Prometheus's own `errorType` values (`web/api/v1/api.go`), plus three for answers that never reached or never
 * came from Prometheus: `network` (no response), `bad_response` (a body that is not a Prometheus envelope, e.g. an
 * HTML 502 from a proxy) and `http` (a non-2xx status with no errorType).
 */
export type PromErrorType =
  | 'bad_data'
  | 'execution'
  | 'timeout'
  | 'canceled'
  | 'internal'
  | 'unavailable'
  | 'not_found'
  | 'not_acceptable'
  | 'network'
  | 'bad_response'
  | 'http';

/**
 * Parses a sample string the way Go's strconv wrote it. `Number("+Inf")` is NaN in JS, so the special spellings
 * are mapped explicitly; anything else that is not a number is NaN (which never satisfies a comparison).
 */
export function parsePromValue(raw: string): number {
  switch (raw) {
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'NaN':
      return Number.NaN;
    default:
      return raw.trim() === '' ? Number.NaN : Number(raw);
  }
}

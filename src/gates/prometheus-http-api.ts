import type { HttpClient, HttpResponse } from '../ports/http-client.ts';
import { authorizationHeader, trimBaseUrl, type HttpAuth } from './http-auth.ts';
import {
  parsePromValue,
  type PromErrorType,
  type PromQueryOptions,
  type PromQueryResult,
  type PromSample,
  type PromValue,
  type PrometheusApi,
} from '../ports/prometheus-api.ts';

export interface PrometheusHttpApiOptions {
  /** Where the Prometheus HTTP API lives, e.g. `http://prometheus:9090` or `https://host/prometheus` (no `/api/v1`). */
  baseUrl: string;
  http: HttpClient;
  auth?: HttpAuth;
  /** Extra headers on every request (e.g. `X-Scope-OrgID` for Mimir/Cortex/Thanos tenants). */
  headers?: Record<string, string>;
  /**
   * How much longer than the query `timeout` the HTTP request may take, so that Prometheus's own `timeout` answer
   * arrives before the client gives up. Default 1000 ms.
   */
  graceMs?: number;
}

const ERROR_TYPES: ReadonlySet<string> = new Set<PromErrorType>([
  'bad_data',
  'execution',
  'timeout',
  'canceled',
  'internal',
  'unavailable',
  'not_found',
  'not_acceptable',
]);

/**
 * `PrometheusApi` over the HTTP API (`POST /api/v1/query`, form-encoded, so long expressions never hit URL limits).
 * Works with anything that speaks that API (Prometheus, Thanos Query, Mimir, VictoriaMetrics).
 */
export class PrometheusHttpApi implements PrometheusApi {
  readonly baseUrl: string;
  readonly #http: HttpClient;
  readonly #headers: Record<string, string>;
  readonly #graceMs: number;

  constructor(options: PrometheusHttpApiOptions) {
    this.baseUrl = trimBaseUrl(options.baseUrl);
    this.#http = options.http;
    this.#graceMs = options.graceMs ?? 1000;
    this.#headers = {
      ...options.headers,
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
      ...(options.auth ? { authorization: authorizationHeader(options.auth) } : {}),
    };
  }

  async query(expr: string, options: PromQueryOptions): Promise<PromQueryResult> {
    const form = new URLSearchParams({ query: expr, timeout: `${Math.max(1, Math.round(options.timeoutMs))}ms` });
    if (options.time !== undefined) form.set('time', (options.time / 1000).toFixed(3));
    let res: HttpResponse;
    try {
      res = await this.#http.request({
        method: 'POST',
        url: `${this.baseUrl}/api/v1/query`,
        headers: this.#headers,
        body: form.toString(),
        timeoutMs: options.timeoutMs + this.#graceMs,
        signal: options.signal,
      });
    } catch (err) {
      if (options.signal.aborted) throw options.signal.reason ?? err;
      return failure('network', err instanceof Error ? err.message : String(err));
    }
    return decodeQueryResponse(res.status, res.body);
  }
}

/**
 * Turns one `/api/v1/query` answer into a `PromQueryResult`. Exported for the API's own tests and for tools that
 * read saved answers; anything that is not a well-formed envelope becomes `bad_response` rather than a throw.
 */
export function decodeQueryResponse(httpStatus: number, body: unknown): PromQueryResult {
  let envelope = body;
  if (typeof body === 'string') {
    try {
      envelope = JSON.parse(body);
    } catch {
      const text = body.replace(/\s+/g, ' ').trim().slice(0, 200);
      return failure(
        httpStatus >= 200 && httpStatus < 300 ? 'bad_response' : 'http',
        `HTTP ${httpStatus}: ${text || '(empty body)'}`,
        httpStatus,
      );
    }
  }
  if (!isObject(envelope) || (envelope.status !== 'success' && envelope.status !== 'error')) {
    return failure(
      httpStatus >= 200 && httpStatus < 300 ? 'bad_response' : 'http',
      `HTTP ${httpStatus}: not a Prometheus API answer`,
      httpStatus,
    );
  }
  const notes = { warnings: strings(envelope.warnings), infos: strings(envelope.infos) };
  if (envelope.status === 'error') {
    const errorType =
      typeof envelope.errorType === 'string' && ERROR_TYPES.has(envelope.errorType) ? (envelope.errorType as PromErrorType) : 'http';
    return {
      status: 'error',
      errorType,
      error: typeof envelope.error === 'string' ? envelope.error : `HTTP ${httpStatus}`,
      httpStatus,
      ...notes,
    };
  }
  if (httpStatus < 200 || httpStatus >= 300) return failure('http', `HTTP ${httpStatus} with a success envelope`, httpStatus);
  const data = envelope.data;
  if (!isObject(data) || typeof data.resultType !== 'string') return failure('bad_response', 'answer has no data.resultType', httpStatus);
  const result = data.result;
  switch (data.resultType) {
    case 'vector': {
      if (!Array.isArray(result)) return failure('bad_response', 'vector result is not a list', httpStatus);
      const samples: PromSample[] = [];
      let histograms = 0;
      for (const item of result) {
        if (!isObject(item)) return failure('bad_response', 'vector element is not an object', httpStatus);
        if (item.value === undefined && item.histogram !== undefined) {
          histograms++;
          continue;
        }
        const value = pair(item.value);
        if (!value) return failure('bad_response', 'vector element has no [time, "value"] pair', httpStatus);
        samples.push({ labels: labels(item.metric), ...value });
      }
      if (histograms > 0)
        notes.infos.push(`${histograms} native histogram sample(s) ignored: compare a float expression such as histogram_count()`);
      return { status: 'success', resultType: 'vector', samples, ...notes };
    }
    case 'scalar': {
      const value = pair(result);
      if (!value) return failure('bad_response', 'scalar result is not a [time, "value"] pair', httpStatus);
      return { status: 'success', resultType: 'scalar', ...value, ...notes };
    }
    case 'string': {
      if (!Array.isArray(result) || typeof result[0] !== 'number' || typeof result[1] !== 'string')
        return failure('bad_response', 'string result is not a [time, "text"] pair', httpStatus);
      return { status: 'success', resultType: 'string', timestamp: result[0], value: result[1], ...notes };
    }
    case 'matrix': {
      if (!Array.isArray(result)) return failure('bad_response', 'matrix result is not a list', httpStatus);
      const series = [];
      for (const item of result) {
        if (!isObject(item)) return failure('bad_response', 'matrix element is not an object', httpStatus);
        const values: PromValue[] = [];
        for (const v of Array.isArray(item.values) ? item.values : []) {
          const parsed = pair(v);
          if (parsed) values.push(parsed);
        }
        series.push({ labels: labels(item.metric), values });
      }
      return { status: 'success', resultType: 'matrix', series, ...notes };
    }
    default:
      return failure('bad_response', `unknown resultType "${data.resultType}"`, httpStatus);
  }
}

function failure(errorType: PromErrorType, error: string, httpStatus?: number): PromQueryResult {
  return { status: 'error', errorType, error, ...(httpStatus === undefined ? {} : { httpStatus }), warnings: [], infos: [] };
}

function pair(v: unknown): PromValue | undefined {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number' || typeof v[1] !== 'string') return undefined;
  return { timestamp: v[0], raw: v[1], value: parsePromValue(v[1]) };
}

function labels(metric: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(metric)) for (const [k, v] of Object.entries(metric)) if (typeof v === 'string') out[k] = v;
  return out;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

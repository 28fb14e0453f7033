import { RemediatorError } from '../domain/errors.ts';
import type { HttpClient } from '../ports/http-client.ts';
import type { AlertFilter, AlertmanagerApi, AmAlert } from '../ports/alertmanager-api.ts';
import { authorizationHeader, trimBaseUrl, type HttpAuth } from './http-auth.ts';

export interface AlertmanagerHttpApiOptions {
  /** Alertmanager's external URL, e.g. `http://alertmanager:9093` (no `/api/v2`). */
  baseUrl: string;
  http: HttpClient;
  auth?: HttpAuth;
  headers?: Record<string, string>;
  /** Per-request timeout when the caller gives none. Default 10 s. */
  timeoutMs?: number;
}

/** `AlertmanagerApi` over Alertmanager's HTTP API v2. */
export class AlertmanagerHttpApi implements AlertmanagerApi {
  readonly baseUrl: string;
  readonly #http: HttpClient;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: AlertmanagerHttpApiOptions) {
    this.baseUrl = trimBaseUrl(options.baseUrl);
    this.#http = options.http;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#headers = {
      ...options.headers,
      accept: 'application/json',
      ...(options.auth ? { authorization: authorizationHeader(options.auth) } : {}),
    };
  }

  async listAlerts(filter: AlertFilter, options: { signal: AbortSignal; timeoutMs?: number }): Promise<AmAlert[]> {
    const query = new URLSearchParams();
    for (const m of filter.matchers) query.append('filter', m);
    query.set('active', String(filter.includeActive ?? true));
    query.set('silenced', String(filter.includeSilenced ?? true));
    query.set('inhibited', String(filter.includeInhibited ?? true));
    query.set('unprocessed', String(filter.includeUnprocessed ?? true));
    if (filter.receiver !== undefined) query.set('receiver', filter.receiver);
    const res = await this.#http.request({
      method: 'GET',
      url: `${this.baseUrl}/api/v2/alerts?${query.toString()}`,
      headers: this.#headers,
      timeoutMs: options.timeoutMs ?? this.#timeoutMs,
      signal: options.signal,
    });
    if (res.status < 200 || res.status >= 300) {
      const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
      throw new RemediatorError(
        'REM_ERR_HTTP_STATUS',
        `Alertmanager answered ${res.status} to GET /api/v2/alerts: ${text.trim().slice(0, 200)}`,
        {
          details: { status: res.status, body: text.slice(0, 1000) },
          retryable: res.status >= 500 || res.status === 429,
        },
      );
    }
    let body = res.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        body = undefined;
      }
    }
    if (!Array.isArray(body)) {
      throw new RemediatorError(
        'REM_ERR_HTTP_STATUS',
        `Alertmanager answered ${res.status} to GET /api/v2/alerts with something that is not a list of alerts`,
        {
          details: { status: res.status },
          retryable: true,
        },
      );
    }
    return body.map(toAlert);
  }
}

function toAlert(raw: unknown): AmAlert {
  const a = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const status = (typeof a.status === 'object' && a.status !== null ? a.status : {}) as Record<string, unknown>;
  const state = status.state === 'active' || status.state === 'suppressed' || status.state === 'unprocessed' ? status.state : 'active';
  return {
    labels: stringMap(a.labels),
    annotations: stringMap(a.annotations),
    fingerprint: typeof a.fingerprint === 'string' ? a.fingerprint : '',
    startsAt: typeof a.startsAt === 'string' ? a.startsAt : '',
    endsAt: typeof a.endsAt === 'string' ? a.endsAt : '',
    updatedAt: typeof a.updatedAt === 'string' ? a.updatedAt : '',
    ...(typeof a.generatorURL === 'string' && a.generatorURL ? { generatorURL: a.generatorURL } : {}),
    receivers: Array.isArray(a.receivers)
      ? a.receivers
          .map((r) =>
            typeof r === 'object' && r !== null && typeof (r as { name?: unknown }).name === 'string' ? (r as { name: string }).name : '',
          )
          .filter(Boolean)
      : [],
    status: { state, silencedBy: stringList(status.silencedBy), inhibitedBy: stringList(status.inhibitedBy) },
  };
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v === 'object' && v !== null) for (const [k, s] of Object.entries(v)) if (typeof s === 'string') out[k] = s;
  return out;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

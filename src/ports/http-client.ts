import type { AxiosInstance } from 'axios';
import { RemediatorError } from '../domain/errors.ts';

/** One HTTP exchange as the engine sees it. Bodies are parsed JSON when the server said JSON, else text. */
export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  latencyMs: number;
}

/**
 * The narrow HTTP port used by steps, gates and paging targets. Any status is returned as a response (the caller
 * decides what is expected); only transport failures throw, as REM_ERR_HTTP_TRANSPORT (or the abort's reason).
 */
export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
}

/**
 * The HttpClient on axios. axios is imported on the first request, not with this module: a process that never sends
 * one (a receiver) does not carry it.
 */
export class AxiosHttpClient implements HttpClient {
  readonly #userAgent: string;
  #axios: Promise<AxiosInstance> | undefined;

  constructor(options: { userAgent?: string } = {}) {
    this.#userAgent = options.userAgent ?? 'remediator';
  }

  #instance(): Promise<AxiosInstance> {
    this.#axios ??= import('axios').then(({ default: axios }) =>
      axios.create({
        validateStatus: () => true,
        maxRedirects: 0,
        headers: { 'user-agent': this.#userAgent },
        transitional: { clarifyTimeoutError: true },
      }),
    );
    return this.#axios;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const started = performance.now();
    try {
      const res = await (await this.#instance()).request({
        method: req.method,
        url: req.url,
        headers: req.headers,
        data: req.body,
        timeout: req.timeoutMs,
        signal: req.signal,
        responseType: 'text',
        transformResponse: (data: string) => data,
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && v !== null) headers[k.toLowerCase()] = String(v);
      return { status: res.status, headers, body: parseBody(res.data, headers['content-type']), latencyMs: performance.now() - started };
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      const e = err as { code?: string; message?: string };
      throw new RemediatorError('REM_ERR_HTTP_TRANSPORT', `${req.method} ${redactUrl(req.url)}: ${e.code ?? ''} ${e.message ?? String(err)}`.replace(/\s+/g, ' ').trim(), {
        details: { code: e.code, latencyMs: Math.round(performance.now() - started) },
        cause: err,
      });
    }
  }
}

/** A body as the engine sees it: parsed JSON when the content type says JSON, else the text. */
export function parseBody(data: unknown, contentType: string | undefined): unknown {
  if (typeof data !== 'string' || data.length === 0) return data ?? '';
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(data);
    } catch {
      return data;
    }
  }
  return data;
}

/** Drops credentials and query strings from a URL before it reaches a log or a run record. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    if (u.search) u.search = '?…';
    return u.toString();
  } catch {
    return url;
  }
}

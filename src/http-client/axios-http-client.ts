import type { AxiosInstance } from 'axios';
import { RemediatorError } from '../domain/errors.ts';
import { parseBody, redactUrl, type HttpClient, type HttpRequest, type HttpResponse } from '../ports/http-client.ts';

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
      throw new RemediatorError(
        'REM_ERR_HTTP_TRANSPORT',
        `${req.method} ${redactUrl(req.url)}: ${e.code ?? ''} ${e.message ?? String(err)}`.replace(/\s+/g, ' ').trim(),
        {
          details: { code: e.code, latencyMs: Math.round(performance.now() - started) },
          cause: err,
        },
      );
    }
  }
}

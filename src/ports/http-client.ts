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

import { parseBody, type HttpClient, type HttpRequest, type HttpResponse } from '../ports/http-client.ts';
import type { ScriptedWorld } from './scripted-world.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export interface ScriptedHttpClientOptions {
  /** Who answers, at the start of the 502 body for a URL nothing answers (default `remediator test`). */
  who?: string;
  /**
   * Base URLs that also go out for real, besides loopback: a real Prometheus or Alertmanager the user named instead
   * of the scripted one (default none). A URL goes out when it starts with one of them.
   */
  passThrough?: string[];
}

/**
 * The HTTP port of a playbook test's engine: calls to loopback (the scripted Prometheus and Alertmanager, the
 * webhook sink) and to `passThrough` go out for real; every other URL (`http://phone-gateway.ai-ninja.svc:8080/health`,
 * http or https) is answered from the case's `world.http`, recorded as a world call. An unanswered URL gets a 502,
 * as from a proxy that cannot reach it, so a gate keeps polling and the case reports the call it was missing.
 */
export class ScriptedHttpClient implements HttpClient {
  readonly #world: ScriptedWorld;
  readonly #loopback: HttpClient;
  readonly #who: string;
  readonly #passThrough: string[];

  constructor(world: ScriptedWorld, loopback: HttpClient, options: ScriptedHttpClientOptions = {}) {
    this.#world = world;
    this.#loopback = loopback;
    this.#who = options.who ?? 'remediator test';
    this.#passThrough = options.passThrough ?? [];
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    if (LOOPBACK.has(new URL(req.url).hostname) || this.#passThrough.some((base) => req.url.startsWith(base)))
      return this.#loopback.request(req);
    req.signal?.throwIfAborted();
    const answer = this.#world.http(req.method, req.url);
    if (!answer)
      return {
        status: 502,
        headers: { 'content-type': 'text/plain' },
        body: `${this.#who}: no world.http answer for ${req.method} ${req.url}`,
        latencyMs: 0,
      };
    // As on the wire: an object body is JSON, a string is text unless the answer's headers say otherwise.
    const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const headers = {
      'content-type': typeof answer.body === 'object' && answer.body !== null ? 'application/json' : 'text/plain',
      ...lowerCased(answer.headers),
    };
    return { status: answer.status, headers, body: parseBody(text, headers['content-type']), latencyMs: 0 };
  }
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

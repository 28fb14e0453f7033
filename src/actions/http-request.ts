import { Type } from '@sinclair/typebox';
import { defineAction } from '../engine/step-definition.ts';
import { Duration, parseDuration } from '../domain/duration.ts';
import { RemediatorError } from '../domain/errors.ts';
import { redactUrl } from '../ports/http-client.ts';

/**
 * Sends one HTTP request (a webhook, a feature flag service, a runbook's "reset pool" endpoint) and fails unless
 * the status is one of `expectStatus`. The response body (bounded) becomes the step's output.
 */
export const httpRequestAction = defineAction({
  name: 'http.request',
  summary: 'Send an HTTP request and require an expected status.',
  params: Type.Object(
    {
      url: Type.String({ format: 'uri', description: 'Absolute http(s) URL.' }),
      method: Type.Optional(
        Type.Union(
          ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'].map((m) => Type.Literal(m)),
          { default: 'GET' },
        ),
      ),
      headers: Type.Optional(Type.Record(Type.String(), Type.String())),
      body: Type.Optional(Type.Unknown({ description: 'Sent as JSON when an object, as text when a string.' })),
      expectStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, default: [200, 201, 202, 204] })),
      timeout: Type.Optional(Duration({ description: 'Per-request timeout (default 10s).' })),
    },
    { additionalProperties: false },
  ),
  async run(ctx) {
    const p = ctx.params;
    const method = p.method ?? 'GET';
    const expected = p.expectStatus ?? [200, 201, 202, 204];
    const res = await ctx.http.request({
      method,
      url: p.url,
      headers: p.headers,
      body: p.body,
      timeoutMs: p.timeout === undefined ? 10_000 : parseDuration(p.timeout),
      signal: ctx.signal,
    });
    const output = { status: res.status, latencyMs: Math.round(res.latencyMs), body: truncate(res.body) };
    if (!expected.includes(res.status)) {
      throw new RemediatorError(
        'REM_ERR_HTTP_STATUS',
        `${method} ${redactUrl(p.url)} answered ${res.status}, expected ${expected.join(' or ')}`,
        {
          details: output,
          retryable: res.status >= 500 || res.status === 429,
        },
      );
    }
    return { status: 'ok', output, summary: `${method} ${redactUrl(p.url)} → ${res.status} in ${output.latencyMs} ms` };
  },
});

function truncate(body: unknown): unknown {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (text === undefined || text.length <= 4096) return body;
  return `${text.slice(0, 4096)}… (${text.length} bytes)`;
}

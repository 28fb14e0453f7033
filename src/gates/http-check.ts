import { Type } from '@sinclair/typebox';
import { JSONPath } from 'jsonpath-plus';
import { isDeepStrictEqual } from 'node:util';
import { Duration, parseDuration } from '../domain/duration.ts';
import { defineGate, type Observation } from '../engine/step-definition.ts';
import { redactUrl, type HttpResponse } from '../ports/http-client.ts';

/** `200`, `"200-299"` or `"2xx"`. */
const StatusSpec = Type.Union([
  Type.Integer({ minimum: 100, maximum: 599 }),
  Type.String({ pattern: '^(?:[1-5]xx|[1-5]\\d\\d-[1-5]\\d\\d)$' }),
]);

/** Only this much of a body is searched by `contains`/`regex` and shown in the observation. */
const MATCH_BYTES = 256 * 1024;
const EXCERPT = 300;

/**
 * One HTTP probe per poll: passes when the status is expected and the body matches. A request that gets no answer
 * (refused, reset, timed out) is a `fail`, not an error: a service that is down is exactly what this gate watches
 * for. A `regex` that does not compile is `fatal` (a playbook bug no amount of polling fixes).
 */
export const httpCheckGate = defineGate({
  name: 'http.check',
  summary: 'Poll an HTTP endpoint until it answers an expected status (and body) several times in a row.',
  params: Type.Object(
    {
      url: Type.String({ format: 'uri', description: 'Absolute http(s) URL.' }),
      method: Type.Optional(
        Type.Union(
          ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => Type.Literal(m)),
          { default: 'GET' },
        ),
      ),
      headers: Type.Optional(Type.Record(Type.String(), Type.String())),
      body: Type.Optional(Type.Unknown({ description: 'Request body: JSON when an object, as is when a string.' })),
      expectStatus: Type.Optional(
        Type.Array(StatusSpec, {
          minItems: 1,
          default: ['200-299'],
          description: 'Statuses that pass: codes (200), ranges ("200-299") or classes ("2xx"). Default 200-299.',
        }),
      ),
      bodyMatch: Type.Optional(
        Type.Object(
          {
            contains: Type.Optional(Type.String({ minLength: 1, description: 'The body must contain this text.' })),
            regex: Type.Optional(Type.String({ minLength: 1, description: 'The body must match this JavaScript regular expression.' })),
            jsonPath: Type.Optional(
              Type.Object(
                {
                  path: Type.String({
                    minLength: 1,
                    description: 'JSONPath into the JSON body, e.g. $.status or $.checks[*].status (no script expressions).',
                  }),
                  equals: Type.Optional(
                    Type.Unknown({ description: 'Every value the path selects must equal this. Absent: the path must select something.' }),
                  ),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false, minProperties: 1, description: 'All given conditions must hold.' },
        ),
      ),
      timeout: Type.Optional(Duration({ description: 'Per-request timeout (default 5s).' })),
    },
    { additionalProperties: false },
  ),
  defaults: { intervalMs: 2000, timeoutMs: 120_000, successes: 5 },
  async check(ctx): Promise<Observation> {
    const p = ctx.params;
    const method = p.method ?? 'GET';
    const where = `${method} ${redactUrl(p.url)}`;
    const expect = p.expectStatus ?? ['200-299'];
    let regex: RegExp | undefined;
    if (p.bodyMatch?.regex !== undefined) {
      try {
        regex = new RegExp(p.bodyMatch.regex);
      } catch (err) {
        return { verdict: 'fatal', summary: `bodyMatch.regex does not compile: ${(err as Error).message}` };
      }
    }

    let res: HttpResponse;
    try {
      res = await ctx.http.request({
        method,
        url: p.url,
        headers: p.headers,
        body: p.body,
        timeoutMs: p.timeout === undefined ? 5000 : parseDuration(p.timeout),
        signal: ctx.signal,
      });
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
      return {
        verdict: 'fail',
        summary: err instanceof Error ? err.message : String(err),
        value: { error: err instanceof Error ? err.message : String(err) },
      };
    }

    const latencyMs = Math.round(res.latencyMs);
    const text = typeof res.body === 'string' ? res.body : (JSON.stringify(res.body) ?? '');
    const seen = { status: res.status, body: text.length > EXCERPT ? `${text.slice(0, EXCERPT)}… (${text.length} chars)` : text };
    const base = { statusCode: res.status, latencyMs, value: seen };
    const head = `HTTP ${res.status} in ${latencyMs} ms`;

    if (!expect.some((s) => statusMatches(res.status, s))) {
      return { ...base, verdict: 'fail', summary: `${head} from ${where}, expected ${expect.join(', ')}` };
    }
    const bodyProblem = p.bodyMatch ? checkBody(res.body, text.slice(0, MATCH_BYTES), p.bodyMatch, regex) : undefined;
    if (bodyProblem) return { ...base, verdict: 'fail', summary: `${head}, but ${bodyProblem}` };
    return { ...base, verdict: 'pass', summary: head };
  },
});

/** Whether `status` is allowed by one `expectStatus` entry. */
export function statusMatches(status: number, spec: number | string): boolean {
  if (typeof spec === 'number') return status === spec;
  if (/^[1-5]xx$/.test(spec)) return Math.floor(status / 100) === Number(spec[0]);
  const [lo, hi] = spec.split('-').map(Number);
  return lo !== undefined && hi !== undefined && status >= lo && status <= hi;
}

/** Why the body does not match, or undefined when it does. */
function checkBody(
  body: unknown,
  text: string,
  match: { contains?: string; regex?: string; jsonPath?: { path: string; equals?: unknown } },
  regex: RegExp | undefined,
): string | undefined {
  if (match.contains !== undefined && !text.includes(match.contains)) return `the body does not contain ${JSON.stringify(match.contains)}`;
  if (regex && !regex.test(text)) return `the body does not match /${regex.source}/`;
  if (match.jsonPath) {
    let json = body;
    if (typeof body === 'string') {
      try {
        json = JSON.parse(body);
      } catch {
        return 'the body is not JSON';
      }
    }
    if (json === null || typeof json !== 'object') return 'the body is not a JSON object or array';
    let found: unknown[];
    try {
      // eval: false refuses script expressions ([?(@.x)]) instead of running code from a playbook.
      found = JSONPath({ path: match.jsonPath.path, json, eval: false, wrap: true }) as unknown[];
    } catch (err) {
      return `JSONPath ${match.jsonPath.path} failed: ${(err as Error).message}`;
    }
    if (found.length === 0) return `JSONPath ${match.jsonPath.path} selects nothing`;
    const want = match.jsonPath.equals;
    if (want !== undefined) {
      if (found.some((v) => !isDeepStrictEqual(v, want))) {
        return `JSONPath ${match.jsonPath.path} is ${JSON.stringify(found.length === 1 ? found[0] : found)}, expected ${JSON.stringify(want)}`;
      }
    }
  }
  return undefined;
}

import { readFile } from 'node:fs/promises';
import { dirname, resolve, relative } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import jsonpatch from 'fast-json-patch';
import { Duration, parseDuration } from '../domain/duration.ts';
import { RemediatorError } from '../domain/errors.ts';
import { WebhookPayloadSchema, type WebhookPayload } from '../alerts/alertmanager-payload.ts';
import { YamlSource, formatProblem, type SourceProblem } from '../schema/yaml-source.ts';
import { createAjv, describeErrors, sourceProblems } from '../schema/validator.ts';
import { WorldSchema, type WorldDoc } from '../playbook-test/test-file-schema.ts';

/**
 * A replay stream: Alertmanager deliveries recorded (or written) as a YAML file, each at an offset from the start.
 *
 * ```yaml
 * name: service-down-repeats
 * entries:
 *   - at: 0s                                  # offset on the replay's virtual clock (500ms, 30s, 4h, 1h30m)
 *     payload: ../alertmanager/firing.json    # a file, relative to this stream file, or an inline payload object
 *     note: first notification after group_wait
 *   - at: 0s                                  # entries with the same offset are posted at once (an HA twin)
 *     payload: ../alertmanager/firing.json
 *   - at: 20m
 *     payload: ../alertmanager/firing.json
 *     patch:                                  # RFC 6902 JSON Patch applied to a copy of the payload
 *       - { op: replace, path: /alerts/0/startsAt, value: "2026-11-25T12:18:06.941Z" }
 *     headers: { user-agent: Alertmanager/0.25.0 }
 * world:                                      # optional: what Prometheus, Alertmanager and service URLs answer,
 *   prometheus:                               # the `world:` of a playbook test case (docs/playbook-tests.md)
 *     - { query: 'up{job="phone-gateway"', answers: [[1]] }
 *   http:
 *     - { url: "http://phone-gateway.ai-ninja.svc:80/health", answers: [200] }
 * ```
 *
 * Offsets must not decrease. Every payload, after its patch, must be a valid version 4 webhook body. Problems are
 * reported all at once as `file:line:column: message` (REM_ERR_REPLAY_INVALID).
 */
const PatchOp = Type.Object(
  {
    op: Type.Union(['add', 'remove', 'replace', 'move', 'copy', 'test'].map((o) => Type.Literal(o))),
    path: Type.String(),
    value: Type.Optional(Type.Unknown()),
    from: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const EntrySchema = Type.Object(
  {
    at: Duration({ description: 'Offset from the start of the replay (virtual time).' }),
    payload: Type.Union([Type.String({ minLength: 1 }), Type.Object({}, { additionalProperties: true })], {
      description: 'A JSON file relative to the stream file, or the payload inline.',
    }),
    patch: Type.Optional(Type.Array(PatchOp, { description: 'JSON Patch (RFC 6902) applied to a copy of the payload.' })),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Extra request headers. The webhook credentials are added unless `authorization` is given.',
      }),
    ),
    note: Type.Optional(Type.String({ description: 'What this delivery stands for (printed with the replay).' })),
  },
  { additionalProperties: false },
);

export const ReplayStreamSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    description: Type.Optional(Type.String()),
    entries: Type.Array(EntrySchema, { minItems: 1 }),
    world: Type.Optional(WorldSchema),
  },
  { additionalProperties: false },
);

type StreamDoc = Static<typeof ReplayStreamSchema>;

/** One delivery to replay. */
export interface ReplayEntry {
  /** 0-based position in the stream. */
  index: number;
  /** `file:line` of the entry, for messages. */
  where: string;
  atMs: number;
  payload: WebhookPayload;
  headers: Record<string, string>;
  note?: string;
}

export interface ReplayStream {
  file: string;
  name: string;
  description?: string;
  entries: ReplayEntry[];
  /** The scripted outside world the playbooks' gates query, when the stream has one. */
  world?: WorldDoc;
}

const ajv = createAjv();
const validateStream = ajv.compile(ReplayStreamSchema);
const validatePayload = ajv.compile(WebhookPayloadSchema);

/** Reads and checks a stream file. Throws REM_ERR_REPLAY_INVALID listing every problem with its position. */
export async function loadReplayStream(file: string, options: { signal?: AbortSignal } = {}): Promise<ReplayStream> {
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', signal: options.signal });
  } catch (err) {
    throw new RemediatorError('REM_ERR_REPLAY_INVALID', `cannot read replay stream ${file}: ${(err as Error).message}`);
  }
  return parseReplayStream(file, text, { readPayload: (path) => readFile(path, { encoding: 'utf8', signal: options.signal }) });
}

/**
 * Checks a stream's text. `readPayload` reads a payload file given its absolute path (resolved against the stream
 * file's folder).
 */
export async function parseReplayStream(
  file: string,
  text: string,
  io: { readPayload(path: string): Promise<string> },
): Promise<ReplayStream> {
  const source = new YamlSource(file, text);
  if (source.problems.length > 0) throw invalid(source.problems);
  const doc = source.value as StreamDoc;
  const problems: SourceProblem[] = [];
  if (!validateStream(doc)) {
    // Problems confined to `world:` do not stop the entries from being checked: every problem is reported at once.
    const errors = validateStream.errors ?? [];
    if (errors.some((e) => !e.instancePath.startsWith('/world'))) throw invalid(sourceProblems(source, errors));
    problems.push(...sourceProblems(source, errors));
  }

  const at = (pointer: string, message: string) => problems.push({ ...source.locate(pointer), message });
  const cache = new Map<string, Promise<unknown>>();
  const entries: ReplayEntry[] = [];
  let previousMs = 0;
  for (const [i, e] of doc.entries.entries()) {
    const base = `/entries/${i}`;
    const atMs = parseDuration(e.at);
    if (atMs < previousMs) at(`${base}/at`, `at ${String(e.at)} is earlier than the entry before it; offsets must not decrease`);
    previousMs = Math.max(previousMs, atMs);

    let payload: unknown;
    if (typeof e.payload === 'string') {
      const path = resolve(dirname(file), e.payload);
      if (!cache.has(path))
        cache.set(
          path,
          io.readPayload(path).then((t) => JSON.parse(t) as unknown),
        );
      try {
        payload = structuredClone(await cache.get(path));
      } catch (err) {
        at(`${base}/payload`, `cannot use payload file ${relative(process.cwd(), path) || path}: ${(err as Error).message}`);
        continue;
      }
    } else {
      payload = structuredClone(e.payload);
    }
    if (e.patch) {
      try {
        payload = jsonpatch.applyPatch(payload, e.patch as jsonpatch.Operation[], true, true).newDocument;
      } catch (err) {
        const index = (err as { index?: number }).index;
        at(
          index === undefined ? `${base}/patch` : `${base}/patch/${index}`,
          `patch does not apply: ${(err as Error).message.split('\n')[0]}`,
        );
        continue;
      }
    }
    if (!validatePayload(payload)) {
      at(
        `${base}/payload`,
        `not a valid Alertmanager v4 payload${e.patch ? ' (after the patch)' : ''}: ${describeErrors(validatePayload.errors).join('; ')}`,
      );
      continue;
    }
    const pos = source.locate(base);
    entries.push({
      index: i,
      where: `${file}:${pos.line}`,
      atMs,
      payload: payload as WebhookPayload,
      headers: Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      note: e.note,
    });
  }
  if (problems.length > 0) throw invalid(problems);
  return {
    file,
    name: doc.name ?? file.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    description: doc.description,
    entries,
    ...(doc.world ? { world: doc.world } : {}),
  };
}

/** Every problem, in the order of the file. */
function invalid(found: SourceProblem[]): RemediatorError {
  const problems = [...found].sort((a, b) => a.line - b.line || a.column - b.column);
  return new RemediatorError('REM_ERR_REPLAY_INVALID', `the replay stream has problems:\n  ${problems.map(formatProblem).join('\n  ')}`, {
    details: { problems },
  });
}

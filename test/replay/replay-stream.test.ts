import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadReplayStream, parseReplayStream } from '../../src/replay/replay-stream.ts';
import { isRemediatorError } from '../../src/domain/errors.ts';
import { episodeId } from '../../src/alerts/episode.ts';

const replays = fileURLToPath(new URL('../fixtures/replays/', import.meta.url));
const file = join(replays, 'bad.yaml');
const readPayload = (path: string) => readFile(path, 'utf8');

/** The problems a stream text is refused with, as printed (`file:line:column: message`). */
async function problems(text: string): Promise<string[]> {
  try {
    await parseReplayStream(file, text, { readPayload });
  } catch (err) {
    if (!isRemediatorError(err) || err.code !== 'REM_ERR_REPLAY_INVALID') throw err;
    return err.message
      .split('\n')
      .slice(1)
      .map((l) => l.trim().replace(`${file}:`, ''));
  }
  throw new Error('the stream was accepted');
}

t.test('every shipped stream loads: payload files resolve, patches apply, the results are valid v4 webhooks', async (t) => {
  const names = (await readdir(replays)).filter((f) => f.endsWith('.yaml'));
  t.ok(names.length >= 5, `${names.length} streams shipped`);
  for (const name of names) {
    const stream = await loadReplayStream(join(replays, name));
    t.ok(stream.entries.length > 0, `${name}: ${stream.entries.length} entries`);
    t.ok(
      stream.entries.every((e, i) => i === 0 || e.atMs >= stream.entries[i - 1]!.atMs),
      `${name}: offsets in order`,
    );
  }
});

t.test('a patch makes a new episode of the same series from the captured webhook', async (t) => {
  const stream = await loadReplayStream(join(replays, 'new-episode-after-resolve.yaml'));
  const eps = stream.entries.map((e) => episodeId(e.payload.alerts[0]!.fingerprint, e.payload.alerts[0]!.startsAt));
  t.equal(new Set(eps).size, 2, 'two outages, two episodes');
  t.equal(new Set(stream.entries.map((e) => e.payload.alerts[0]!.fingerprint)).size, 1, 'one series');
  t.same(
    stream.entries.map((e) => e.atMs),
    [0, 180_000, 2_400_000, 2_410_000, 2_700_000],
    'offsets read as durations',
  );
  t.match(stream.entries[2]!.where, /new-episode-after-resolve\.yaml:\d+$/);
});

t.test('problems are reported all at once with file:line:column', async (t) => {
  t.match((await problems('entries: [\n'))[0], /^\d+:\d+: /, 'a YAML syntax error carries a position');

  const text = [
    'name: bad', //                                                          1
    'entries:', //                                                           2
    '  - at: 1m', //                                                         3
    '    payload: ../alertmanager/firing.json', //                           4
    '  - at: 30s', //                                                        5
    '    payload: ../alertmanager/firing.json', //                           6
    '  - at: 2m', //                                                         7
    '    payload: ../alertmanager/no-such-file.json', //                     8
    '  - at: 3m', //                                                         9
    '    payload: ../alertmanager/firing.json', //                           10
    '    patch: [{ op: replace, path: /alerts/7/status, value: x }]', //     11
    '  - at: 4m', //                                                         12
    '    payload: ../alertmanager/firing.json', //                           13
    '    patch: [{ op: replace, path: /version, value: "3" }]', //           14
  ].join('\n');
  const found = await problems(text);
  t.equal(found.length, 4, found.join('\n'));
  t.match(found[0], /^5:\d+: at 30s is earlier than the entry before it/, 'decreasing offsets');
  t.match(found[1], /^8:\d+: cannot use payload file .*no-such-file\.json/, 'a missing payload file');
  t.match(found[2], /^11:\d+: patch does not apply/, 'a patch that does not apply');
  t.match(
    found[3],
    /^13:\d+: not a valid Alertmanager v4 payload \(after the patch\): version: must be "4"/,
    'a payload made invalid by its patch',
  );
});

t.test('schema errors point at the key', async (t) => {
  const found = await problems(['entries:', '  - at: soon', '    payload: ../alertmanager/firing.json', '    notes: typo'].join('\n'));
  t.ok(
    found.some((p) => /^4:\d+: .*unknown property "notes"/.test(p)),
    found.join('\n'),
  );
  t.ok(
    found.some((p) => /^2:\d+: entries\[0\]\.at/.test(p)),
    found.join('\n'),
  );
  t.match((await problems('entries: []'))[0], /^1:\d+: entries: must NOT have fewer than 1 items/);
});

t.test('an inline payload and extra headers are taken as written', async (t) => {
  const payload = JSON.parse(await readFile(join(replays, '../alertmanager/public-highvalue-firing.json'), 'utf8'));
  const text = `entries:\n  - at: 0s\n    payload: ${JSON.stringify(payload)}\n    headers: { User-Agent: Alertmanager/0.27.0 }\n    note: inline\n`;
  const stream = await parseReplayStream(file, text, { readPayload });
  t.equal(stream.name, 'bad', 'the name defaults to the file name');
  t.same(stream.entries[0]!.payload, payload);
  t.same(stream.entries[0]!.headers, { 'user-agent': 'Alertmanager/0.27.0' }, 'header names lower-cased');
  t.equal(stream.entries[0]!.note, 'inline');
});

t.test('world: is the world of a playbook test case; its problems are reported with the rest, all at once', async (t) => {
  const text = [
    'entries:', //                                                           1
    '  - at: 1m', //                                                         2
    '    payload: ../alertmanager/firing.json', //                           3
    '  - at: 30s', //                                                        4
    '    payload: ../alertmanager/firing.json', //                           5
    'world:', //                                                             6
    '  prometheus:', //                                                      7
    '    - querry: up', //                                                   8
    '      answers: [[1]]', //                                               9
    '  http:', //                                                            10
    '    - url: https://phone-gateway.ai-ninja.svc/health', //               11
    '      answers: [700]', //                                               12
  ].join('\n');
  const found = await problems(text);
  t.ok(
    found.some((p) => /^4:\d+: at 30s is earlier than the entry before it/.test(p)),
    `the entries are still checked: ${found.join('\n')}`,
  );
  t.ok(
    found.some((p) => /^8:\d+: .*unknown property "querry"/.test(p)),
    'a misspelt key',
  );
  t.ok(
    found.some((p) => /^11:\d+: world\.http\[0\]\.url: must match pattern/.test(p)),
    'an https URL cannot be scripted',
  );
  t.ok(
    found.some((p) => /^12:\d+: world\.http\[0\]\.answers\[0\]/.test(p)),
    'a status out of range',
  );
  t.same(
    found.map((p) => Number(p.split(':')[0])),
    [...found.map((p) => Number(p.split(':')[0]))].sort((a, b) => a - b),
    'in the order of the file',
  );

  const ok = await parseReplayStream(
    file,
    [
      ...text.split('\n').slice(0, 3),
      'world:',
      '  prometheus: [{ query: up, answers: [[1], [0]] }]',
      '  alertmanager: { resolved: [false, true] }',
    ].join('\n'),
    { readPayload },
  );
  t.same(
    ok.world,
    { prometheus: [{ query: 'up', answers: [[1], [0]] }], alertmanager: { resolved: [false, true] } },
    'a valid world is taken as written',
  );
});

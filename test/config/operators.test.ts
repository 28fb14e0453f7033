import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';

// Distinctive secrets, so finding one in a message is never a coincidence.
const SECRET = 'op-secret-7d1c9e5b2a4f8c3e';
const OTHER = 'op-secret-other-93b1f0aa2c';

const dir = await mkdtemp(join(tmpdir(), 'remediator-operators-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

async function refused(env: Record<string, string>, file?: string): Promise<{ code: string; message: string; lines: string[] }> {
  const err = await loadConfig({ env, file }).then(
    () => undefined,
    (e) => e,
  );
  if (!err) throw new Error('the configuration was accepted');
  return { code: err.code, message: err.message, lines: err.details?.problems ?? [] };
}

t.test('REMEDIATOR_OPERATOR_TOKENS takes name:role:token, and name:token gives the least role', async (t) => {
  const c = await loadConfig({
    env: { REMEDIATOR_OPERATOR_TOKENS: `alice:admin:${SECRET}, bob:${OTHER}, carol:approver:${SECRET}:with:colons` },
  });
  t.strictSame(c.auth.operators, [
    { name: 'alice', role: 'admin', token: SECRET },
    { name: 'bob', role: 'viewer', token: OTHER },
    { name: 'carol', role: 'approver', token: `${SECRET}:with:colons` },
  ]);
});

t.test('a token without a name stops start-up, and the token is never taken for a name nor shown', async (t) => {
  for (const value of [SECRET, `:admin:${SECRET}`, `  :${SECRET}`]) {
    const e = await refused({ REMEDIATOR_OPERATOR_TOKENS: `alice:admin:${OTHER},${value}` });
    t.equal(e.code, 'REM_ERR_CONFIG_INVALID');
    t.equal(e.lines.length, 1, 'one line per problem');
    t.match(e.lines[0], /^REMEDIATOR_OPERATOR_TOKENS: entry 2 of 2: .*(without a name|no name).*name:role:token$/);
    t.notMatch(e.message, SECRET);
    t.notMatch(e.message, OTHER);
    t.notMatch(e.message, SECRET.slice(0, -1), 'not even the token minus its last character');
  }
});

t.test('a mistyped role is named as such, without quoting what was typed', async (t) => {
  const e = await refused({ REMEDIATOR_OPERATOR_TOKENS: `alice:admn:${SECRET}` });
  t.same(e.lines, [
    'REMEDIATOR_OPERATOR_TOKENS: entry 1 of 1: operator "alice": the part after the name is not a role (viewer, operator, approver, admin); write name:role:token',
  ]);
});

t.test('in a file: an entry without a name or with an unknown role points at its line; the role defaults to viewer', async (t) => {
  const bad = join(dir, 'bad.yaml');
  await writeFile(
    bad,
    `auth:\n  operators:\n    - token: ${SECRET}\n      role: admin\n    - name: bob\n      token: ${OTHER}\n      role: root\n`,
  );
  const e = await refused({}, bad);
  t.equal(e.code, 'REM_ERR_CONFIG_INVALID');
  t.match(e.message, /bad\.yaml:3:\d+: auth\.operators\[0\]: missing required property "name"/);
  t.match(e.message, /bad\.yaml:7:\d+: auth\.operators\[1\]\.role: must be one of "viewer", "operator", "approver", "admin"/);
  t.notMatch(e.message, SECRET);
  t.notMatch(e.message, OTHER);

  const good = join(dir, 'good.yaml');
  await writeFile(good, `auth:\n  operators:\n    - { name: dave, token: ${SECRET} }\n`);
  t.strictSame((await loadConfig({ file: good, env: {} })).auth.operators, [{ name: 'dave', token: SECRET, role: 'viewer' }]);
});

t.test('a token may name one person only, and never be a webhook token too', async (t) => {
  const e = await refused({
    REMEDIATOR_OPERATOR_TOKENS: `alice:admin:${SECRET},bob:viewer:${SECRET},carol:operator:${OTHER}`,
    REMEDIATOR_WEBHOOK_TOKENS: OTHER,
  });
  t.same(e.lines, [
    'auth.operators[1].token (bob): the same token as auth.operators[0] (alice); each token must name one person',
    'auth.operators[2].token (carol): also a webhook token (auth.webhook.bearerTokens); give the operator API and Alertmanager different tokens',
  ]);
  t.notMatch(e.message, SECRET);
  t.notMatch(e.message, OTHER);
});

t.test('remediator serve prints the problem with its code on stderr, exits 2 and never shows the token', async (t) => {
  const bin = new URL('../../bin/remediator.js', import.meta.url).pathname;
  const err = await promisify(execFile)(process.execPath, [bin, 'serve'], {
    env: { PATH: process.env.PATH, REMEDIATOR_OPERATOR_TOKENS: SECRET, REMEDIATOR_WEBHOOK_TOKENS: OTHER },
    timeout: 30_000,
  }).then(
    () => undefined,
    (e) => e as { code: number; stdout: string; stderr: string },
  );
  t.equal(err?.code, 2);
  t.match(err?.stderr, /REM_ERR_CONFIG_INVALID/);
  t.match(err?.stderr, /^ *REMEDIATOR_OPERATOR_TOKENS: entry 1 of 1: a token without a name; write name:role:token$/m);
  t.notMatch(`${err?.stdout}${err?.stderr}`, SECRET.slice(0, 8), 'no part of the token');
  t.notMatch(`${err?.stdout}${err?.stderr}`, OTHER.slice(-8));
});

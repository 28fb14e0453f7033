import t from 'tap';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { renderDefaultConfig } from '../../src/config/render-default-config.ts';

const dir = await mkdtemp(join(tmpdir(), 'remediator-config-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const write = async (name: string, text: string) => {
  const f = join(dir, name);
  await writeFile(f, text);
  return f;
};

t.test('config/default.yaml documents every key with the default the code uses', async (t) => {
  const shipped = await readFile(new URL('../../config/default.yaml', import.meta.url), 'utf8');
  t.equal(shipped, renderDefaultConfig(), 'regenerate with: npm run config:defaults');
  const c = await loadConfig({ file: new URL('../../config/default.yaml', import.meta.url).pathname, env: {} });
  t.equal(c.server.port, 8080);
  t.equal(c.redis.url, 'redis://127.0.0.1:6379');
});

t.test('invalid config names the file position, the key and what is wrong', async (t) => {
  const f = await write('bad.yaml', 'server:\n  port: 99999\nworker:\n  concurency: 3\n');
  const err = await loadConfig({ file: f, env: {} }).catch((e) => e);
  t.equal(err.code, 'REM_ERR_CONFIG_INVALID');
  t.match(err.message, /bad\.yaml:2:9: server\.port: must be <= 65535/);
  t.match(err.message, /bad\.yaml:4:3: worker: unknown property "concurency"/);
});

t.test('YAML syntax errors are reported with their position', async (t) => {
  const f = await write('syntax.yaml', 'server:\n  port: [1\n');
  const err = await loadConfig({ file: f, env: {} }).catch((e) => e);
  t.match(err.message, /syntax\.yaml:\d+:\d+/);
});

t.test('environment overrides secrets and addresses, and bad values name the variable', async (t) => {
  const c = await loadConfig({
    env: {
      REDIS_URL: 'redis://10.0.0.1:6380',
      REMEDIATOR_WEBHOOK_TOKENS: 'aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb',
      REMEDIATOR_OPERATOR_TOKENS: 'alice:approver:cccccccccccccccccccc',
    },
  });
  t.equal(c.redis.url, 'redis://10.0.0.1:6380');
  t.same(c.auth.webhook.bearerTokens, ['aaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb']);
  t.strictSame(c.auth.operators, [{ name: 'alice', role: 'approver', token: 'cccccccccccccccccccc' }]);
  const err = await loadConfig({ env: { REMEDIATOR_PORT: 'abc' } }).catch((e) => e);
  t.match(err.message, /server\.port: must be integer.*REMEDIATOR_PORT/);
  const short = await loadConfig({ env: { REMEDIATOR_WEBHOOK_TOKENS: 'short' } }).catch((e) => e);
  t.match(short.message, /auth\.webhook\.bearerTokens\[0\]: must NOT have fewer than 16 characters/);
});

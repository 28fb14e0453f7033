import t from 'tap';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { startRemediator } from '../../src/main.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { redisForTest } from '../support/redis.ts';

// A refused start must not leave Redis sockets or BullMQ timers behind: `remediator serve` with a broken playbook
// has to exit with its message, not hang.
const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout').length;

t.test('refused playbooks: start rejects with the file position and closes what it opened', async (t) => {
  const redis = await redisForTest();
  const dir = await mkdtemp(join(tmpdir(), 'remediator-refused-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'broken.yaml'),
    'apiVersion: remediator.io/v1\nkind: Playbook\nmetadata: { name: broken }\nspec:\n  triggers: []\n',
  );
  const config = await loadConfig({
    env: {},
    overrides: (c) => {
      c.server = { host: '127.0.0.1', port: 0 };
      c.redis = { url: redis.url, prefix: 'refused' };
      c.auth = { webhook: { bearerTokens: ['token-0123456789abcdef'] }, operators: [] };
      c.playbooks = { dir, watch: false };
      c.kubernetes = { enabled: false };
      c.escalation = { targets: { hook: { type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'secret-0123456789' } } };
    },
  });
  const before = handles();
  await t.rejects(startRemediator(config, { role: 'all', log: silentLogger() }), {
    code: 'REM_ERR_PLAYBOOK_INVALID',
    message: /broken\.yaml:5:\d+/,
  });
  // Sockets close asynchronously; give them a moment, bounded.
  for (let i = 0; i < 40 && handles() > before; i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(
    handles() <= before,
    `no socket or timer left behind (before ${before}, after ${handles()}: ${process.getActiveResourcesInfo().join(', ')})`,
  );
});

import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

// The README's first command, as a newcomer runs it (minus npm ci): it must finish the scenario and exit 0.
t.test('remediator demo --once shows a ServiceDown alert becoming one verified run, with two deduplications', async (t) => {
  const env = { ...process.env };
  delete env['REDIS_URL'];
  const { stdout } = await promisify(execFile)(process.execPath, [new URL('../../bin/remediator.js', import.meta.url).pathname, 'demo', '--once'], {
    env: { ...env, LOG_LEVEL: 'warn', REMEDIATOR_PORT: '0' },
    timeout: 90_000,
  });
  t.match(stdout, /started redis-server on redis:\/\/127\.0\.0\.1:\d+/);
  t.match(stdout, /HTTP 202: started → run run-/);
  t.equal(stdout.match(/HTTP 202: deduplicated into run-/g)?.length, 2);
  t.match(stdout, /service-down → SUCCEEDED/);
  t.match(stdout, /✓ \[restart\] restart \(kube\.rolloutRestart\)/);
  t.match(stdout, /✓ \[restart\] rollout \(kube\.rolloutStatus\).*successfully rolled out/);
});

import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { runCli, cliNode, cliBin } from '../support/run-cli.ts';
import { join } from 'node:path';
import { redisForTest } from '../support/redis.ts';

// `remediator serve` as a user runs it: spawned, with its real stdout, stderr and exit code.

const dir = await mkdtemp(join(tmpdir(), 'remediator-serve-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const write = async (name: string, text: string) => {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
};

t.test('serve: start-up errors are plain lines on stderr with exit 2, like config errors', async (t) => {
  const redis = await redisForTest();
  const pbDir = join(dir, 'broken-playbooks');
  await mkdir(pbDir);
  await writeFile(
    join(pbDir, 'broken.yaml'),
    'apiVersion: remediator.io/v1\nkind: Playbook\nmetadata: { name: broken }\nspec:\n  steps: [{ id: a, action: no.such.action }]\n',
  );
  const config = await write(
    'broken.yaml',
    `server: { host: 127.0.0.1, port: 0 }\nredis: { url: "${redis.url}" }\nplaybooks: { dir: "${pbDir}", watch: false }\nkubernetes: { enabled: false }\nauth: { webhook: { bearerTokens: [webhook-token-0123456789] } }\n`,
  );
  const ran = await runCli(['serve', '--config', config]);
  t.equal(ran.code, 2);
  const lines = ran.stderr.trimEnd().split('\n');
  t.equal(lines[0], 'REM_ERR_PLAYBOOK_INVALID: playbooks have problems; nothing started:');
  t.ok(lines.length > 1 && lines.slice(1).every((l) => /broken\.yaml:\d+:\d+: /.test(l)), `one line per problem: ${ran.stderr}`);
  t.notMatch(ran.stdout, /REM_ERR_PLAYBOOK_INVALID/, 'not a log line on stdout');

  const bad = await write('bad.yaml', 'server: { port: "eighty" }\n');
  const configError = await runCli(['serve', '--config', bad]);
  t.equal(configError.code, 2, 'a config error exits 2 as well');
  t.match(
    configError.stderr,
    /^REM_ERR_CONFIG_INVALID: invalid configuration:\n {2}.*server\.port/,
    'the code, then one line per problem, as for start-up errors',
  );
});

t.test('serve logs JSON when stdout is not a terminal and pretty lines when it is', async (t) => {
  const redis = await redisForTest();
  const pbDir = join(dir, 'good-playbooks');
  await mkdir(pbDir);
  await writeFile(
    join(pbDir, 'note.yaml'),
    'apiVersion: remediator.io/v1\nkind: Playbook\nmetadata: { name: note }\nspec:\n  triggers: [{ matchers: [\'alertname="Down"\'] }]\n  steps: [{ id: a, action: log, with: { message: hi } }]\n',
  );
  const config = await write(
    'good.yaml',
    `server: { host: 127.0.0.1, port: 0 }\nredis: { url: "${redis.url}" }\nplaybooks: { dir: "${pbDir}", watch: false }\nkubernetes: { enabled: false }\nauth: { webhook: { bearerTokens: [webhook-token-0123456789] } }\n`,
  );

  /**
   * Starts serve (through `script` when `tty`, which gives it a pseudo-terminal; `exec` makes the shell's pid the
   * server's), reads stdout until the "listening" line, then stops the server by its pid with SIGTERM.
   */
  async function listeningLine(tty: boolean): Promise<string> {
    const command = `echo "pid $$"; exec '${cliNode}' '${cliBin}' serve --config '${config}'`;
    const [file, args] = tty ? ['script', ['-qfec', command, '/dev/null']] : ['sh', ['-c', command]];
    const child = spawn(file as string, args as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let pid: number | undefined;
    // Whatever happens, the server does not outlive the test.
    t.teardown(() => {
      if (pid && child.exitCode === null) process.kill(pid, 'SIGKILL');
    });
    const closed = new Promise((resolve) => child.on('close', resolve));
    const line = await new Promise<string>((resolve, reject) => {
      child.on('close', () => reject(new Error(`serve ended before listening: ${out}`)));
      child.stdout!.on('data', (d) => {
        out += d;
        pid ??= Number(/pid (\d+)/.exec(out)?.[1]) || undefined;
        const l = out.split(/\r?\n/).find((s) => s.includes('listening on'));
        if (l && pid) resolve(l);
      });
    });
    process.kill(pid!, 'SIGTERM');
    await closed;
    return line;
  }

  const json = await listeningLine(false);
  const parsed = JSON.parse(json);
  t.equal(parsed.level, 30);
  t.match(parsed.msg, /^remediator listening on http:\/\/127\.0\.0\.1:\d+$/);

  const pretty = await listeningLine(true);
  t.throws(() => JSON.parse(pretty), 'not JSON on a terminal');
  t.match(pretty, /INFO.*remediator listening on http:\/\/127\.0\.0\.1:\d+/);
});

import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisForTest } from '../support/redis.ts';
import { REPLAYS, RESTART_THEN_SCALE, tempDir } from './replay-harness.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** The checkout, where a user types the documented commands. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `remediator replay ARGS` as a user would and returns its exit status and output (bounded in time). */
function remediator(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'replay', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => {
      // SIGTERM first: the replay then stops the redis-server and cluster it started.
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      t.comment(`stdout so far:\n${stdout}\nstderr so far:\n${stderr}`);
      reject(new Error(`remediator replay ${args.join(' ')} did not end in 60 s`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const playbooks = await tempDir({ 'sd.yaml': RESTART_THEN_SCALE });
// One redis-server for the tests that do not show the replay starting its own.
const redis = await redisForTest();

t.test('prints one line per delivery and decision and a summary; exit 0 (it starts its own redis-server)', async (t) => {
  const r = await remediator(['--playbooks', playbooks, join(REPLAYS, 'resolve-race.yaml')]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.ok(
    lines.some((l) =>
      /^\+0:05:00\.\d{3} {2}▶ #2 resolved ServiceDown ai-ninja\/phone-gateway — replica A reports the alert resolved$/.test(l),
    ),
    'the resolve delivery',
  );
  t.equal(lines.filter((l) => / started +run-/.test(l)).length, 1, 'one start');
  t.ok(
    lines.some((l) => /^\+0:05:15\.\d{3} {4}ServiceDown ai-ninja\/phone-gateway +restart-then-scale +deduplicated +run-/.test(l)),
    'the stale firing copy after the resolve is deduplicated',
  );
  t.match(r.stdout, /summary: 5 deliveries, 1 run\(s\) started, 2 deduplicated, 0 unmatched, 2 resolve\(s\), 1 mutation\(s\)/);
});

t.test('--json prints the report as JSON on stdout', async (t) => {
  const r = await remediator(['--json', '--redis-url', redis.url, '-p', playbooks, join(REPLAYS, 'two-services.yaml')]);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  t.equal(report.stream.name, 'two-services');
  t.equal(report.summary.runsStarted, 2);
  t.ok(
    report.timeline.some(
      (e: any) => e.kind === 'decision' && e.reason === 'deduplicated' && typeof e.runId === 'string' && typeof e.offsetMs === 'number',
    ),
  );
});

t.test('a broken stream stops the replay with file:line:column and exit 1', async (t) => {
  const dir = await tempDir({ 'bad.yaml': 'entries:\n  - at: 1m\n    payload: nowhere.json\n' });
  const r = await remediator(['-p', playbooks, join(dir, 'bad.yaml')]);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.match(
    r.stderr,
    /REM_ERR_REPLAY_INVALID: the replay stream has problems:\n {2}.*bad\.yaml:3:\d+: cannot use payload file .*nowhere\.json/,
  );
});

t.test('playbooks that need Prometheus, with no world: in the stream and no flag, say how to give the replay one', async (t) => {
  const dir = await tempDir({
    'sd.yaml': RESTART_THEN_SCALE.replace(
      '        - id: rollout\n',
      '        - id: up\n          gate: prometheus.query\n          with: { query: \'up{job="x"} == 1\', expect: nonEmpty }\n        - id: rollout\n',
    ),
    'no-world.yaml': `entries:\n  - at: 0s\n    payload: ${join(REPLAYS, '../alertmanager/firing.json')}\n`,
  });
  const r = await remediator(['-p', dir, join(dir, 'no-world.yaml')]);
  t.equal(r.code, 1);
  t.match(
    r.stderr,
    /REM_ERR_PLAYBOOK_INVALID: [\s\S]*sd\.yaml:\d+:\d+: "prometheus\.query" needs prometheus, which is not configured\n {2}\(give the replay one with --prometheus-url, or script its answers in the stream's world: section, world\.prometheus; see docs\/replay\.md\)/,
  );
});

t.test('the documented command: a shipped stream with the shipped playbooks, answered by its world:', async (t) => {
  // As README.md and docs/replay.md show it (the default playbooks dir), on the file's shared redis-server.
  const r = await remediator(['--redis-url', redis.url, 'test/fixtures/replays/flapping.yaml']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^replay flapping \(24 deliveries from test\/fixtures\/replays\/flapping\.yaml\) with playbooks: .*service-down/);
  t.equal(
    r.stdout.split('\n').filter((l) => /^ {2}\+\d:\d\d:\d\d\.\d{3} {2}pager {2}remediation\.escalated P0 /.test(l)).length,
    1,
    'one page',
  );
  t.match(r.stdout, /summary: 24 deliveries, 12 run\(s\) started, .* 1 escalation\(s\), .* 0 unanswered world call\(s\) of \d+\n/);
});

import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, realLoopUnavailable } from '../../src/dev/real-loop/installed.ts';

// The README's first command, as a newcomer runs it (minus npm ci). The two modes run side by side.
t.jobs = 2;
const BIN = new URL('../../bin/remediator.js', import.meta.url).pathname;
const demoEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env, LOG_LEVEL: 'warn', REMEDIATOR_PORT: '0' };
  delete e.REDIS_URL;
  return e;
};

t.test(
  'with Prometheus and Alertmanager installed: the real loop, printed as it happens, a verified fix and a resolve; it stays up until Ctrl-C',
  { skip: realLoopUnavailable() ?? false },
  async (t) => {
    const child = spawn(process.execPath, [BIN, 'demo'], { env: demoEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // If the test fails midway, Ctrl-C so the demo stops its own children (Redis, Prometheus, Alertmanager), and wait
    // for it: a SIGKILL would leave them running. A demo that never stops fails the file at tap's timeout, and npm
    // test names what it left.
    t.teardown(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      await exited;
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const deadline = Date.now() + 90_000;
    while (!stdout.includes('stays up until Ctrl-C') || !/kill the service yourself.*\n/.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the demo did not finish its scenario:\n${stdout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.match(stdout, /mode: real loop/);
    t.match(stdout, /started redis-server on redis:\/\/127\.0\.0\.1:\d+/);
    t.match(stdout, /alertmanager ×2 .* with a bearer token/);
    const timeline = stdout.slice(stdout.indexOf('▶ kill'), stdout.indexOf('■ run'));
    // The story in the order it happened, each line from the part that did it.
    const order = [
      /service +phone-gateway pod \S+: process killed/,
      /alertmanager +webhook: ServiceDown \(ai-ninja\/phone-gateway\) started service-down → run run-/,
      /alertmanager +webhook again .*deduplicated into run-/,
      /remediator +✓ \[restart\] restart \(kube\.rolloutRestart\)/,
      /cluster +phone-gateway pod \S+ started: process on 127\.0\.0\.1:\d+ playing ai-ninja\/phone-gateway:1\.0\.0/,
      /alertmanager +webhook: Alertmanager reports ServiceDown \(ai-ninja\/phone-gateway\) resolved/,
    ];
    let at = 0;
    for (const re of order) {
      const m = re.exec(timeline.slice(at));
      t.ok(m, `timeline shows ${re} after the previous line`);
      if (m) at += m.index + m[0].length;
    }
    t.match(timeline, /prometheus +up\{job="phone-gateway",namespace="ai-ninja"\} = 0 +\(the scrape fails/);
    t.match(timeline, /prometheus +up\{job="phone-gateway",namespace="ai-ninja"\} = 1/);
    t.match(stdout, /service-down → SUCCEEDED/);

    // Still up: the metrics, the run's timeline, the processes it names.
    const metricsUrl = /curl (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stdout)![1]!;
    t.match(await (await fetch(metricsUrl)).text(), /remediator_runs_total\{playbook="service-down",outcome="succeeded"\} 1/);
    const [, token, timelineUrl] = /Bearer ([0-9a-f]+)' (http:\S+\/timeline)/.exec(stdout)!;
    t.match(await (await fetch(timelineUrl!, { headers: { authorization: `Bearer ${token}` } })).text(), /ServiceDown/);
    // The console it names answers the sign-in page, and the printed token signs in.
    const [, consoleUrl, consoleToken] = /console: (http:\S+\/) \(sign in with the operator token ([0-9a-f]+)\)/.exec(stdout)!;
    t.equal(consoleToken, token, 'the console takes the operator token the curl lines use');
    t.match(await (await fetch(consoleUrl!)).text(), /token/i, 'the console answers with its sign-in page');
    const pids = /kill the service yourself.*: kill ([\d ]+)/.exec(stdout)![1]!.trim().split(' ').map(Number);
    t.equal(pids.length, 2, 'two phone-gateway processes serve again');
    const promUrl = /prometheus: (http:\/\/127\.0\.0\.1:\d+)\/graph/.exec(stdout)![1]!;
    t.equal((await fetch(`${promUrl}/-/ready`)).status, 200);

    child.kill('SIGINT');
    t.equal(await exited, 0, 'Ctrl-C stops it with status 0');
    for (const pid of pids) t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `stand-in ${pid} is gone`);
    await t.rejects(fetch(`${promUrl}/-/ready`, { signal: AbortSignal.timeout(1000) }), 'Prometheus is stopped');
  },
);

t.test(
  'without them: says so; the captured webhook posted three times → one verified run, two deduplications, then its resolve',
  async (t) => {
    // A PATH with redis-server but neither prometheus nor prometheus-alertmanager.
    const dir = await mkdtemp(join(tmpdir(), 'remediator-demo-path-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const redis = findOnPath('redis-server');
    t.ok(redis, 'redis-server is installed');
    await symlink(redis!, join(dir, 'redis-server'));
    // --once: it exits after the scenario, status 0 on success (execFile rejects on any other status).
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'demo', '--once'], {
      env: demoEnv({ PATH: dir }),
      timeout: 90_000,
    });
    t.match(
      stdout,
      /mode: posted payload \(prometheus and prometheus-alertmanager not installed \(Debian\/Ubuntu: apt-get install --no-install-recommends prometheus prometheus-alertmanager\)\)/,
    );
    t.match(stdout, /no Prometheus: the playbook's up\{…\} queries go to a stand-in/);
    t.match(stdout, /service +phone-gateway pod \S+: process killed/);
    t.match(stdout, /POST \/v1\/alertmanager \(first delivery\): HTTP 202: started → run run-/);
    t.equal(stdout.match(/HTTP 202: deduplicated into run-/g)?.length, 2);
    t.match(stdout, /service-down → SUCCEEDED/);
    t.match(stdout, /✓ \[restart\] restart \(kube\.rolloutRestart\)/);
    t.match(
      stdout,
      /✓ \[restart\] health \(http\.check\).*HTTP 200/,
      'the health gate reached the restarted processes through the Service',
    );
    t.match(stdout, /cluster +phone-gateway pod \S+ started: process on 127\.0\.0\.1:\d+/);
    t.match(stdout, /POST \/v1\/alertmanager \(resolved.*HTTP 202: resolved/);
  },
);

import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, access, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { redisForTest } from '../support/redis.ts';

// No Docker engine here, so the image is laid out by hand: exactly the files the Dockerfile's final stage COPYs,
// with node_modules holding only the production dependencies (what `npm ci --omit=dev` installs), in a temp folder.
// Then the CLI runs there as it would in the container. A tool that reaches for a file the image lacks (test code,
// a devDependency) fails here. Redis is the one outside service (the image has no redis-server), as in a cluster.

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

t.test('the Dockerfile: numeric USER, HEALTHCHECK, OCI labels', async (t) => {
  t.match(finalStage, /^USER \d+(:\d+)?$/m, 'a numeric user, so runAsNonRoot can be verified');
  t.match(finalStage, /^HEALTHCHECK .*CMD \["node", "bin\/healthcheck\.js"\]$/m);
  for (const label of ['title', 'description', 'version', 'revision', 'source', 'licenses'])
    t.match(finalStage, new RegExp(`org\\.opencontainers\\.image\\.${label}=`), label);
});

const app = await mkdtemp(join(tmpdir(), 'remediator-image-'));
t.teardown(() => rm(app, { recursive: true, force: true }));

/** The final stage's COPY lines: `COPY [--from=…] src… dest`, dest relative to WORKDIR /app. */
const copies = [...finalStage.matchAll(/^COPY\s+(--from=\S+\s+)?(.+)$/gm)].map((m) => {
  const parts = m[2]!.trim().split(/\s+/);
  return { from: m[1]?.trim(), sources: parts.slice(0, -1), dest: parts.at(-1)! };
});
const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
};
for (const c of copies) {
  if (c.from) {
    // The deps stage's node_modules: every installed package npm does not mark dev-only.
    await mkdir(join(app, 'node_modules', '@'), { recursive: true });
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) || entry.dev) continue;
      const to = join(app, path);
      await mkdir(join(to, '..'), { recursive: true });
      await symlink(join(ROOT, path), to);
    }
    continue;
  }
  for (const s of c.sources) {
    const dest = c.sources.length > 1 || c.dest.endsWith('/') ? join(app, c.dest, posix.basename(s)) : join(app, c.dest);
    await cp(join(ROOT, s), dest, { recursive: true });
  }
}

const redis = await redisForTest();
const remediator = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['bin/remediator.js', ...args], {
    cwd: app,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

t.test('the layout holds what the Dockerfile copies, and no test code', async (t) => {
  for (const p of [
    'bin/remediator.js',
    'bin/healthcheck.js',
    'src/cli/main.ts',
    'playbooks/service-down.yaml',
    'playbooks/tests',
    'config/default.yaml',
    'node_modules/fastify',
  ])
    await t.resolves(access(join(app, p)), p);
  await t.rejects(access(join(app, 'test')), 'no test/ folder');
  await t.rejects(access(join(app, 'node_modules/tap')), 'no devDependency');
});

t.test('lint', async (t) => {
  const r = await remediator(['lint']);
  t.equal(r.code, 0, r.stderr.slice(-1500));
  // Every playbook the image ships (the *.yaml files of playbooks/) is loaded and valid.
  const shipped = (await readdir(fileURLToPath(new URL('../../playbooks', import.meta.url)))).filter((f) => f.endsWith('.yaml')).length;
  t.match(r.stdout, new RegExp(`^ok: ${shipped} playbook\\(s\\) valid`, 'm'));
});

t.test('rbac prints what the chart grants', async (t) => {
  const r = await remediator(['rbac', '--by-playbook']);
  t.equal(r.code, 0, r.stderr.slice(-1500));
  t.equal(r.stdout, await readFile(join(ROOT, 'helm/remediator/files/rbac.yaml'), 'utf8'));
});

// One shipped case: what is checked here is that the image can run playbook tests (engine, simulated cluster,
// scripted world, a fix verified by its gates); every shipped case runs in test/playbooks/shipped/ (one test file per
// shipped file).
t.test('test: a shipped playbook test case passes', async (t) => {
  const r = await remediator(['test', '--filter', 'a restart fix it', 'playbooks/tests/config-repair.test.yaml'], {
    REDIS_URL: redis.url,
  });
  t.match(r.stdout, /^ok .*config-repair.*a restart fix it/m, 'the case ran');
  t.match(r.stdout, /PASS: 1 passed, 0 failed/, 'and it alone');
  // On failure, the failed cases and the command's errors (the passing ones would bury them).
  t.equal(
    r.code,
    0,
    `${r.stdout
      .split('\n')
      .filter((l) => !/^\s*ok\b/.test(l))
      .join('\n')
      .slice(0, 3000)}\n${r.stderr.slice(-1500)}`,
  );
});

t.test('replay: a recorded stream through the engine', async (t) => {
  // The stream is the user's own file, as if mounted into the container.
  const streams = join(app, '..', `${posix.basename(app)}-streams`);
  t.teardown(() => rm(streams, { recursive: true, force: true }));
  await cp(join(ROOT, 'test/fixtures/replays/flapping.yaml'), join(streams, 'replays/flapping.yaml'));
  await cp(join(ROOT, 'test/fixtures/alertmanager'), join(streams, 'alertmanager'), { recursive: true });
  const r = await remediator(['replay', '--redis-url', redis.url, join(streams, 'replays/flapping.yaml')]);
  t.equal(r.code, 0, r.stderr.slice(-1500));
  t.match(r.stdout, /^replay flapping /m);
});

t.test('sim: the simulated cluster answers kubectl', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-image-sim-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'sim.kubeconfig');
  const child = spawn(process.execPath, ['bin/remediator.js', 'sim', '-k', kubeconfig], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = once(child, 'exit');
  // Ready when it prints where the kubeconfig is; an exit first is the failure.
  await Promise.race([
    new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('kubeconfig written') && resolve())),
    exited.then(([code]) => {
      throw new Error(`sim exited with ${code}: ${err}`);
    }),
  ]);
  const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'deployments', '-n', 'ai-ninja', '-o', 'name']);
  t.match(stdout, /deployment\.apps\/phone-gateway/);
  child.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, 'stops cleanly on SIGTERM');
});

t.test('serve answers the HEALTHCHECK, and starts from the compile cache the build filled', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-image-serve-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    `server: { host: 127.0.0.1, port: 0 }\nplaybooks: { dir: ${join(app, 'playbooks')} }\nkubernetes: { enabled: false }\nprometheus: { url: "http://127.0.0.1:9" }\n`,
  );
  // The build's cache step, as the Dockerfile runs it (the chart's root filesystem is read-only: nothing is added
  // at run time). A module it left out would be type-stripped at start-up, and the stripper stays in memory.
  const warm = /^RUN (node bin\/warm-compile-cache\.js)/m.exec(finalStage);
  t.ok(warm, 'the image build fills the compile cache with the CLI and what serve loads');
  const cache = { NODE_COMPILE_CACHE: join(dir, 'node-compile-cache') };
  await run('/bin/sh', ['-c', warm?.[1] ?? 'false'], { cwd: app, env: { ...process.env, ...cache } });
  const env = {
    ...process.env,
    ...cache,
    NODE_DEBUG_NATIVE: 'COMPILE_CACHE',
    REDIS_URL: redis.url,
    REMEDIATOR_WEBHOOK_TOKENS: 'token-0123456789abcdef',
    LOG_LEVEL: 'info',
  };
  const child = spawn(process.execPath, ['bin/remediator.js', 'serve', '--config', config], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = once(child, 'exit');
  // The port is picked by the system; the start-up log line says which.
  let log = '';
  const url = await Promise.race([
    new Promise<string>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        log += d;
        const m = /remediator listening on (http:\/\/[\d.:]+)/.exec(log);
        if (m) resolve(m[1]!);
      }),
    ),
    exited.then(([code]) => {
      // Start-up errors go to stderr, among the compile-cache log's lines.
      const errors = stderr.split('\n').filter((l) => l && !l.startsWith('[compile cache]'));
      throw new Error(`serve exited with ${code}: ${log}${errors.join('\n')}`);
    }),
  ]);
  const check = await run(process.execPath, ['bin/healthcheck.js'], {
    cwd: app,
    env: { ...env, REMEDIATOR_HEALTHCHECK_URL: `${url}/healthz` },
  }).then(
    () => 0,
    (e: { code: number }) => e.code,
  );
  t.equal(check, 0, 'bin/healthcheck.js exits 0 against the running service');
  // Node's compile-cache log names each TypeScript module it had to strip because the cache lacked it.
  const stripped = [...stderr.matchAll(/no transpile cache for StrippedTypeScript (\S+)/g)].map((m) => m[1]!.slice(m[1]!.indexOf('/src/')));
  t.ok(/retrieving transpile cache for StrippedTypeScript .*\/src\/main\.ts\.\.\.success/.test(stderr), 'src/main.ts came from the cache');
  t.same(stripped, [], 'no module of serve was missing from the cache');
  child.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, 'SIGTERM: a clean exit');
});

import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { startRemediator } from '../main.ts';
import { spawnRedis, type RedisProcess } from '../dev/redis-process.ts';
import { isRemediatorError } from '../engine/errors.ts';
import { FINAL_STATUSES } from '../engine/run-state.ts';
import type { RunView } from '../store/run-record.ts';

/**
 * `npm run demo`: remediator on its embedded default. A local redis-server (unless REDIS_URL is set), the simulated
 * cluster with the runbook's four ai-ninja Deployments, the shipped playbooks, and the real ServiceDown webhook that
 * Alertmanager 0.25 sent, posted three times (the first starts a run, the repeats are deduplicated).
 */
export async function demoCommand(opts: { once?: boolean }): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  const say = (line = '') => process.stdout.write(`${line}\n`);
  try {
    let redisUrl = process.env['REDIS_URL'];
    if (!redisUrl) {
      let redis: RedisProcess;
      try {
        redis = await spawnRedis();
      } catch (err) {
        console.error(`The demo needs redis-server when REDIS_URL is not set.\n  Debian/Ubuntu: apt-get install redis-server\n  (${(err as Error).message})`);
        process.exit(1);
      }
      cleanups.push(() => redis.stop());
      redisUrl = redis.url;
      say(`• started redis-server on ${redis.url} (data in ${redis.dir}, removed on exit)`);
    }

    // The simulated cluster is the strict fake API server from the test suite: a checkout-only tool.
    const { startKubeSim } = await import('../../test/support/kube-sim/index.ts');
    const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 800 });
    cleanups.push(() => sim.close());
    await sim.settle();
    const dir = await mkdtemp(join(tmpdir(), 'remediator-demo-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig, { namespace: 'ai-ninja' });
    say(`• simulated cluster on ${sim.url}: ai-ninja/{phone-gateway, realtime-processor, conversation-engine, profile-analytics}`);
    say(`    kubectl --kubeconfig ${kubeconfig} get deployments`);

    const webhookToken = randomBytes(16).toString('hex');
    const operatorToken = randomBytes(16).toString('hex');
    const config = await loadConfig({
      env: process.env,
      overrides: (c) => {
        c.server = { ...c.server, host: '127.0.0.1', port: Number(process.env['REMEDIATOR_PORT'] ?? 0) };
        c.redis = { ...c.redis, url: redisUrl, prefix: `demo${Date.now().toString(36)}` };
        c.auth = { webhook: { bearerTokens: [webhookToken] }, operators: [{ name: 'demo', token: operatorToken }] };
        c.kubernetes = { ...c.kubernetes, enabled: true, kubeconfig };
        c.worker = { ...c.worker, lockDuration: '10s', stalledInterval: '5s' };
      },
    });
    const log = createLogger({ level: process.env['LOG_LEVEL'] ?? 'info', pretty: true });
    const service = await startRemediator(config, { role: 'all', log });
    cleanups.push(() => service.close());
    say(`• remediator on ${service.url} with playbooks: ${service.catalog.list().map((p) => p.name).join(', ')}`);

    const payload = JSON.parse(await readFile(new URL('../../test/fixtures/alertmanager/firing.json', import.meta.url), 'utf8'));
    const post = async () => {
      const res = await fetch(`${service.url}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${webhookToken}` }, body: JSON.stringify(payload) });
      return { status: res.status, body: (await res.json()) as any };
    };
    say('');
    say('▶ Alertmanager sends ServiceDown for ai-ninja/phone-gateway (the real webhook Alertmanager 0.25 sent)');
    const first = await post();
    const runId: string = first.body.alerts[0].runs[0]?.runId;
    say(`  HTTP ${first.status}: ${first.body.alerts[0].decision} → run ${runId}`);
    for (const why of ['repeat_interval re-send', 'an HA twin from a second Alertmanager']) {
      const again = await post();
      say(`▶ the same episode again (${why}): HTTP ${again.status}: ${again.body.alerts[0].decision} into ${again.body.alerts[0].runs[0]?.runId}`);
    }

    let run: RunView | undefined;
    for (let i = 0; i < 600; i++) {
      const res = await fetch(`${service.url}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${operatorToken}` } });
      run = (await res.json()) as RunView;
      if (FINAL_STATUSES.has(run.status)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    say('');
    printRun(run!, say);
    say('');
    say(`  kubectl --kubeconfig ${kubeconfig} rollout history deployment/phone-gateway`);
    const ok = run?.status === 'succeeded';
    if (opts.once) {
      await cleanup();
      process.exit(ok ? 0 : 1);
    }
    say('');
    say(`remediator stays up until Ctrl-C:`);
    say(`  curl -H 'Authorization: Bearer ${operatorToken}' ${service.url}/v1/runs/${runId}`);
    say(`  curl ${service.url}/metrics`);
    say(`  curl -X POST -H 'Authorization: Bearer ${operatorToken}' -H 'content-type: application/json' \\`);
    say(`       -d '{"reason":"try it by hand","labels":{"namespace":"ai-ninja","deployment":"realtime-processor"}}' ${service.url}/v1/playbooks/service-down/runs`);
    const stop = async () => {
      say('\nstopping…');
      await cleanup();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  } catch (err) {
    console.error(isRemediatorError(err) ? `${err.code}: ${err.message}` : err);
    await cleanup();
    process.exit(1);
  }
}

function printRun(run: RunView, say: (line?: string) => void): void {
  const state = run.state;
  say(`■ run ${run.id}: ${run.playbook} → ${run.status.toUpperCase()}`);
  if (state?.outcome) say(`  ${state.outcome}`);
  for (const s of state?.steps ?? []) {
    const mark = s.status === 'succeeded' ? '✓' : s.status === 'failed' ? '✗' : '·';
    const took = s.endedAt ? ` (${Date.parse(s.endedAt) - Date.parse(s.startedAt)} ms)` : '';
    say(`  ${mark} [${s.rung}] ${s.id} (${s.uses})${took}: ${s.summary ?? s.error?.message ?? s.reason ?? s.status}`);
  }
  const snap = state?.outputs['diagnose'] as { pods?: { total: number; failing: number; items: Array<{ name: string; phase?: string; ready?: boolean }> } } | undefined;
  if (snap?.pods) say(`  snapshot before acting: ${snap.pods.total} pods, ${snap.pods.failing} failing: ${snap.pods.items.map((p) => `${p.name} ${p.phase ?? ''}${p.ready ? ' ready' : ''}`).join(', ')}`);
  say('  decisions:');
  for (const d of run.decisions) say(`    ${d.at.slice(11, 23)} ${d.reason.padEnd(13)} ${d.message}`);
}

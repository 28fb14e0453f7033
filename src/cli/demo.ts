import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { WebhookPayload } from '../alerts/alertmanager-payload.ts';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { startRemediator } from '../main.ts';
import { spawnRedis, type RedisProcess } from '../dev/redis-process.ts';
import { isRemediatorError } from '../domain/errors.ts';
import { runSettled, type RunView } from '../store/run-record.ts';
import { realLoopUnavailable } from '../dev/real-loop/installed.ts';
import { RealLoop } from '../dev/real-loop/real-loop.ts';
import { LiveTimeline } from '../dev/real-loop/live-timeline.ts';
import { ServiceFleet } from '../dev/real-loop/service-fleet.ts';
import { startUpQueryStandIn } from '../dev/real-loop/up-query-stand-in.ts';
import { startWebhookSink } from '../dev/webhook-sink.ts';
import { firstSample } from '../dev/real-loop/first-sample.ts';
import type { PodProcessEvent } from '../dev/real-loop/pod-processes.ts';

const NAMESPACE = 'ai-ninja';
const APPS = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics'];
const VICTIM = { namespace: NAMESPACE, name: 'phone-gateway' };
/** How long the scenario may take before the demo gives up (`--once` then exits 1). */
const SCENARIO_TIMEOUT_MS = 120_000;

/**
 * `npm run demo`: remediator on its embedded default — a local redis-server (unless REDIS_URL is set), the
 * simulated cluster with the runbook's four ai-ninja Deployments whose pods are real processes behind their
 * Service addresses, the shipped playbooks, and a local pager. It kills phone-gateway's processes and prints the
 * timeline as it happens until the fix is verified and the alert resolved.
 *
 * Two modes, and it says which:
 * - real loop (Prometheus and Alertmanager installed): a real Prometheus scrapes the Services with the shipped
 *   ServiceDown rule and an HA pair of real Alertmanagers posts to remediator.
 * - posted payload (otherwise): the webhook Alertmanager 0.25 really sent for this outage is posted three times
 *   (one run, two deduplications), then its resolve; the playbook's `up` queries go to a stand-in that scrapes
 *   the Service when asked.
 * Then it stays up with the API and /metrics until Ctrl-C; `--once` exits after the scenario, 0 on success.
 */
export interface DemoOptions {
  once?: boolean;
}

export async function demoCommand(opts: DemoOptions): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  const watchers = new AbortController();
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      watchers.abort();
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    })());
  const say = (line = '') => process.stdout.write(`${line}\n`);
  // Ctrl-C (or SIGTERM) at any point stops what the demo started: Redis, Prometheus and Alertmanager are separate
  // processes that would outlive a demo killed by the default signal handling. Status 0 once the scenario is over.
  let scenarioOver = false;
  const stop = async () => {
    say('\nstopping…');
    await cleanup();
    process.exit(scenarioOver ? 0 : 130);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  try {
    const unavailable = realLoopUnavailable();
    if (unavailable) say(`▶ mode: posted payload (${unavailable}); install them to see the real loop`);
    else say('▶ mode: real loop: Prometheus and Alertmanager on loopback, every pod a real process');

    let redisUrl = process.env.REDIS_URL;
    if (!redisUrl) {
      let redis: RedisProcess;
      try {
        redis = await spawnRedis();
      } catch (err) {
        console.error(
          `The demo needs redis-server when REDIS_URL is not set.\n  Debian/Ubuntu: apt-get install redis-server\n  (${(err as Error).message})`,
        );
        process.exit(1);
      }
      cleanups.push(() => redis.stop());
      redisUrl = redis.url;
      say(`• started redis-server on ${redis.url} (data in ${redis.dir}, removed on exit)`);
    }

    // The simulated cluster (src/sim). Its pods are real processes from the start (the fleet attaches before they
    // start). Imported here, not at the top: cli/main.ts loads this file for every command, `serve` included.
    const { startKubeSim } = await import('../sim/index.ts');
    const sim = await startKubeSim({ seed: 'ai-ninja', podReadyDelayMs: 300 });
    cleanups.push(() => sim.close());
    let timeline: LiveTimeline | undefined;
    const fleetOptions = {
      sim,
      services: APPS.map((name) => ({ namespace: NAMESPACE, name })),
      extraDeployments: [{ namespace: NAMESPACE, name: 'phone-gateway-backup' }],
      onPodEvent: (e: PodProcessEvent) => timeline?.podEvent(e),
    };
    let loop: RealLoop | undefined;
    let fleet: ServiceFleet;
    let prometheusUrl: string;
    if (unavailable) {
      const f = await ServiceFleet.start(fleetOptions);
      cleanups.push(() => f.close());
      const standIn = await startUpQueryStandIn(f);
      cleanups.push(() => standIn.close());
      fleet = f;
      prometheusUrl = standIn.url;
    } else {
      const l = await RealLoop.start(fleetOptions);
      cleanups.push(() => l.close());
      loop = l;
      fleet = l.fleet;
      prometheusUrl = l.prometheus.url;
    }
    await sim.settle();
    const dir = await mkdtemp(join(tmpdir(), 'remediator-demo-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig, { namespace: NAMESPACE });
    say(`• simulated cluster on ${sim.url}: ${NAMESPACE}/{${APPS.join(', ')}}`);
    say(`    kubectl --kubeconfig ${kubeconfig} get deployments,pods`);
    for (const s of fleet.services())
      say(
        `    service ${s.ref.name.padEnd(20)} ${s.url}  (pids ${fleet.pods
          .processes(s.ref)
          .map((p) => p.pid)
          .join(', ')})`,
      );
    if (loop)
      say(
        `• prometheus on ${loop.prometheus.url} (rules: ${loop.rulesSource === 'built-in' ? 'built-in ServiceDown rule' : relative(process.cwd(), loop.rulesSource)}; 500 ms scrapes)`,
      );
    else say(`• no Prometheus: the playbook's up{…} queries go to a stand-in on ${prometheusUrl} that scrapes the Service when asked`);
    const pager = await startWebhookSink((e) =>
      timeline?.say('pager', `${String(e.body.event ?? 'event')}: ${String(e.body.summary ?? '')}`, e.at),
    );
    cleanups.push(() => pager.close());
    say(`• pager (remediator's signed webhook target) on ${pager.url}`);

    const webhookToken = randomBytes(16).toString('hex');
    const operatorToken = randomBytes(16).toString('hex');
    const config = await loadConfig({
      env: process.env,
      overrides: (c) => {
        c.server = { ...c.server, host: '127.0.0.1', port: Number(process.env.REMEDIATOR_PORT ?? 0) };
        c.redis = { ...c.redis, url: redisUrl, prefix: `demo${Date.now().toString(36)}` };
        c.auth = { webhook: { bearerTokens: [webhookToken] }, operators: [{ name: 'demo', token: operatorToken, role: 'admin' }] };
        c.kubernetes = { ...c.kubernetes, enabled: true, kubeconfig };
        c.worker = { ...c.worker, lockDuration: '10s', stalledInterval: '5s' };
        c.prometheus = { ...c.prometheus, url: prometheusUrl };
        c.escalation = {
          targets: { pager: { type: 'webhook', url: `${pager.url}/pager`, secret: randomBytes(16).toString('hex'), role: 'page' } },
        };
      },
    });
    const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', pretty: true });
    const service = await startRemediator(config, { role: 'all', log });
    cleanups.push(() => service.close());
    const serviceUrl = service.url!;
    say(
      `• remediator on ${serviceUrl} with playbooks: ${service.catalog
        .list()
        .map((p) => p.name)
        .join(', ')}`,
    );
    if (loop) {
      await loop.connectAlertmanager({ webhookUrl: `${serviceUrl}/v1/alertmanager`, bearerToken: webhookToken, replicas: 2 });
      say(
        `• alertmanager ×2 (an HA pair) on ${loop.alertmanagers.map((a) => a.url).join(' and ')} → ${serviceUrl}/v1/alertmanager with a bearer token`,
      );
      say('• waiting for Prometheus to scrape every service (its first scrape comes ~5 s after start) …');
      await loop.waitUntilUp(30_000);
    }

    say('');
    say(
      loop
        ? '▶ kill every phone-gateway process: Prometheus sees it down, Alertmanager calls remediator, the service-down playbook brings it back and verifies'
        : '▶ kill every phone-gateway process, then post the webhook Alertmanager 0.25 sent for such an outage (addressed to this phone-gateway)',
    );
    const since = Date.now();
    const tl = new LiveTimeline({ write: say, t0: since });
    timeline = tl;
    cleanups.push(async () => tl.flush());
    let last: RunView | undefined;
    const upQuery = fleet.service(VICTIM).upQuery;
    void tl.watchUp(prometheusUrl, upQuery, watchers.signal);
    void tl.watchRuns({
      url: serviceUrl,
      operatorToken,
      target: `${NAMESPACE}/${VICTIM.name}`,
      since,
      signal: watchers.signal,
      webhookSource: loop ? 'alertmanager' : 'remediator',
      onRun: (r) => (last = r),
    });
    await new Promise((r) => setTimeout(r, 200)); // the "before" line first
    await fleet.kill(VICTIM);
    const resolved = () => last?.decisions.some((d) => d.reason === 'resolved') === true;
    const final = () => last !== undefined && runSettled(last);
    if (loop) {
      await until(() => final() && resolved(), SCENARIO_TIMEOUT_MS);
    } else {
      const posted = await capturedWebhooks(fleet.service(VICTIM).instance);
      const post = (body: unknown) => postWebhook(serviceUrl, webhookToken, body);
      for (const why of ['first delivery', 'repeat_interval re-send', 'the HA twin from a second Alertmanager']) {
        const r = await post(posted.firing);
        tl.say(
          'demo',
          `POST /v1/alertmanager (${why}): HTTP ${r.status}: ${r.decision}${r.decision === 'started' ? ' → run' : ' into'} ${r.runId}`,
        );
      }
      await until(final, SCENARIO_TIMEOUT_MS);
      if (last?.status === 'succeeded') {
        const r = await post(posted.resolved());
        tl.say('demo', `POST /v1/alertmanager (resolved, as Alertmanager sends once the service is up): HTTP ${r.status}: ${r.decision}`);
        await until(resolved, 10_000);
      }
    }
    const up = await firstSample(prometheusUrl, upQuery);
    const ok = last?.status === 'succeeded' && resolved() && up === '1';
    await new Promise((r) => setTimeout(r, 500)); // let the watchers catch the last lines
    tl.flush();
    say('');
    if (last)
      printRun(
        (await (
          await fetch(`${serviceUrl}/v1/runs/${last.id}`, { headers: { authorization: `Bearer ${operatorToken}` } })
        ).json()) as RunView,
        say,
      );
    if (!ok) say(`✗ the scenario did not end in a verified fix and a resolve within ${SCENARIO_TIMEOUT_MS / 1000} s`);
    say('');
    say(`  kubectl --kubeconfig ${kubeconfig} rollout history deployment/phone-gateway`);
    if (opts.once) {
      await cleanup();
      process.exit(ok ? 0 : 1);
    }
    say('');
    say('remediator stays up until Ctrl-C (the timeline keeps printing):');
    say(`  console: ${serviceUrl}/ (sign in with the operator token ${operatorToken})`);
    if (last) say(`  curl -H 'Authorization: Bearer ${operatorToken}' ${serviceUrl}/v1/runs/${last.id}/timeline`);
    say(`  curl ${serviceUrl}/metrics`);
    say(
      `  kill the service yourself: kill ${fleet.pods
        .processes(VICTIM)
        .map((p) => p.pid)
        .join(' ')}`,
    );
    if (loop)
      say(
        `  prometheus: ${loop.prometheus.url}/graph?g0.expr=${encodeURIComponent(upQuery)}   alertmanager: ${loop.alertmanagers[0]!.url}`,
      );
    const other = fleet.service({ namespace: NAMESPACE, name: 'realtime-processor' });
    say(`  curl -X POST -H 'Authorization: Bearer ${operatorToken}' -H 'content-type: application/json' \\`);
    say(
      `       -d '{"reason":"try it by hand","labels":{"namespace":"ai-ninja","deployment":"realtime-processor"},"annotations":{"health_url":"${other.healthUrl}"}}' ${serviceUrl}/v1/playbooks/service-down/runs`,
    );
    scenarioOver = true;
  } catch (err) {
    console.error(isRemediatorError(err) ? `${err.code}: ${err.message}` : err);
    await cleanup();
    process.exit(1);
  }
}

/**
 * The webhooks Alertmanager 0.25 really sent for a ServiceDown (test/fixtures/alertmanager), addressed to this
 * demo's Service: `instance` and the `health_url` annotation the shipped rule adds are this Service's address, and
 * the episode starts now.
 */
async function capturedWebhooks(instance: string): Promise<{ firing: unknown; resolved: () => unknown }> {
  const load = async (name: string) =>
    JSON.parse(await readFile(new URL(`../../test/fixtures/alertmanager/${name}`, import.meta.url), 'utf8'));
  const startsAt = new Date().toISOString();
  const address = (body: WebhookPayload, endsAt?: string) => {
    for (const a of body.alerts) {
      a.labels.instance = instance;
      a.annotations = { ...a.annotations, health_url: `http://${instance}/health` };
      a.startsAt = startsAt;
      if (endsAt) a.endsAt = endsAt;
    }
    return body;
  };
  const firing = address(await load('firing.json'));
  const resolvedBody = await load('resolved.json');
  return { firing, resolved: () => address(structuredClone(resolvedBody), new Date().toISOString()) };
}

async function postWebhook(url: string, token: string, body: unknown): Promise<{ status: number; decision?: string; runId?: string }> {
  const res = await fetch(`${url}/v1/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { alerts?: Array<{ decision?: string; runs?: Array<{ runId?: string }> }> };
  return { status: res.status, decision: answer.alerts?.[0]?.decision, runId: answer.alerts?.[0]?.runs?.[0]?.runId };
}

/** Polls `ok` every 200 ms; false after `timeoutMs`. */
async function until(ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
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
  const snap = state?.outputs.diagnose as
    | { pods?: { total: number; failing: number; items: Array<{ name: string; phase?: string; ready?: boolean }> } }
    | undefined;
  if (snap?.pods)
    say(
      `  snapshot before acting: ${snap.pods.total} pods, ${snap.pods.failing} failing: ${snap.pods.items.map((p) => `${p.name} ${p.phase ?? ''}${p.ready ? ' ready' : ''}`).join(', ')}`,
    );
  say('  decisions:');
  for (const d of run.decisions) say(`    ${d.at.slice(11, 23)} ${d.reason.padEnd(13)} ${d.message}`);
}

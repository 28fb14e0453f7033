import t from 'tap';
import { mkdtemp, writeFile, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/config-schema.ts';
import { startRemediator, type Remediator, type Role } from '../../src/main.ts';
import { silentLogger, createLogger, type Logger } from '../../src/observability/logger.ts';
import { redisForTest } from './redis.ts';
import type { RedisProcess } from '../../src/dev/redis-process.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { FINAL_STATUSES } from '../../src/engine/run-state.ts';
import { runSettled } from '../../src/store/run-record.ts';

export const WEBHOOK_TOKEN = 'test-webhook-token-0123456789';
/** alice: an admin, who may do everything but approve the runs she started or retried. */
export const OPERATOR_TOKEN = 'test-operator-token-0123456789';
/** bob: an approver, the second pair of eyes. */
export const APPROVER_TOKEN = 'test-approver-token-0123456789';

export interface TestService {
  service: Remediator;
  url: string;
  /** The standalone redis-server, absent when the test runs on replicated Redis (`replicated`). */
  redis: RedisProcess | undefined;
  config: Config;
  playbookDir: string;
  /** POST a webhook body with the webhook token. */
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Call the operator API, as alice (admin) unless another operator token is given. */
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  /**
   * Polls GET /v1/runs/:id until `until` holds (bounded); a run that has ended is returned only once its closing
   * decision is recorded (`runSettled`), so its decisions are complete.
   */
  waitForRun(id: string, until: (run: any) => boolean, timeoutMs?: number): Promise<any>;
}

export async function fixture(name: string): Promise<any> {
  return JSON.parse(await readFile(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
}

/**
 * A real remediator (receiver + worker) on a real redis-server, with the given playbooks in a temp folder.
 * Torn down when the test file ends.
 */
export async function startTestService(options: {
  playbooks: Record<string, string>;
  redis?: RedisProcess;
  /** Replicated Redis instead of a standalone one: `settings` (src/dev/redis-ha.ts) go into `redis` of the config. */
  replicated?: { settings: Record<string, unknown> };
  role?: Role;
  overrides?: (c: Record<string, any>) => void;
  logs?: boolean;
  /** The service's logger (default: silent, or debug on stdout with `logs`). */
  log?: Logger;
  /** The engine's clock (default the system clock), e.g. to compress an hour of alerts into seconds. */
  clock?: Clock;
}): Promise<TestService> {
  const redis = options.replicated ? undefined : (options.redis ?? (await redisForTest()));
  const playbookDir = await mkdtemp(join(tmpdir(), 'remediator-pb-'));
  for (const [file, text] of Object.entries(options.playbooks)) await writeFile(join(playbookDir, file), text);
  const config = await loadConfig({
    env: {},
    overrides: (c) => {
      c.server = { host: '127.0.0.1', port: 0 };
      c.redis = { ...(options.replicated?.settings ?? { url: redis!.url }), prefix: `t${Math.random().toString(36).slice(2, 8)}` };
      c.auth = {
        webhook: { bearerTokens: [WEBHOOK_TOKEN] },
        operators: [
          { name: 'alice', token: OPERATOR_TOKEN, role: 'admin' },
          { name: 'bob', token: APPROVER_TOKEN, role: 'approver' },
        ],
      };
      c.playbooks = { dir: playbookDir, watch: false };
      c.kubernetes = { enabled: false };
      c.worker = { concurrency: 4, lockDuration: '5s', stalledInterval: '1s', shutdownGrace: '2s' };
      options.overrides?.(c);
    },
  });
  const log = options.log ?? (options.logs ? createLogger({ level: 'debug' }) : silentLogger());
  // A service that refuses to start (a test of a config error) leaves no temp folder behind.
  const service = await startRemediator(config, { role: options.role ?? 'all', log, clock: options.clock }).catch(async (err: unknown) => {
    await rm(playbookDir, { recursive: true, force: true });
    throw err;
  });
  t.teardown(async () => {
    await service.close();
    await rm(playbookDir, { recursive: true, force: true });
  });
  const url = service.url!;
  const call = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* text */
    }
    return { status: res.status, body: parsed as any };
  };
  return {
    service,
    url,
    redis,
    config,
    playbookDir,
    post: (body, headers = {}) => call('POST', '/v1/alertmanager', body, { authorization: `Bearer ${WEBHOOK_TOKEN}`, ...headers }),
    api: (method, path, body, token = OPERATOR_TOKEN) => call(method, path, body, { authorization: `Bearer ${token}` }),
    async waitForRun(id, until, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: any;
      while (Date.now() < deadline) {
        last = (await call('GET', `/v1/runs/${id}`, undefined, { authorization: `Bearer ${OPERATOR_TOKEN}` })).body;
        if (until(last) && (!FINAL_STATUSES.has(last?.status) || runSettled(last))) return last;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `run ${id} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last?.status)} ${JSON.stringify(last?.state?.steps?.map((s: any) => [s.id, s.status]))}`,
      );
    },
  };
}

/** A small playbook for ServiceDown using only the base steps. */
export function serviceDownPlaybook(opts: { name?: string; url?: string; extra?: string } = {}): string {
  return `apiVersion: remediator.io/v1
kind: Playbook
metadata:
  name: ${opts.name ?? 'service-down-basic'}
  description: test playbook
spec:
  triggers:
    - matchers: ['alertname="ServiceDown"']
  target:
    namespace: "{{ labels.namespace }}"
    kind: Deployment
    name: "{{ labels.deployment }}"
  steps:
    - id: note
      action: log
      with:
        message: "{{ labels.service }} is down in {{ labels.namespace }}"
    - id: pause
      action: wait
      with: { duration: 200ms }
${opts.extra ?? ''}`;
}

/**
 * The console with 10,000 runs stored: how long the receiver takes to answer the runs list (unfiltered, and with a
 * filter that matches 1 run in 100), and the first contentful paint of that page in Chromium on loopback. Printed
 * beside the floor: the same browser painting the sign-in page, which reads nothing from Redis. Target: first
 * paint under 1 s. `node bench/console-first-paint.ts [--quick]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { chromium } from 'playwright-core';
import { spawnRedis } from '../src/dev/redis-process.ts';
import { RunStore } from '../src/store/run-store.ts';
import type { RunRecord } from '../src/store/run-record.ts';
import { initialRunState, type RunStatus } from '../src/engine/run-state.ts';
import { serve, figure, quickMode, OPERATOR_TOKEN, warmCompileCache, type Served } from './bench-processes.ts';

const STATUSES: RunStatus[] = ['succeeded', 'completed', 'failed', 'escalated', 'cancelled'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** `runs` finished runs over the last week, one in 100 `skipped`, each with a two-step state like a real one. */
async function seed(redis: Redis, prefix: string, runs: number): Promise<void> {
  const store = new RunStore(redis, prefix, { retentionMs: 30 * 86_400_000 });
  const now = Date.now();
  for (let i = 0; i < runs; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, runs - i) }, async (_, j) => {
        const n = i + j;
        const at = new Date(now - (runs - n) * 60_000).toISOString();
        const id = `run-${(now - (runs - n) * 60_000).toString(36)}-${n.toString(16).padStart(10, '0')}`;
        const record: RunRecord = {
          id,
          playbook: `playbook-${n % 7}`,
          createdAt: at,
          trigger: 'alert',
          alert: {
            status: 'firing',
            labels: { alertname: 'ServiceDown', namespace: `ns-${n % 13}`, deployment: `svc-${n % 101}` },
            annotations: { summary: 'down' },
            startsAt: at,
            fingerprint: n.toString(16),
          },
          params: {},
          dryRun: false,
          target: { namespace: `ns-${n % 13}`, kind: 'Deployment', name: `svc-${n % 101}` },
        };
        await store.createRun(record);
        const status = n % 100 === 0 ? 'skipped' : STATUSES[n % STATUSES.length]!;
        const state = {
          ...initialRunState(),
          status,
          steps: [
            {
              id: 'restart',
              rung: 'restart',
              uses: 'kube.rollout-restart',
              kind: 'action' as const,
              status: 'succeeded' as const,
              startedAt: at,
              attempts: 1,
              summary: 'restarted',
            },
          ],
          outcome: `${status}: bench`,
        };
        await store.saveState(id, state);
        await redis.zrem(store.keys.runsQueued(), id);
      }),
    );
  }
}

export async function benchConsoleFirstPaint(options: { runs?: number; samples?: number } = {}): Promise<void> {
  const runs = options.runs ?? 10_000;
  const samples = options.samples ?? 15;
  const redis = await spawnRedis();
  const admin = new Redis(redis.url);
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-'));
  let service: Served | undefined;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    await warmCompileCache(dir);
    await seed(admin, 'con', runs);
    service = await serve({ role: 'receiver', redisUrl: redis.url, prefix: 'con', dir, extra: { kubernetes: { enabled: false } } });
    const url = service.url!;
    const answer = async (path: string) => {
      const t0 = performance.now();
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
      await res.text();
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
      return performance.now() - t0;
    };
    await answer('/');
    const list: number[] = [];
    const rare: number[] = [];
    for (let i = 0; i < samples; i++) {
      list.push(await answer('/'));
      rare.push(await answer('/?status=skipped'));
    }

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/sign-in`);
    await page.fill('#token', OPERATOR_TOKEN);
    await Promise.all([page.waitForURL(`${url}/`), page.click('button[type="submit"]')]);
    const anonymous = await (await browser.newContext()).newPage();
    const paint = async (p: typeof page, path: string) => {
      await p.goto(url + path, { waitUntil: 'load' });
      const handle = await p.waitForFunction(
        () =>
          (performance as unknown as { getEntriesByType(t: string): Array<{ name: string; startTime: number }> })
            .getEntriesByType('paint')
            .find((e) => e.name === 'first-contentful-paint')?.startTime,
      );
      return Number(await handle.jsonValue());
    };
    const fcp: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < samples; i++) {
      fcp.push(await paint(page, '/'));
      floor.push(await paint(anonymous, '/sign-in'));
    }
    await anonymous.context().close();
    await context.close();

    console.log(`console: ${runs} runs stored, ${samples} samples each, medians`);
    console.log(figure('runs list answered (50 newest, counts)', median(list), 'ms', { op: '<=', limit: 200 }));
    console.log(figure('runs list, filter matching 1 in 100', median(rare), 'ms', { op: '<=', limit: 200 }));
    console.log(figure('first contentful paint of the runs list', median(fcp), 'ms', { op: '<=', limit: 1000 }));
    console.log(`${'floor: first paint of the sign-in page'.padEnd(46)} ${median(floor).toFixed(0).padStart(8)} ms`);
  } finally {
    await browser.close();
    await service?.proc.stop();
    admin.disconnect();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchConsoleFirstPaint(quickMode() ? { runs: 10_000, samples: 5 } : {});

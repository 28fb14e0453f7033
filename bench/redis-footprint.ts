/**
 * Redis bytes per 1,000 finished runs with their decisions, and what repeats add. `remediator serve --role all`
 * with a one-step playbook on its own redis-server: 1,000 alerts in groups of 50, wait until every run ended, then
 * `INFO memory` used_memory minus what it was before. Then repeats of those 1,000 episodes: an episode keeps a
 * repeat counter and a last-seen time, and only its first few repeats become decisions, so further repeats must not
 * grow Redis.
 */
import { mkdtemp, mkdir, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { FINAL_STATUSES, type RunStatus } from '../src/engine/run-state.ts';
import { spawnRedis } from '../src/dev/redis-process.ts';
import { REPEATS_RECORDED } from '../src/store/run-store.ts';
import { serve, figure, quickMode, WEBHOOK_TOKEN, type Served, warmCompileCache } from './bench-processes.ts';

const PLAYBOOK = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: bench-note }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - id: note
      action: log
      with: { message: "{{ labels.deployment }} is down ({{ labels.instance }})" }
`;

export async function benchRedisFootprint(options: { runs?: number; repeats?: number } = {}): Promise<void> {
  const runs = options.runs ?? 1000;
  const repeats = options.repeats ?? 20;
  const redis = await spawnRedis();
  const admin = new Redis(redis.url);
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-'));
  await warmCompileCache(dir);
  let service: Served | undefined;
  try {
    const playbooks = join(dir, 'playbooks');
    await mkdir(playbooks);
    await writeFile(join(playbooks, 'note.yaml'), PLAYBOOK);
    service = await serve({
      role: 'all',
      redisUrl: redis.url,
      prefix: 'fp',
      dir,
      playbooksDir: playbooks,
      extra: { kubernetes: { enabled: false }, worker: { concurrency: 8 } },
    });
    const template = JSON.parse(await readFile(new URL('../test/fixtures/alertmanager/firing.json', import.meta.url), 'utf8'));
    const groups: string[] = [];
    for (let g = 0; g < runs / 50; g++) {
      const alerts = [];
      for (let i = 0; i < 50; i++) {
        const n = g * 50 + i;
        alerts.push({
          ...template.alerts[0],
          labels: { ...template.alerts[0].labels, instance: `10.0.${n >> 8}.${n & 255}:8080` },
          fingerprint: (0xf00000 + n).toString(16),
        });
      }
      groups.push(JSON.stringify({ ...template, alerts }));
    }
    const post = async (body: string) => {
      const res = await fetch(`${service!.url}/v1/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
        body,
      });
      const answer = (await res.json()) as { alerts: Array<{ runs: Array<{ runId: string }> }> };
      if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${JSON.stringify(answer)}`);
      return answer.alerts.flatMap((a) => a.runs.map((r) => r.runId));
    };
    const used = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await new Promise((r) => setTimeout(r, 500));
    const before = await used();
    const ids = (await Promise.all(groups.map(post))).flat();
    const deadline = Date.now() + 120_000;
    for (;;) {
      const m = admin.multi();
      for (const id of ids) m.hget(`fp:run:${id}`, 'status');
      const statuses = ((await m.exec()) ?? []).map(([, v]) => v as string | null);
      if (statuses.every((s) => FINAL_STATUSES.has(s as RunStatus))) break;
      if (Date.now() > deadline) throw new Error(`runs did not end: ${JSON.stringify(statuses.slice(0, 5))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 500));
    const finished = await used();
    for (let r = 0; r < REPEATS_RECORDED; r++) for (const g of groups) await post(g);
    const firstRepeats = await used();
    for (let r = 0; r < repeats; r++) for (const g of groups) await post(g);
    const laterRepeats = await used();
    const perThousand = ((finished - before) / ids.length) * 1000;
    console.log(`redis footprint: ${ids.length} runs finished, then ${REPEATS_RECORDED} + ${repeats} repeats of each episode`);
    console.log(figure('Redis per 1,000 finished runs with decisions', perThousand / 1e6, 'MB', { op: '<=', limit: 10 }, 2));
    console.log(
      `${`Redis per repeat, first ${REPEATS_RECORDED} of an episode (decisions)`.padEnd(46)} ${((firstRepeats - finished) / (REPEATS_RECORDED * ids.length)).toFixed(1).padStart(8)} B`,
    );
    // A stored decision is ~500 B; a counter bump is 0 B but used_memory moves by a few bytes (client buffers).
    console.log(
      figure(
        'Redis per repeat, later ones (counter only)',
        (laterRepeats - firstRepeats) / (repeats * ids.length),
        'B',
        { op: '<=', limit: 8 },
        1,
      ),
    );
  } finally {
    await service?.proc.stop();
    admin.disconnect();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchRedisFootprint({ repeats: quickMode() ? 10 : 20 });

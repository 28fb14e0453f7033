import t from 'tap';
import { Redis } from 'ioredis';
import { redisForTest } from '../support/redis.ts';
import { RunStore } from '../../src/store/run-store.ts';
import { initialRunState, type RunStatus } from '../../src/engine/run-state.ts';
import type { RunRecord } from '../../src/store/run-record.ts';
import { RunFence } from '../../src/queue/run-fence.ts';

// The run history the console pages through: filtered in Redis, newest first, a cursor that neither repeats nor
// skips runs created in the same millisecond, and counts by status.
const server = await redisForTest();
const redis = new Redis(server.url);
t.teardown(() => redis.disconnect());
const store = new RunStore(redis, 'list', { retentionMs: 86_400_000 });

const base = Date.parse('2026-12-01T00:00:00Z');
const ids: string[] = [];
// 1,200 runs in 120 distinct milliseconds: ten share each one, so page boundaries fall inside a millisecond.
for (let n = 0; n < 1200; n++) {
  const ms = base + Math.floor(n / 10) * 1000;
  const id = `run-${ms.toString(36)}-${n.toString(16).padStart(10, '0')}`;
  ids.push(id);
  const record: RunRecord = {
    id,
    playbook: n % 3 === 0 ? 'restart' : 'scale',
    createdAt: new Date(ms).toISOString(),
    trigger: 'alert',
    alert: {
      status: 'firing',
      labels: { alertname: 'ServiceDown' },
      annotations: {},
      startsAt: new Date(ms).toISOString(),
      fingerprint: String(n),
    },
    params: {},
    dryRun: false,
    target: { namespace: n % 2 === 0 ? 'shop' : 'pay', kind: 'Deployment', name: `svc-${n % 5}` },
  };
  await store.createRun(record);
  const status: RunStatus = n % 100 === 7 ? 'failed' : 'succeeded';
  await store.saveState(id, { ...initialRunState(), status });
}
const newestFirst = [...ids].sort((a, b) => Date.parse(created(b)) - Date.parse(created(a)) || (a < b ? 1 : -1));
function created(id: string): string {
  return new Date(parseInt(id.split('-')[1]!, 36)).toISOString();
}

async function all(filter: Omit<Parameters<RunStore['listRuns']>[0], 'limit' | 'cursor'>, limit = 37): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 200; page++) {
    const { runs, next } = await store.listRuns({ ...filter, limit, ...(cursor ? { cursor } : {}) });
    seen.push(...runs.map((r) => r.id));
    if (!next) return seen;
    cursor = next;
  }
  throw new Error('never ended');
}

t.test('paging through the whole history shows every run once, newest first', async (t) => {
  t.same(await all({}), newestFirst);
});

t.test('filters by status, playbook, target and time, together', async (t) => {
  const failed = await all({ status: 'failed' }, 5);
  t.equal(failed.length, 12);
  t.ok(failed.every((id) => ids.indexOf(id) % 100 === 7));
  const restartShop = await all({ playbook: 'restart', target: 'shop/Deployment/svc-0' });
  t.same(
    restartShop,
    newestFirst.filter((id) => {
      const n = ids.indexOf(id);
      return n % 3 === 0 && n % 2 === 0 && n % 5 === 0;
    }),
  );
  t.same(
    await all({ target: 'pay/svc-1' }),
    newestFirst.filter((id) => {
      const n = ids.indexOf(id);
      return n % 2 === 1 && n % 5 === 1;
    }),
  );
  const since = base + 100 * 1000;
  t.same(
    await all({ since, status: 'succeeded' }),
    newestFirst.filter((id) => Date.parse(created(id)) >= since && ids.indexOf(id) % 100 !== 7),
  );
});

t.test('counts by status, in a time window', async (t) => {
  t.same(await store.countRuns(), { succeeded: 1188, failed: 12 });
  t.same(await store.countRuns({ since: base + 110 * 1000 }), { succeeded: 99, failed: 1 }, 'the last 100 runs: run 1107 failed');
});

t.test('a cursor that is not one is refused', async (t) => {
  await t.rejects(store.listRuns({ limit: 5, cursor: 'bm9wZQ' }), { code: 'REM_ERR_BAD_REQUEST' });
});

t.test('the newest run ids, without reading their records', async (t) => {
  t.same(await store.newestRunIds(25), newestFirst.slice(0, 25), 'in the order the history pages show them');
  t.same((await store.newestRunIds(5000)).length, ids.length, 'at most as many as there are');
});

t.test("a run's progress: its status and when a waiting run is due, as the last save of its state says", async (t) => {
  const fence = new RunFence(redis, store.keys);
  const id = 'run-progress-0000000001';
  const at = new Date(base).toISOString();
  await store.createRun({
    id,
    playbook: 'restart',
    createdAt: at,
    trigger: 'manual',
    alert: { status: 'firing', labels: { alertname: 'ServiceDown' }, annotations: {}, startsAt: at, fingerprint: 'p' },
    params: {},
    dryRun: false,
    target: { namespace: 'shop', kind: 'Deployment', name: 'svc-0' },
  });
  t.equal(await fence.claim(id, 'w1', base + 3_600_000), 'claimed');
  const wakeAt = base + 60_000;
  t.equal(await fence.save(id, 'w1', { ...initialRunState(), status: 'waiting', wakeAt }, base), 'saved');
  t.same(await store.getProgress(id), { status: 'waiting', wakeAt });
  t.equal(await fence.save(id, 'w1', { ...initialRunState(), status: 'running' }, base), 'saved');
  t.same(await store.getProgress(id), { status: 'running' }, 'a save without a wake-up time removes the old one');
  await store.saveState(id, { ...initialRunState(), status: 'waiting', wakeAt: wakeAt + 1 });
  t.same(await store.getProgress(id), { status: 'waiting', wakeAt: wakeAt + 1 }, 'saveState writes it too');
  await store.saveState(id, { ...initialRunState(), status: 'running' });
  t.same(await store.getProgress(id), { status: 'running' });
  t.equal(await store.getProgress('run-none'), undefined, 'an unknown run has none');
});

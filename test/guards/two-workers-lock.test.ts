import t from 'tap';
import { startGuardedService, envFlipPlaybook, remediationMarks, FINAL } from './guard-harness.ts';
import { startRemediator } from '../../src/main.ts';
import { silentLogger } from '../../src/observability/logger.ts';

// Two worker processes' worth of workers (each with its own Redis connections and BullMQ worker) share one queue.
// Every run writes its id to the deployment twice, 60 ms apart: "<run>-begin" then "<run>-end". If two runs ever
// acted on one target at once, the sim's request log would show a begin between another run's begin and end.
const playbook = envFlipPlaybook(60, '  budget: { runs: 1000 }\n');

const svc = await startGuardedService({
  playbooks: { 'flip.yaml': playbook },
  role: 'receiver',
  // A run waiting for a target asks again only when the holder's release wakes it: with a retry time of 10 minutes, a
  // lost wake leaves its run waiting past the test's end. (Polling every 100 ms instead made 40 waiting runs take the
  // CPU the 5 holders needed, so on a loaded machine the runs finished later than the test allowed.)
  guards: { lock: { retryAfter: '10m' }, ineffective: { window: 0 }, storm: { targets: 100 } },
});
const workers = await Promise.all([0, 1].map(() => startRemediator(svc.config, { role: 'worker', log: silentLogger() })));
t.teardown(() => Promise.all(workers.map((w) => w.close())));
// Starting two workers holds this process's event loop; on a busy machine for longer than the receiver's Redis
// connect timeout, so its connection, opened just before, may be reconnecting now and the receiver not ready (a 503,
// which Alertmanager retries). Traffic goes to a ready receiver, as Kubernetes routes it: wait for /readyz.
for (const deadline = Date.now() + 30_000; (await fetch(`${svc.url}/readyz`)).status !== 200; ) {
  if (Date.now() > deadline) throw new Error('the receiver did not become ready within 30 s');
  await new Promise((r) => setTimeout(r, 50));
}

/**
 * Waits until every run has ended. A target's ten runs take turns, so how long all of them take is ten runs' time on
 * this machine at its current load; what the test claims is that none is left behind. It fails when no run has ended
 * for STALL_MS (a lost wake leaves its run waiting for the 10-minute retry), not after a fixed total.
 */
const STALL_MS = 30_000;
async function allEnded(ids: string[]): Promise<any[]> {
  const ended = new Map<string, any>();
  let progressAt = Date.now();
  while (ended.size < ids.length) {
    const listed = (await svc.api('GET', '/v1/runs?limit=500')).body.runs as Array<{ id: string; status: string }>;
    for (const r of listed) {
      if (!ids.includes(r.id) || ended.has(r.id) || !FINAL.has(r.status)) continue;
      ended.set(r.id, await svc.ended(r.id, STALL_MS));
      progressAt = Date.now();
    }
    if (ended.size === ids.length) break;
    if (Date.now() - progressAt > STALL_MS) {
      // Which run held the target, and what became of it, is what a failure here needs to show.
      const stuck = await Promise.all(ids.filter((id) => !ended.has(id)).map(async (id) => (await svc.api('GET', `/v1/runs/${id}`)).body));
      throw new Error(
        `no run ended for ${STALL_MS} ms; ${stuck.length} still open: ${JSON.stringify(stuck.map((r) => [r.id, r.status, r.decisions?.slice(-2)]))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return ids.map((id) => ended.get(id));
}

const targets = ['phone-gateway', 'realtime-processor', 'conversation-engine', 'profile-analytics', 'phone-gateway-backup'];

// Six episodes a target: enough for every target to have runs waiting behind its holder on both workers, while a
// loaded machine still finishes the file well within tap's limit (ten a target took 147 s beside a CPU-heavy process).
const PER_TARGET = 6;

t.test('30 episodes for 5 targets on two workers: never two runs mutating one target at once', async (t) => {
  const base = Date.parse('2026-05-01T08:00:00Z');
  const ids: string[] = [];
  for (let i = 0; i < PER_TARGET; i++) ids.push(...(await svc.fire(targets, new Date(base + i * 1000).toISOString())));
  t.equal(new Set(ids).size, PER_TARGET * targets.length);
  const runs = await allEnded(ids);
  t.same(
    runs.filter((r) => r.status !== 'completed').map((r) => [r.id, r.status, r.state?.outcome]),
    [],
    'every run completed',
  );
  t.ok(
    runs.some((r) => r.decisions.some((d: any) => d.reason === 'locked')),
    'runs met a locked target and waited',
  );

  for (const target of targets) {
    const marks = remediationMarks(svc, target);
    let open: string | undefined;
    const overlaps: string[] = [];
    for (const m of marks) {
      if (m.phase === 'begin') {
        if (open !== undefined) overlaps.push(`${m.run} began while ${open} was acting`);
        open = m.run;
      } else {
        if (open !== m.run) overlaps.push(`${m.run} ended while ${open ?? 'nobody'} held the target`);
        open = undefined;
      }
    }
    t.same(overlaps, [], `${target}: begin/end strictly alternate`);
    t.equal(marks.filter((m) => m.phase === 'begin').length, PER_TARGET, `${target}: ${PER_TARGET} runs acted`);
  }
});

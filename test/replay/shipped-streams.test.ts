import t, { type Test } from 'tap';
import { join } from 'node:path';
import { loadReplayStream } from '../../src/replay/replay-stream.ts';
import { replay } from '../../src/replay/replayer.ts';
import { formatReplay } from '../../src/replay/print-replay.ts';
import type { ReplayDecision, ReplayReport } from '../../src/replay/replay-report.ts';
import { redisForTest } from '../support/redis.ts';
import { REPLAYS, SHIPPED_PLAYBOOKS } from './replay-harness.ts';

/**
 * Every shipped stream against the shipped playbooks, answered by the stream's own `world:` (no Prometheus, no
 * flags): what `npx remediator replay test/fixtures/replays/<name>.yaml` shows a user. One redis-server for the file.
 */
const redis = await redisForTest();

async function run(name: string): Promise<ReplayReport> {
  const stream = await loadReplayStream(join(REPLAYS, `${name}.yaml`));
  const report = await replay(stream, { playbooksDir: SHIPPED_PLAYBOOKS, redisUrl: redis.url, timeout: '60s' });
  t.comment(
    `${name}: ${report.summary.runsStarted} run(s), ${report.summary.mutations} write(s), ${report.world?.calls} world call(s), ${report.summary.realMs} ms`,
  );
  return report;
}

const decisions = (r: ReplayReport) => r.timeline.filter((e): e is ReplayDecision => e.kind === 'decision');
const firingDeliveries = (r: ReplayReport) =>
  r.timeline
    .filter((e) => e.kind === 'delivery')
    .flatMap((e) => e.alerts)
    .filter((a) => a.startsWith('firing')).length;

/** What holds for every shipped stream: the world answered every call the shipped playbooks made. */
function answeredEverything(t: Test, report: ReplayReport, playbook = 'service-down'): void {
  t.ok(report.world && report.world.calls > 0, `the playbooks asked the stream's world (${report.world?.calls} calls)`);
  t.same(report.world?.unanswered, [], 'no call went unanswered');
  t.equal(report.summary.unansweredWorldCalls, 0);
  t.equal(report.summary.refusedDeliveries, 0);
  t.ok(
    report.runs.every((r) => r.playbook === playbook),
    `the shipped ${playbook} playbook ran`,
  );
}

t.test('service-down-repeats: one run, every other firing copy deduplicated, the Deployment restarted once', async (t) => {
  const report = await run('service-down-repeats');
  answeredEverything(t, report);
  const s = report.summary;
  t.equal(s.runsStarted, 1);
  t.equal(s.deduplicated, firingDeliveries(report) - 1, 'the twin, the retry and both repeat_interval re-sends');
  t.equal(report.runs[0]!.status, 'succeeded');
  t.match(report.runs[0]!.steps, [
    'restart/inputs: succeeded',
    'restart/diagnose: succeeded',
    'restart/database-up: succeeded',
    'restart/redis-up: succeeded',
    'restart/restart: succeeded',
    'restart/rollout: succeeded',
    'restart/health: succeeded',
    'restart/up: succeeded',
  ]);
  t.same(s.mutationsByTarget, { 'ai-ninja/deployments/phone-gateway': 1 });
  t.equal(s.pagesSent, 0);
});

t.test('resolve-race: the resolve and stale firing copies never start a second run', async (t) => {
  const report = await run('resolve-race');
  answeredEverything(t, report);
  t.equal(report.summary.runsStarted, 1);
  t.equal(report.summary.deduplicated, 2);
  const runId = report.runs[0]!.id;
  t.ok(
    decisions(report)
      .filter((d) => d.offsetMs >= 5 * 60_000)
      .every((d) => d.runId === runId && (d.reason === 'deduplicated' || d.reason === 'resolved')),
    'after the resolve: only resolves and duplicates of the one run',
  );
  t.equal(report.summary.mutations, 1);
});

t.test('flapping: fixes that do not hold climb the ladder, one page, then the guards refuse the rest', async (t) => {
  const report = await run('flapping');
  answeredEverything(t, report);
  const s = report.summary;
  t.equal(s.runsStarted, 12, 'each outage is a new episode and gets a run');
  t.equal(s.deduplicated, 0);
  const firstRungs = report.runs.map((r) => r.steps[0]?.split('/')[0] ?? '-');
  t.same(
    firstRungs.slice(0, 3),
    ['restart', 'rollback', 'failover'],
    'the second run starts one rung up, the third at the rung above the one that "fixed" the second',
  );
  t.ok((s.byReason.ineffective ?? 0) >= 2, 'refused or moved up as ineffective');
  t.ok((s.byReason.budget_exhausted ?? 0) >= 1, 'the budget stops the last runs');
  // The budget is per service (the playbook's target), not per object: three runs act, whatever their rungs touch.
  t.same(
    report.runs.slice(0, 3).map((r) => r.status),
    ['succeeded', 'succeeded', 'succeeded'],
    'three runs acted: restart, degrade, failover',
  );
  t.notOk(
    report.runs.slice(3).some((r) => r.status === 'succeeded'),
    'no later run acted',
  );
  t.equal(
    s.mutations,
    Object.values(s.mutationsByTarget).reduce((a, b) => a + b, 0),
  );
  t.ok(s.mutations <= 6, `the three runs wrote ${s.mutations} time(s) in all`);
  t.equal(s.escalations, 1, 'one escalation');
  const pages = report.pages.filter((p) => p.target === 'pager' && p.event === 'remediation.escalated');
  t.equal(pages.length, 1, 'exactly one page');
  t.equal(pages[0]?.level, 'P0');
  t.ok(
    pages[0]!.offsetMs >= 15 * 60_000 && pages[0]!.offsetMs < 20 * 60_000,
    `paged at the 4th outage, on the replay's clock (${pages[0]!.offsetMs} ms)`,
  );
  const skipped = report.runs.filter((r) => r.status === 'skipped');
  t.ok(skipped.length >= 5);
  for (const r of skipped)
    t.ok(
      decisions(report).some((d) => d.runId === r.id && (d.reason === 'budget_exhausted' || d.reason === 'ineffective')),
      `${r.id} skipped with its reason`,
    );
  const text = formatReplay(report);
  t.match(text, /ineffective +run-\S+ +the alert came back .* so that fix did not hold: starting at rung "rollback"/);
  t.match(
    text,
    /budget_exhausted +run-\S+ +service-down already ran 3 time\(s\) on ai-ninja\/Deployment\/phone-gateway within 60m/,
    'the budget refusal names the service and the window',
  );
  t.match(text, /, 0 unanswered world call\(s\) of \d+/);
});

t.test(
  'two-services: two services of ai-ninja down together make one fleet run that restarts each (runbook mode B, fix 1.2)',
  async (t) => {
    const report = await run('two-services');
    answeredEverything(t, report, 'service-fleet');
    t.same(
      report.runs.map((r) => [r.playbook, r.status]),
      [['service-fleet', 'succeeded']],
    );
    t.match(report.runs[0]!.steps, [
      'fleet/cluster: succeeded',
      'fleet/restart: succeeded',
      'fleet/up: succeeded',
      'fleet/report: succeeded',
    ]);
    t.same(report.summary.mutationsByTarget, { 'ai-ninja/deployments/phone-gateway': 1, 'ai-ninja/deployments/realtime-processor': 1 });
    t.equal(decisions(report).filter((d) => d.reason === 'absorbed').length, 5, 'every firing copy of both alerts goes to the fleet run');
    t.equal(report.summary.runsStarted, 1);
  },
);

t.test('new-episode-after-resolve: the outage 40 minutes later is a new run, at the first rung again', async (t) => {
  const report = await run('new-episode-after-resolve');
  answeredEverything(t, report);
  t.equal(report.summary.runsStarted, 2);
  t.same(
    report.runs.map((r) => r.status),
    ['succeeded', 'succeeded'],
  );
  t.same(
    report.runs.map((r) => r.steps.find((s) => s.includes('/restart:'))),
    ['restart/restart: succeeded', 'restart/restart: succeeded'],
    'outside the ineffectiveness window',
  );
  t.equal(report.summary.deduplicated, 1, 'the retried delivery of outage 2 joins its run');
});

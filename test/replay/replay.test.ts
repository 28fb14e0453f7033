import t from 'tap';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { loadReplayStream } from '../../src/replay/replay-stream.ts';
import { replay } from '../../src/replay/replayer.ts';
import { formatReplay } from '../../src/replay/print-replay.ts';
import type { ReplayDecision, ReplayReport } from '../../src/replay/replay-report.ts';
import { redisForTest } from '../support/redis.ts';
import { REPLAYS, RESTART_THEN_SCALE, tempDir } from './replay-harness.ts';

// One redis-server for the file; every replay uses its own key prefix on it, its own simulated cluster and remediator.
const redis = await redisForTest();
const playbooks = await tempDir({ 'sd.yaml': RESTART_THEN_SCALE });

async function run(name: string, options: { configFile?: string } = {}): Promise<ReplayReport> {
  const stream = await loadReplayStream(join(REPLAYS, `${name}.yaml`));
  return replay(stream, { playbooksDir: playbooks, redisUrl: redis.url, timeout: '60s', ...options });
}

const decisions = (r: ReplayReport) => r.timeline.filter((e): e is ReplayDecision => e.kind === 'decision');

t.test('repeats, HA twins and a retried delivery of one outage give one run; hours of re-sends replay in seconds', async (t) => {
  const report = await run('service-down-repeats');
  const s = report.summary;
  t.equal(s.runsStarted, 1, 'one run');
  t.equal(report.runs.length, 1);
  const firing = report.timeline.filter((e) => e.kind === 'delivery' && e.alerts[0]!.startsWith('firing')).length;
  t.equal(s.deduplicated, firing - 1, 'every other firing delivery (the twin sent at the same instant included) is deduplicated');
  const [only] = report.runs;
  t.ok(
    decisions(report)
      .filter((d) => d.reason === 'deduplicated')
      .every((d) => d.runId === only!.id),
    'each points at the one run',
  );
  t.equal(only!.status, 'succeeded', 'the restart was verified by the rollout gate');
  t.same(s.mutationsByTarget, { 'ai-ninja/deployments/phone-gateway': 1 }, 'the deployment was changed once');
  t.equal(s.escalations, 0);
  t.ok(s.virtualMs >= 8 * 3_600_000, `covers the stream's 8h05m (${s.virtualMs} ms)`);
  t.ok(s.realMs < 20_000, `in ${s.realMs} ms of real time`);

  const text = formatReplay(report);
  t.match(
    text,
    /\+0:00:00\.\d{3} {4}ServiceDown ai-ninja\/phone-gateway +restart-then-scale +started +run-\S+ +ServiceDown \(ai-ninja\/phone-gateway\) started restart-then-scale/,
    'the start, with offset, alert, playbook, decision, run and reason',
  );
  t.match(
    text,
    /\+4:00:00\.\d{3} {4}ServiceDown ai-ninja\/phone-gateway +restart-then-scale +deduplicated +run-\S+ +repeat of episode/,
    'the repeat_interval re-send at +4h',
  );
  t.match(text, /▶ #2 firing ServiceDown ai-ninja\/phone-gateway — the same notification from replica B/, 'deliveries with their notes');
  t.match(
    text,
    /summary: 6 deliveries, 1 run\(s\) started, 4 deduplicated, 0 unmatched, 1 resolve\(s\), 1 mutation\(s\) .*0 escalation\(s\)/,
  );
});

t.test('a resolve racing firing re-sends never starts a second run', async (t) => {
  const report = await run('resolve-race');
  t.equal(report.summary.runsStarted, 1);
  t.equal(report.runs.length, 1);
  const runId = report.runs[0]!.id;
  const after = decisions(report).filter((d) => d.offsetMs >= 5 * 60_000);
  t.same(
    [...new Set(after.map((d) => d.reason))].sort(),
    ['deduplicated', 'resolved'],
    'after the resolve: only resolves and deduplicated firing copies',
  );
  t.ok(
    after.every((d) => d.runId === runId),
    'all about the one run',
  );
  t.equal(report.summary.mutations, 1);
});

t.test('flapping: the budget stops the automation, one page, every other run skipped with its reason', async (t) => {
  const report = await run('flapping');
  const s = report.summary;
  const outages = report.timeline.filter((e) => e.kind === 'delivery' && e.alerts[0]!.startsWith('firing')).length;
  t.equal(s.runsStarted, outages, 'each outage is a new episode and gets a run');
  t.ok(s.mutations <= 3, `at most the budget (3 per hour) of writes to the deployment (${s.mutations})`);
  t.ok(s.mutations >= 2, 'the first runs did act');
  t.equal(s.escalations, 1, 'exactly one escalation');
  t.equal(report.runs.filter((r) => r.status === 'escalated').length, 1);
  t.ok((s.byReason.budget_exhausted ?? 0) >= 1, 'the budget refused the later runs');
  const skipped = report.runs.filter((r) => r.status === 'skipped');
  t.equal(skipped.length + report.runs.filter((r) => r.status !== 'skipped').length, outages);
  for (const r of skipped) {
    t.ok(
      decisions(report).some((d) => d.runId === r.id && (d.reason === 'budget_exhausted' || d.reason === 'ineffective')),
      `${r.id} skipped with its reason`,
    );
  }
  t.match(
    formatReplay(report),
    /budget_exhausted +run-\S+ +restart-then-scale already ran 3 time\(s\) on ai-ninja\/Deployment\/phone-gateway within 60m/,
  );
});

t.test('two services in one group: a run each, repeats and a partial resolve decided per alert', async (t) => {
  const report = await run('two-services');
  t.same(report.runs.map((r) => r.alert).sort(), ['ServiceDown ai-ninja/phone-gateway', 'ServiceDown ai-ninja/realtime-processor']);
  t.same(Object.keys(report.summary.mutationsByTarget).sort(), [
    'ai-ninja/deployments/phone-gateway',
    'ai-ninja/deployments/realtime-processor',
  ]);
  const resolved = decisions(report).filter((d) => d.reason === 'resolved');
  t.same(
    resolved.map((d) => d.alert),
    ['ServiceDown ai-ninja/phone-gateway'],
    'only phone-gateway resolved',
  );
  const rp = report.runs.find((r) => r.alert.endsWith('realtime-processor'))!;
  t.equal(
    decisions(report).filter((d) => d.reason === 'deduplicated' && d.runId === rp.id).length,
    2,
    'realtime-processor firing in the re-send and in the mixed group is deduplicated',
  );
});

t.test('a new outage after a resolve is a new episode and a new run, starting at the first rung again', async (t) => {
  const report = await run('new-episode-after-resolve');
  t.equal(report.runs.length, 2);
  t.same(
    report.runs.map((r) => r.status),
    ['succeeded', 'succeeded'],
  );
  t.same(
    report.runs.map((r) => r.steps[0]),
    ['restart/restart: succeeded', 'restart/restart: succeeded'],
    'outside the ineffectiveness window',
  );
  t.equal(report.summary.deduplicated, 1, 'the retried delivery of outage 2 joins its run');
});

t.test('a replay takes guards from --config and never pages anyone', async (t) => {
  let pages = 0;
  const receiver = createServer((req, res) => {
    pages++;
    req.resume();
    res.writeHead(202).end('{}');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const port = (receiver.address() as { port: number }).port;
  const dir = await tempDir({
    'remediator.yaml': `escalation:\n  targets:\n    oncall: { type: webhook, url: "http://127.0.0.1:${port}/page", secret: s3cret, role: page }\nguards:\n  budget: { runs: 2 }\n`,
  });
  const report = await run('flapping', { configFile: join(dir, 'remediator.yaml') });
  t.ok(report.summary.mutations <= 2, `the config's budget of 2 holds (${report.summary.mutations})`);
  t.match(formatReplay(report), /already ran 2 time\(s\)/);
  t.equal(report.summary.escalations, 1, 'the escalation is recorded');
  t.ok(
    report.pages.some((p) => p.target === 'oncall' && p.event === 'remediation.escalated'),
    `the page went through the escalator to the replay's stand-in for "oncall": ${JSON.stringify(report.pages)}`,
  );
  await new Promise((r) => setTimeout(r, 200));
  t.equal(pages, 0, 'and nothing was sent to the configured paging target');
});

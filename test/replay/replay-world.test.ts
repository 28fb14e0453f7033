import t from 'tap';
import { join } from 'node:path';
import { loadReplayStream } from '../../src/replay/replay-stream.ts';
import { replay } from '../../src/replay/replayer.ts';
import { formatReplay } from '../../src/replay/print-replay.ts';
import { startPrometheus } from '../../src/dev/prometheus-process.ts';
import { redisForTest } from '../support/redis.ts';
import { REPLAYS, SHIPPED_PLAYBOOKS, tempDir } from './replay-harness.ts';

// One redis-server for the file; each replay has its own key prefix, cluster and remediator.
const redis = await redisForTest();

/** One ServiceDown outage of phone-gateway (the captured webhook, with the rule's health_url) and the given world. */
function stream(world: string): string {
  return [
    'entries:',
    '  - at: 0s',
    `    payload: ${join(REPLAYS, '../alertmanager/firing.json')}`,
    '    patch: [{ op: add, path: /alerts/0/annotations/health_url, value: "http://phone-gateway.ai-ninja.svc:80/health" }]',
    'world:',
    world,
  ].join('\n');
}

const HEALTH = ['  http:', '    - url: http://phone-gateway.ai-ninja.svc:80/health', '      answers: [200]'].join('\n');
const DEPENDENCIES_UP = ['  prometheus:', '    - { query: pg_up, answers: [[1]] }', '    - { query: redis_up, answers: [[1]] }'].join('\n');

async function replayText(text: string, options: { prometheusUrl?: string; playbooksDir?: string } = {}) {
  const dir = await tempDir({ 'stream.yaml': text });
  const loaded = await loadReplayStream(join(dir, 'stream.yaml'));
  return replay(loaded, { playbooksDir: SHIPPED_PLAYBOOKS, redisUrl: redis.url, timeout: '60s', ...options });
}

t.test('a query the world has no answer for is listed with how often it was made, and the step sees an error', async (t) => {
  // No answer for the `up` verification query.
  const report = await replayText(stream(`${DEPENDENCIES_UP}\n${HEALTH}`));
  t.equal(report.summary.runsStarted, 1);
  t.not(report.runs[0]!.status, 'succeeded', 'an unanswered verification does not count as a verified fix');
  t.ok(report.runs[0]!.steps.includes('restart/up: failed'), `the up gate failed: ${report.runs[0]!.steps.join(', ')}`);
  const rows = report.world!.unanswered;
  t.equal(rows.length, 1, JSON.stringify(rows));
  t.equal(rows[0]!.service, 'prometheus');
  t.equal(rows[0]!.call, 'up{job="phone-gateway",namespace="ai-ninja"}');
  t.ok(rows[0]!.count >= 1);
  t.equal(report.summary.unansweredWorldCalls, rows[0]!.count, 'the summary counts every unanswered call');
  t.ok(report.world!.calls > rows[0]!.count, 'the answered calls (pg_up, redis_up, the health check) are counted too');
  const text = formatReplay(report);
  t.match(
    text,
    new RegExp(`unanswered world calls .*\\n {2}prometheus {2}up\\{job="phone-gateway",namespace="ai-ninja"\\} {2}×${rows[0]!.count}\\n`),
  );
  t.match(text, new RegExp(`, ${rows[0]!.count} unanswered world call\\(s\\) of ${report.world!.calls}`));
});

t.test('a URL the world has no answer for is listed as an http call; the check sees a 502 and keeps polling', async (t) => {
  // A check-only playbook of the test's own with a short timeout: the shipped ones poll a health URL for a minute a rung.
  const playbooks = await tempDir({
    'check.yaml': [
      'apiVersion: remediator.io/v1',
      'kind: Playbook',
      'metadata: { name: health-check }',
      'spec:',
      '  triggers: [{ matchers: [\'alertname="ServiceDown"\'] }]',
      '  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }',
      '  rungs:',
      '    - name: check',
      '      steps:',
      '        - id: health',
      '          gate: http.check',
      '          with: { url: "{{ annotations.health_url }}" }',
      '          interval: 1s',
      '          timeout: 3s',
      '',
    ].join('\n'),
  });
  const report = await replayText(stream(DEPENDENCIES_UP), { playbooksDir: playbooks });
  t.same(report.runs[0]!.steps, ['check/health: failed']);
  const rows = report.world!.unanswered;
  t.same(
    rows.map((r) => `${r.service} ${r.call}`),
    ['http GET http://phone-gateway.ai-ninja.svc:80/health'],
  );
  t.ok(rows[0]!.count >= 3, `polled until its timeout (${rows[0]!.count} calls)`);
});

t.test('--prometheus-url wins over world.prometheus; the world still answers the health checks', async (t) => {
  // The world says Postgres is down: on its own, the playbook pages the database's owner and changes nothing.
  const text = stream(
    [
      '  prometheus:',
      '    - { query: pg_up, answers: [[0]] }',
      '    - { query: redis_up, answers: [[1]] }',
      '    - { query: up, answers: [[1]] }',
      HEALTH,
    ].join('\n'),
  );
  const scripted = await replayText(text);
  t.equal(scripted.runs[0]!.status, 'escalated', 'with the world alone: Postgres is down, escalated');
  t.equal(scripted.summary.mutations, 0);

  // A real Prometheus with no pg_up or redis_up series (no exporter: the playbook goes on) and phone-gateway up.
  const prom = await startPrometheus({
    fast: true,
    rules: [{ record: 'up', expr: 'vector(1)', labels: { job: 'phone-gateway', namespace: 'ai-ninja' } }],
  });
  t.teardown(() => prom.stop());
  await prom.waitFor('up{job="phone-gateway",namespace="ai-ninja"} == 1', 20_000);
  const real = await replayText(text, { prometheusUrl: prom.url });
  t.equal(real.runs[0]!.status, 'succeeded', `with --prometheus-url the real Prometheus answered: ${real.runs[0]!.steps.join(', ')}`);
  t.same(real.summary.mutationsByTarget, { 'ai-ninja/deployments/phone-gateway': 1 });
  t.ok(real.world!.calls > 0, 'the health checks were answered by the world');
  t.same(real.world!.unanswered, []);
  t.equal(formatReplay(real).includes('unanswered world calls'), false);
});

import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

// remediator's own alerts and dashboard: promtool accepts the rules and their unit tests pass, the chart ships the
// same files, and every metric they query is one remediator exports (a renamed metric would leave an alert that
// can never fire and an empty panel).

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, 'config/self-monitoring');
const RULES = join(DIR, 'remediator.rules.yaml');
const DASHBOARD = join(DIR, 'remediator-dashboard.json');

/** Every metric name registered in src/ (prom-client `name: 'remediator_…'`), histograms with their series. */
async function exportedMetrics(): Promise<Set<string>> {
  const names = new Set<string>();
  const files = (await readdir(join(ROOT, 'src'), { recursive: true })).map(String).filter((f) => f.endsWith('.ts'));
  for (const f of files) {
    const text = await readFile(join(ROOT, 'src', f), 'utf8');
    for (const m of text.matchAll(/name:\s*'(remediator_[a-z0-9_]+)'/g)) names.add(m[1]!);
    for (const m of text.matchAll(/new Histogram\(\{\s*name:\s*'(remediator_[a-z0-9_]+)'/g))
      for (const s of ['_bucket', '_count', '_sum']) names.add(m[1]! + s);
  }
  return names;
}

const metricsIn = (expr: string) => [...expr.matchAll(/\b(remediator_[a-z0-9_]+)/g)].map((m) => m[1]!);

const promtool = await run('promtool', ['--version']).then(
  () => true,
  () => false,
);

t.test('promtool checks the rules and their unit tests pass', { skip: promtool ? false : 'promtool is not installed' }, async (t) => {
  const check = await run('promtool', ['check', 'rules', RULES]);
  t.match(check.stdout, /SUCCESS: 9 rules found/);
  const test = await run('promtool', ['test', 'rules', 'tests/remediator.rules.test.yaml'], { cwd: DIR });
  t.match(test.stdout, /SUCCESS/);
});

t.test('the alerts the issue asks for are all there', async (t) => {
  const doc = parse(await readFile(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> };
  const alerts = doc.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort();
  t.same(alerts, [
    'RemediatorApprovalExpired',
    'RemediatorEscalationDeadLettered',
    'RemediatorEscalationFailing',
    'RemediatorManyEscalatedRuns',
    'RemediatorPlaybookNotInForce',
    'RemediatorPlaybookReloadFailing',
    'RemediatorRedisUnreachable',
    'RemediatorStormPauseActive',
    'RemediatorWebhookErrors',
  ]);
  const tests = parse(await readFile(join(DIR, 'tests/remediator.rules.test.yaml'), 'utf8')) as {
    tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
  };
  const fired = new Set(tests.tests.flatMap((x) => x.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
  t.same(
    alerts.filter((a) => !fired.has(a)),
    [],
    'every alert has a unit test in which it fires',
  );
});

t.test('every metric the rules and the dashboard query is exported by remediator', async (t) => {
  const exported = await exportedMetrics();
  const doc = parse(await readFile(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  for (const r of doc.groups.flatMap((g) => g.rules)) {
    for (const m of metricsIn(r.expr)) t.ok(exported.has(m), `${r.alert} queries ${m}`);
  }
  const dash = JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
    uid: string;
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    templating: { list: Array<{ query?: unknown }> };
  };
  t.ok(dash.uid, 'a stable uid, so the sidecar updates it in place');
  t.ok(dash.panels.length >= 8);
  const exprs = [
    ...dash.panels.flatMap((p) => p.targets.map((x) => ({ where: p.title, expr: x.expr }))),
    ...dash.templating.list.filter((v) => typeof v.query === 'string').map((v) => ({ where: 'variables', expr: v.query as string })),
  ];
  for (const { where, expr } of exprs) {
    const used = metricsIn(expr);
    if (where !== 'variables') t.ok(used.length > 0, `panel "${where}" queries a remediator metric`);
    for (const m of used) t.ok(exported.has(m), `panel "${where}" queries ${m}`);
  }
});

t.test('the chart ships the same rules and dashboard', async (t) => {
  for (const f of ['remediator.rules.yaml', 'remediator-dashboard.json']) {
    t.equal(
      await readFile(join(ROOT, 'helm/remediator/files/self-monitoring', f), 'utf8'),
      await readFile(join(DIR, f), 'utf8'),
      `helm/remediator/files/self-monitoring/${f} is a copy of config/self-monitoring/${f}`,
    );
  }
});

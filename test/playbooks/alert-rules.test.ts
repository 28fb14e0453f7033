import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { createRegistry } from '../../src/main.ts';
import { PlaybookCatalog } from '../../src/playbooks/playbook-catalog.ts';
import type { Playbook } from '../../src/domain/playbook.ts';
import { collectRefs } from '../../src/engine/template.ts';
import { formatMatcher, matches } from '../../src/domain/matcher.ts';
import { silentLogger } from '../../src/observability/logger.ts';

// The Prometheus rule files in config/alert-rules/ exist to fire the shipped playbooks. This checks that every
// file is a valid rule file (promtool), that every alert a rule can raise reaches a shipped playbook and carries
// every label and annotation that playbook's templates read, and (for the rules that come with service-down,
// bad-deploy and config-repair) that the expressions really fire on the series they are written for, with exactly
// the labels and annotations the playbooks get.

const run = promisify(execFile);
const RULES_DIR = fileURLToPath(new URL('../../config/alert-rules/', import.meta.url));
const PLAYBOOKS_DIR = fileURLToPath(new URL('../../playbooks/', import.meta.url));

interface AlertingRule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const promtool = await run('promtool', ['--version']).then(
  () => 'promtool',
  () => undefined,
);
const ruleFiles = (await readdir(RULES_DIR).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f)).sort();

const catalog = new PlaybookCatalog(
  PLAYBOOKS_DIR,
  { registry: createRegistry(), available: new Set(['kube', 'prometheus', 'alertmanager', 'escalation', 'limits']) },
  silentLogger(),
);
const problems = await catalog.reload();

async function rulesOf(file: string): Promise<AlertingRule[]> {
  const doc = parse(await readFile(join(RULES_DIR, file), 'utf8')) as { groups?: Array<{ rules?: Array<Partial<AlertingRule>> }> };
  return (doc.groups ?? []).flatMap((g) => g.rules ?? []).filter((r): r is AlertingRule => typeof r.alert === 'string');
}

/** The `labels.X` and `annotations.X` (also `alert.labels.X`) a playbook's templates read. */
function alertRefs(pb: Playbook): { labels: Set<string>; annotations: Set<string> } {
  const out = { labels: new Set<string>(), annotations: new Set<string>() };
  for (const { path } of collectRefs(pb.doc.spec)) {
    const parts = path.split('.');
    if (parts[0] === 'alert') parts.shift();
    if ((parts[0] === 'labels' || parts[0] === 'annotations') && parts[1]) out[parts[0]].add(parts[1]);
  }
  return out;
}

const ANY: unique symbol = Symbol('any value');
type Value = string | typeof ANY;

/**
 * What can be known about the labels of the alerts a rule raises without running it: `alertname`, the rule's own
 * labels, and for labels of the expression their possible values where the text says (`l="v"`, `l=~"a|b"`).
 * `undefined` values = the label is there with a value not known here. A `label_replace` makes its label a
 * function of another one (`derived`), so the two always go together in the examples.
 */
export function derivedLabels(rule: AlertingRule): {
  values: Map<string, string[] | undefined>;
  derived: Array<{ dst: string; src: string; re: RegExp; replacement: string }>;
} {
  const values = new Map<string, string[] | undefined>();
  const add = (name: string, vs: string[] | undefined) => {
    const had = values.get(name);
    if (!values.has(name)) values.set(name, vs);
    else if (vs && had) values.set(name, [...new Set([...had, ...vs])]);
    else if (vs) values.set(name, vs);
  };
  for (const [, body] of rule.expr.matchAll(/\{([^{}]*)\}/g)) {
    for (const [, name, op, value] of body!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      if (name === '__name__') continue;
      if (op === '=') add(name!, [value!]);
      else if (op === '=~' && /^[A-Za-z0-9_:-]+(\|[A-Za-z0-9_:-]+)*$/.test(value!)) add(name!, value!.split('|'));
      else add(name!, undefined);
    }
  }
  for (const [, list] of rule.expr.matchAll(/\b(?:by|on|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const name of list!
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean))
      add(name, undefined);
  }
  const derived: Array<{ dst: string; src: string; re: RegExp; replacement: string }> = [];
  for (const [, dst, replacement, src, regex] of rule.expr.matchAll(
    /label_replace\([\s\S]*?"([A-Za-z_]\w*)"\s*,\s*"([^"]*)"\s*,\s*"([A-Za-z_]\w*)"\s*,\s*"([^"]*)"\s*\)/g,
  )) {
    derived.push({ dst: dst!, src: src!, re: new RegExp(`^(?:${regex})$`), replacement: replacement!.replace(/\$(\d)/g, '$$$1') });
    values.delete(dst!);
  }
  for (const [name, value] of Object.entries(rule.labels ?? {})) values.set(name, value.includes('{{') ? undefined : [value]);
  values.set('alertname', [rule.alert]);
  return { values, derived };
}

/** Every alert the known values allow; a value not known here (ANY) satisfies any matcher. */
function exampleAlerts(d: ReturnType<typeof derivedLabels>): Array<Record<string, Value>> {
  let combos: Array<Record<string, Value>> = [{}];
  for (const [name, vs] of d.values) combos = combos.flatMap((c) => ((vs ?? [ANY]) as Value[]).map((v) => ({ ...c, [name]: v })));
  for (const c of combos) {
    for (const { dst, src, re, replacement } of d.derived) {
      const from = c[src];
      c[dst] = typeof from === 'string' && re.test(from) ? from.replace(re, replacement) : (c[dst] ?? ANY);
    }
  }
  return combos;
}

/** The playbooks whose trigger holds for this alert, judging unknown values as able to satisfy a matcher. */
function playbooksFor(alert: Record<string, string | typeof ANY>): Playbook[] {
  return catalog
    .list()
    .filter((pb) =>
      pb.triggers.some(
        (tr) =>
          tr.status !== 'resolved' &&
          tr.matchers.every((m) => (alert[m.name] === ANY ? true : matches(m, alert as Record<string, string>))),
      ),
    );
}

if (problems.length > 0) t.fail(`the shipped playbooks load: ${problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('; ')}`);

t.test(
  'every rule file passes promtool check rules',
  { skip: promtool ? false : 'promtool is not installed (Debian: apt-get install prometheus)' },
  async (t) => {
    t.ok(ruleFiles.length >= 3, `rule files found: ${ruleFiles.join(', ')}`);
    for (const file of ruleFiles) {
      const res = await run('promtool', ['check', 'rules', join(RULES_DIR, file)]).then(
        (r) => ({ ok: true, out: r.stdout + r.stderr }),
        (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
      );
      t.ok(res.ok, `${file}: ${res.out.trim()}`);
    }
  },
);

t.test('every alert a rule can raise reaches a shipped playbook and carries what its templates read', async (t) => {
  for (const file of ruleFiles) {
    for (const rule of await rulesOf(file)) {
      const d = derivedLabels(rule);
      const has = new Set([...d.values.keys(), ...d.derived.map((x) => x.dst)]);
      const lost: string[] = [];
      const missing = new Set<string>();
      const reached = new Set<string>();
      for (const alert of exampleAlerts(d)) {
        const found = playbooksFor(alert);
        if (found.length === 0) {
          const why = catalog.list().map(
            (pb) =>
              `${pb.name}: ${pb.triggers
                .map((tr) =>
                  tr.matchers
                    .filter((m) => alert[m.name] !== ANY && !matches(m, alert as Record<string, string>))
                    .map(formatMatcher)
                    .join(', '),
                )
                .join(' | ')}`,
          );
          lost.push(
            `{${Object.entries(alert)
              .map(([k, v]) => `${k}=${v === ANY ? '…' : v}`)
              .join(',')}} (${why.join('; ')})`,
          );
        }
        for (const pb of found) {
          reached.add(pb.name);
          const refs = alertRefs(pb);
          for (const l of refs.labels) if (!has.has(l)) missing.add(`${pb.name} reads labels.${l}`);
          for (const a of refs.annotations) if (rule.annotations?.[a] === undefined) missing.add(`${pb.name} reads annotations.${a}`);
        }
      }
      t.same(lost, [], `${file} ${rule.alert}: every alert it can raise starts a playbook (${[...reached].join(', ')})`);
      t.same([...missing], [], `${file} ${rule.alert}: carries every label and annotation those playbooks read`);
    }
  }
});

t.test('the label derivation sees what the expressions say', async (t) => {
  const d = derivedLabels({
    alert: 'X',
    expr: 'label_replace(up{namespace="a", job=~"p|q", code=~"5.."}, "deployment", "svc-$1", "job", "(.+)") > 0 and on (namespace, pod) y',
    labels: { severity: 'critical', who: '{{ $labels.team }}' },
  });
  t.same(Object.fromEntries(d.values), {
    namespace: ['a'],
    job: ['p', 'q'],
    code: undefined,
    pod: undefined,
    severity: ['critical'],
    who: undefined,
    alertname: ['X'],
  });
  t.same(
    exampleAlerts(d).map((a) => [a.job, a.deployment]),
    [
      ['p', 'svc-p'],
      ['q', 'svc-q'],
    ],
    'the replaced label goes with the label it comes from',
  );
});

/** promtool unit tests of the three rules that come with the runbook's playbooks: series in, exact alerts out. */
const UNIT: Array<{
  file: string;
  playbook: string;
  evalTime: string;
  series: Array<{ series: string; values: string }>;
  alertname: string;
  expect: Array<{ labels: Record<string, string>; annotations: Record<string, string> }>;
}> = [
  {
    file: 'service-down.rules.yaml',
    playbook: 'service-down',
    alertname: 'ServiceDown',
    evalTime: '3m',
    series: [
      { series: 'up{job="phone-gateway",namespace="ai-ninja",instance="phone-gateway.ai-ninja.svc:80"}', values: '1 1 0x20' },
      // Up, and a service the runbook does not cover: neither fires.
      { series: 'up{job="realtime-processor",namespace="ai-ninja",instance="realtime-processor.ai-ninja.svc:80"}', values: '1x20' },
      { series: 'up{job="user-management",namespace="ai-ninja",instance="user-management.ai-ninja.svc:80"}', values: '0x20' },
    ],
    expect: [
      {
        labels: {
          alertname: 'ServiceDown',
          severity: 'critical',
          job: 'phone-gateway',
          namespace: 'ai-ninja',
          deployment: 'phone-gateway',
          instance: 'phone-gateway.ai-ninja.svc:80',
        },
        annotations: {
          summary: 'ai-ninja/phone-gateway is down',
          description:
            'Prometheus cannot scrape phone-gateway.ai-ninja.svc:80 (job phone-gateway) for 1 minute: the service does not answer its health check.',
          health_url: 'http://phone-gateway.ai-ninja.svc:80/health',
          runbook_url: 'https://runbooks.example.com/ai-ninja/ServiceDown',
        },
      },
    ],
  },
  {
    file: 'bad-deploy.rules.yaml',
    playbook: 'bad-deploy',
    alertname: 'ErrorRateAfterDeploy',
    evalTime: '40m',
    series: [
      // phone-gateway: 30 % errors and a ReplicaSet created at 33m20s (6m40s before the evaluation) → fires.
      { series: 'http_requests_total{job="phone-gateway",namespace="ai-ninja",code="500"}', values: '0+30x200' },
      { series: 'http_requests_total{job="phone-gateway",namespace="ai-ninja",code="200"}', values: '0+70x200' },
      { series: 'kube_replicaset_created{namespace="ai-ninja",replicaset="phone-gateway-7c9f"}', values: '2000x200' },
      {
        series:
          'kube_replicaset_owner{namespace="ai-ninja",replicaset="phone-gateway-7c9f",owner_kind="Deployment",owner_name="phone-gateway"}',
        values: '1x200',
      },
      // realtime-processor: the same errors, but its newest ReplicaSet is 40 minutes old → not a bad deploy.
      { series: 'http_requests_total{job="realtime-processor",namespace="ai-ninja",code="500"}', values: '0+30x200' },
      { series: 'http_requests_total{job="realtime-processor",namespace="ai-ninja",code="200"}', values: '0+70x200' },
      { series: 'kube_replicaset_created{namespace="ai-ninja",replicaset="realtime-processor-5d4b"}', values: '0x200' },
      {
        series:
          'kube_replicaset_owner{namespace="ai-ninja",replicaset="realtime-processor-5d4b",owner_kind="Deployment",owner_name="realtime-processor"}',
        values: '1x200',
      },
      // conversation-engine: a fresh ReplicaSet and 1 % errors → healthy.
      { series: 'http_requests_total{job="conversation-engine",namespace="ai-ninja",code="500"}', values: '0+1x200' },
      { series: 'http_requests_total{job="conversation-engine",namespace="ai-ninja",code="200"}', values: '0+99x200' },
      { series: 'kube_replicaset_created{namespace="ai-ninja",replicaset="conversation-engine-99aa"}', values: '2000x200' },
      {
        series:
          'kube_replicaset_owner{namespace="ai-ninja",replicaset="conversation-engine-99aa",owner_kind="Deployment",owner_name="conversation-engine"}',
        values: '1x200',
      },
    ],
    expect: [
      {
        labels: {
          alertname: 'ErrorRateAfterDeploy',
          severity: 'major',
          job: 'phone-gateway',
          namespace: 'ai-ninja',
          deployment: 'phone-gateway',
        },
        annotations: {
          summary: 'ai-ninja/phone-gateway: 30% of requests fail since its last rollout',
          description:
            'More than 5 % of requests to phone-gateway answered 5xx for 2 minutes, and a new revision was created in the last 30 minutes.',
          runbook_url: 'https://runbooks.example.com/ai-ninja/ServiceDown#方案4-回滚版本',
        },
      },
    ],
  },
  {
    file: 'config-repair.rules.yaml',
    playbook: 'config-repair',
    alertname: 'ConfigReloadFailed',
    evalTime: '3m',
    series: [
      {
        series: 'app_config_last_reload_successful{job="conversation-engine",namespace="ai-ninja",instance="10.0.3.7:8080"}',
        values: '1 1 0x20',
      },
      { series: 'app_config_last_reload_successful{job="phone-gateway",namespace="ai-ninja",instance="10.0.3.8:8080"}', values: '1x20' },
    ],
    expect: [
      {
        labels: {
          alertname: 'ConfigReloadFailed',
          severity: 'major',
          configmap: 'app-config',
          job: 'conversation-engine',
          namespace: 'ai-ninja',
          deployment: 'conversation-engine',
          instance: '10.0.3.7:8080',
        },
        annotations: {
          summary: 'ai-ninja/conversation-engine cannot load its configuration',
          description: '10.0.3.7:8080 reports that its configuration (ConfigMap app-config) did not load or validate for 1 minute.',
          runbook_url: 'https://runbooks.example.com/ai-ninja/ServiceDown#方案2-配置修复',
        },
      },
    ],
  },
];

t.test(
  'the runbook rules fire on their series with exactly the labels and annotations their playbooks need',
  { skip: promtool ? false : 'promtool is not installed' },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'remediator-rules-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    for (const u of UNIT) {
      const testFile = join(dir, `${u.alertname}.test.yaml`);
      await writeFile(
        testFile,
        stringify({
          rule_files: [join(RULES_DIR, u.file)],
          evaluation_interval: '15s',
          tests: [
            {
              interval: '15s',
              input_series: u.series,
              alert_rule_test: [
                {
                  eval_time: u.evalTime,
                  alertname: u.alertname,
                  exp_alerts: u.expect.map((e) => ({ exp_labels: e.labels, exp_annotations: e.annotations })),
                },
              ],
            },
          ],
        }),
      );
      const res = await run('promtool', ['test', 'rules', testFile]).then(
        (r) => ({ ok: true, out: r.stdout + r.stderr }),
        (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
      );
      t.ok(res.ok, `${u.file}: promtool test rules\n${res.out.trim()}`);
      for (const e of u.expect) {
        // A fleet playbook (spec.fleet) matches every ServiceDown too, but only counts the service toward a correlated
        // incident (test/guards/fleet.test.ts): the alert's own run is the per-service playbook's.
        const got = catalog
          .match({ labels: e.labels, status: 'firing' })
          .filter((pb) => pb.fleet === undefined)
          .map((pb) => pb.name);
        t.same(got, [u.playbook], `${u.alertname} for ${e.labels.deployment} starts ${u.playbook}`);
        const refs = alertRefs(catalog.get(u.playbook)!);
        for (const l of refs.labels) t.ok(e.labels[l] !== undefined, `${u.playbook} reads labels.${l}; the alert has it`);
        for (const a of refs.annotations) t.ok(e.annotations[a] !== undefined, `${u.playbook} reads annotations.${a}; the alert has it`);
      }
    }
  },
);

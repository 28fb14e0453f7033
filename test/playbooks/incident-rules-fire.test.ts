import t from 'tap';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createRegistry } from '../../src/main.ts';
import { PlaybookCatalog } from '../../src/playbooks/playbook-catalog.ts';
import { collectRefs } from '../../src/engine/template.ts';
import { silentLogger } from '../../src/observability/logger.ts';

// The rule files of the incident-process playbooks (high-cpu, memory-leak, db-pool-exhausted, otlp-collector-p0)
// come with promtool unit tests in config/alert-rules/tests/: series in, exact alerts out. This runs them, and
// checks that every alert they expect starts exactly the playbook it is written for and carries every label that
// playbook's templates read.

const run = promisify(execFile);
const TESTS_DIR = fileURLToPath(new URL('../../config/alert-rules/tests/', import.meta.url));
const PLAYBOOKS_DIR = fileURLToPath(new URL('../../playbooks/', import.meta.url));
const PLAYBOOK_OF: Record<string, string> = {
  HighCPU: 'high-cpu',
  MemoryLeakOOMKilled: 'memory-leak',
  DBConnectionPoolExhausted: 'db-pool-exhausted',
  OTLPCollectorDown: 'otlp-collector-p0',
};

const promtool = await run('promtool', ['--version']).then(
  () => true,
  () => false,
);
const files = (await readdir(TESTS_DIR)).filter((f) => f.endsWith('.rules.test.yaml')).sort();
const catalog = new PlaybookCatalog(
  PLAYBOOKS_DIR,
  { registry: createRegistry(), available: new Set(['kube', 'prometheus', 'alertmanager', 'escalation', 'limits']) },
  silentLogger(),
);
const problems = await catalog.reload();

interface PromtoolTest {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: Array<{ exp_labels?: Record<string, string> }> }> }>;
}

t.same(problems, [], 'the shipped playbooks load');
t.same(
  files,
  Object.values(PLAYBOOK_OF)
    .map((p) => `${p}.rules.test.yaml`)
    .sort(),
  'each of these playbooks has its rule unit test',
);

for (const file of files) {
  t.test(file, { skip: promtool ? false : 'promtool is not installed (Debian: apt-get install prometheus)' }, async (t) => {
    const res = await run('promtool', ['test', 'rules', file], { cwd: TESTS_DIR }).then(
      (r) => ({ ok: true, out: r.stdout + r.stderr }),
      (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    t.ok(res.ok, `promtool test rules ${file}\n${res.out.trim()}`);

    const doc = parse(await readFile(join(TESTS_DIR, file), 'utf8')) as PromtoolTest;
    const fired = doc.tests.flatMap((c) => c.alert_rule_test ?? []).flatMap((a) => (a.exp_alerts ?? []).map((e) => e.exp_labels ?? {}));
    t.ok(fired.length > 0, 'the test expects at least one alert to fire');
    for (const labels of fired) {
      const want = PLAYBOOK_OF[labels.alertname ?? ''];
      t.same(
        catalog.match({ labels, status: 'firing' }).map((pb) => pb.name),
        [want],
        `${labels.alertname} for ${labels.namespace}/${labels.deployment} starts ${want}`,
      );
      const pb = catalog.get(want ?? '');
      if (!pb) continue;
      const read = collectRefs(pb.doc.spec)
        .map(({ path }) => path.replace(/^alert\./, '').split('.'))
        .filter((p) => p[0] === 'labels' && p[1])
        .map((p) => p[1]!);
      for (const l of new Set(read)) t.ok(labels[l] !== undefined, `${want} reads labels.${l}; the alert carries it`);
    }
  });
}

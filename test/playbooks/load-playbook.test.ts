import t from 'tap';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadPlaybook } from '../../src/playbooks/load-playbook.ts';
import { PlaybookCatalog } from '../../src/playbooks/playbook-catalog.ts';
import { createRegistry } from '../../src/main.ts';
import { silentLogger } from '../../src/observability/logger.ts';

const ctx = { registry: createRegistry(), available: new Set<any>(['limits']) };
const good = `apiVersion: remediator.io/v1
kind: Playbook
metadata:
  name: good
spec:
  params:
    url: http://127.0.0.1:1/health
  triggers:
    - matchers: ['alertname="ServiceDown"', 'severity=~"critical|page"']
  steps:
    - id: hello
      action: log
      with: { message: "{{ labels.service }}" }
    - id: call
      action: http.request
      with:
        url: "{{ params.url }}"
        expectStatus: [200]
`;

const problemsOf = (text: string) => loadPlaybook('pb.yaml', text, ctx).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);

t.test('a valid playbook loads with its defaults', async (t) => {
  const { playbook, problems } = loadPlaybook('pb.yaml', good, ctx);
  t.same(problems, []);
  t.equal(playbook!.rungs.length, 1);
  t.equal(playbook!.triggers[0]!.matchers[1]!.op, '=~');
  t.equal(playbook!.rungs[0]!.steps[1]!.attemptTimeoutMs, 60_000);
});

t.test('every kind of mistake is reported at its line and column', async (t) => {
  t.match(problemsOf(good.replace('action: log', 'action: logg')), [/^12:15: unknown action "logg"/]);
  t.match(problemsOf(good.replace('expectStatus: [200]', 'expectStatus: [2000]')), [
    /^18:24: http\.request: .*expectStatus\[0\]: must be <= 599/,
  ]);
  t.match(problemsOf(good.replace('with: { message', 'with: { mesage')), [
    /^13:13: log: .*missing required property "message"/,
    /^13:23: log: .*unknown property "mesage"/,
  ]);
  t.match(problemsOf(good.replace('\'alertname="ServiceDown"\'', '\'alertname=~"("\'')), [
    /^9:18: bad matcher .*invalid regular expression/,
  ]);
  t.match(problemsOf(good.replace('{{ params.url }}', '{{ params.nope }}')), [
    /^17:14: template refers to params\.nope, which spec\.params does not declare/,
  ]);
  t.match(problemsOf(good.replace('{{ labels.service }}', '{{ steps.call.status }}')), [
    /template refers to step "call", which does not come earlier/,
  ]);
  t.match(problemsOf(good.replace('{{ labels.service }}', '{{#labels}}x{{/labels}}')), [/only \{\{ path\.to\.value \}\} tags are allowed/]);
  t.match(problemsOf(good.replace('id: call', 'id: hello')), [/step id "hello" is used twice/]);
  t.match(problemsOf(good.replace('apiVersion: remediator.io/v1', 'apiVersion: remediator.io/v2')), [
    /^1:13: apiVersion: must be "remediator.io\/v1"/,
  ]);
  t.match(problemsOf(good.replace('  steps:', '  stepz:')), [/unknown property "stepz"/]);
  t.match(problemsOf(`${good}    - id: bad\n      gate: log\n`), [/"log" is an action: use "action:"/]);
  t.match(problemsOf('apiVersion: [\n'), [/^\d+:\d+: /]);
});

t.test('a step that needs a service that is not configured makes the playbook unservable, not invalid', async (t) => {
  const needsKube = good.replace(
    'action: log\n      with: { message: "{{ labels.service }}" }',
    'action: kube.rolloutRestart\n      with: { namespace: ai-ninja, name: web }',
  );
  const r = loadPlaybook('pb.yaml', needsKube, ctx);
  t.same(r.problems, []);
  t.match(
    r.unservable.map((p) => `${p.line}:${p.column}: ${p.message}`),
    [/^\d+:\d+: "kube\.rolloutRestart" needs kube, which is not configured/],
  );
});

t.test('a reload with a broken file keeps the last good set', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-pb-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'good.yaml'), good);
  const catalog = new PlaybookCatalog(dir, ctx, silentLogger());
  t.same(await catalog.reload(), []);
  t.same(
    catalog.list().map((p) => p.name),
    ['good'],
  );
  await writeFile(join(dir, 'broken.yaml'), good.replace('name: good', 'name: other').replace('action: log', 'action: nope'));
  const problems = await catalog.reload();
  t.equal(problems.length, 1);
  t.match(problems[0]!.file, /broken\.yaml$/);
  t.same(
    catalog.list().map((p) => p.name),
    ['good'],
    'the good set stays in force',
  );
  t.equal(catalog.generation, 1);
  t.equal(catalog.match({ status: 'firing', labels: { alertname: 'ServiceDown', severity: 'page' } }).length, 1);
});

t.test('remediator lint exits non-zero with file:line:column, and 0 on good files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-lint-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'good.yaml'), good);
  await writeFile(join(dir, 'bad.yaml'), good.replace('name: good', 'name: bad').replace('action: log', 'action: logg'));
  const run = promisify(execFile);
  const bin = new URL('../../bin/remediator.js', import.meta.url).pathname;
  const bad = await run(process.execPath, [bin, 'lint', join(dir, 'bad.yaml')]).catch((e) => e);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /bad\.yaml:12:15: unknown action "logg"/);
  const ok = await run(process.execPath, [bin, 'lint', join(dir, 'good.yaml')]);
  t.match(ok.stdout, /ok: 1 playbook/);
});

t.test('the shipped editor schema is current', async (t) => {
  const { buildEditorSchema } = await import('../../src/playbooks/editor-schema.ts');
  const { readFile } = await import('node:fs/promises');
  const shipped = JSON.parse(await readFile(new URL('../../playbooks/playbook.schema.json', import.meta.url), 'utf8'));
  t.same(shipped, buildEditorSchema(createRegistry()), 'regenerate with: npm run schema');
});

t.test('kube.batchRestart: exactly one of names and selector, and a selector the API server would refuse is refused at load', async (t) => {
  const batch = (withText: string) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: batch }
spec:
  triggers: [{ matchers: ['alertname="ServiceDown"'] }]
  steps:
    - id: restart
      action: kube.batchRestart
      with: ${withText}
`;
  const all = { registry: createRegistry(), available: new Set<any>(['limits', 'kube']) };
  const problems = (w: string) => loadPlaybook('pb.yaml', batch(w), all).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
  t.same(problems('{ namespace: ai-ninja, selector: "tier=core,app in (a,b),!canary" }'), []);
  t.same(problems('{ namespace: ai-ninja, names: [a, b] }'), []);
  t.same(problems('{ namespace: ai-ninja, selector: "{{ labels.selector }}" }'), [], 'a template is checked after rendering');
  t.same(problems('{ namespace: ai-ninja, names: [a], selector: app=a }'), [
    '9:13: kube.batchRestart: spec.steps[0].with: must set exactly one of "names", "selector"',
  ]);
  t.same(problems('{ namespace: ai-ninja }'), ['9:13: kube.batchRestart: spec.steps[0].with: must set exactly one of "names", "selector"']);
  t.same(problems('{ namespace: ai-ninja, selector: "app in ()" }'), [
    "9:46: kube.batchRestart: spec.steps[0].with.selector: must be a label selector: for 'in', the values set can't be empty",
  ]);
  t.same(problems('{ namespace: ai-ninja, selector: "app==" }'), [], 'an empty value is a value, as for the API server');
  t.match(problems('{ namespace: ai-ninja, selector: "-app=x" }'), [/with\.selector: must be a label selector: invalid label key "-app"/]);
  t.match(problems('{ namespace: ai-ninja, selector: "app=a b" }'), [
    /with\.selector: must be a label selector: unable to parse requirement/,
  ]);
});

import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.ts';
import { loadPlaybook } from '../../src/playbooks/load-playbook.ts';
import { createRegistry } from '../../src/main.ts';
import { EVERY_SERVICE } from '../../src/ports/step-services.ts';

// What can be checked of the Helm chart without helm: its values against values.schema.json (values.yaml and every
// example, merged as helm does), the shipped playbooks it mounts against playbooks/, the config it renders against
// remediator's own config schema, and its templates for balanced actions and existing files.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'helm/remediator');
const schema = JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const defaults = parse(await readFile(join(CHART, 'values.yaml'), 'utf8')) as Record<string, any>;
const examples = (await readdir(join(CHART, 'examples'))).filter((f) => f.endsWith('.yaml')).sort();

type Values = Record<string, any>;
const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Helm's coalescing of user values over values.yaml: maps merge key by key, everything else (lists too) replaces. */
function coalesce(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = v === null ? undefined : coalesce(base[k], v);
  return out;
}
const errorsOf = (values: unknown) => (validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));

t.test('values.yaml and every example validate against values.schema.json', async (t) => {
  t.same(errorsOf(defaults), [], 'values.yaml');
  t.ok(examples.length >= 3);
  for (const f of examples) {
    const values = coalesce(defaults, parse(await readFile(join(CHART, 'examples', f), 'utf8')));
    t.same(errorsOf(values), [], `examples/${f}`);
  }
});

t.test('the schema refuses what would not install or would break the restricted Pod Security Standard', async (t) => {
  const bad: Array<[string, Values]> = [
    ['a root UID', { podSecurityContext: { ...defaults.podSecurityContext, runAsUser: 0 } }],
    ['runAsNonRoot false', { podSecurityContext: { ...defaults.podSecurityContext, runAsNonRoot: false } }],
    ['no seccomp profile', { podSecurityContext: { runAsNonRoot: true, runAsUser: 10001 } }],
    ['privilege escalation', { securityContext: { ...defaults.securityContext, allowPrivilegeEscalation: true } }],
    ['capabilities not dropped', { securityContext: { ...defaults.securityContext, capabilities: { drop: ['NET_RAW'] } } }],
    ['a playbook that is not shipped', { playbooks: { shipped: ['service-down', 'nope'] } }],
    ['replicas as a word', { receiver: { replicas: 'two' } }],
    ['a Prometheus URL that is not one', { prometheusUrl: 'prometheus:9090' }],
    ['a misspelt top-level key', { prometheusURL: 'http://p:9090' }],
    ['a custom playbook file name with a slash', { playbooks: { custom: { 'a/b.yaml': 'x' } } }],
  ];
  for (const [what, over] of bad) t.not(errorsOf(coalesce(defaults, over)), [], what);
});

t.test('the shipped playbooks in the chart are playbooks/ as it is, each selectable by its name', async (t) => {
  const shippedFiles = (await readdir(join(ROOT, 'playbooks'))).filter((f) => f.endsWith('.yaml')).sort();
  t.same((await readdir(join(CHART, 'files/playbooks'))).filter((f) => f.endsWith('.yaml')).sort(), shippedFiles);
  const enumNames = (schema as any).properties.playbooks.properties.shipped.items.enum as string[];
  t.same(
    [...enumNames].sort(),
    shippedFiles.map((f) => basename(f, '.yaml')),
    'the schema offers exactly the shipped names',
  );
  t.same([...(defaults.playbooks as Values).shipped].sort(), [...enumNames].sort(), 'all of them by default');
  for (const f of shippedFiles) {
    const text = await readFile(join(ROOT, 'playbooks', f), 'utf8');
    t.equal(await readFile(join(CHART, 'files/playbooks', f), 'utf8'), text, `files/playbooks/${f} is a copy of playbooks/${f}`);
    t.equal((parse(text) as Values).metadata.name, basename(f, '.yaml'), `${f}: the file is named after the playbook`);
  }
  const manifests = async (dir: string) =>
    (await readdir(dir, { recursive: true }))
      .map(String)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
  const shippedManifests = await manifests(join(ROOT, 'playbooks/manifests'));
  t.same(await manifests(join(CHART, 'files/playbooks/manifests')), shippedManifests);
  for (const m of shippedManifests)
    t.equal(
      await readFile(join(CHART, 'files/playbooks/manifests', m), 'utf8'),
      await readFile(join(ROOT, 'playbooks/manifests', m), 'utf8'),
      `manifests/${m}`,
    );
});

t.test('the config the chart renders is a valid remediator config, for values.yaml and every example', async (t) => {
  for (const f of ['(defaults)', ...examples]) {
    const values = (
      f === '(defaults)'
        ? coalesce(defaults, { prometheusUrl: 'http://prometheus:9090', existingSecret: 's' })
        : coalesce(defaults, parse(await readFile(join(CHART, 'examples', f), 'utf8')))
    ) as Values;
    // What _helpers.tpl "remediator.config" builds, then mustMergeOverwrite with .Values.config.
    const base: Values = {
      server: { host: '0.0.0.0', port: values.receiver.port, ...(values.publicUrl ? { publicUrl: values.publicUrl } : {}) },
      redis: { url: values.redis.url },
      playbooks: { dir: '/etc/remediator/playbooks', watch: true },
      kubernetes: { enabled: true, inCluster: true },
      prometheus: { url: values.prometheusUrl },
      worker: { healthPort: values.worker.healthPort },
      logging: { level: values.logLevel, pretty: false },
      ...(values.alertmanagerUrl ? { alertmanager: { url: values.alertmanagerUrl } } : {}),
    };
    const merged = coalesce(base, values.config ?? {}) as Values;
    const config = await loadConfig({ env: {}, overrides: (c) => Object.assign(c, merged) });
    t.equal(config.playbooks.dir, '/etc/remediator/playbooks', `${f}: valid`);
  }
});

t.test('custom playbooks in the examples load', async (t) => {
  for (const f of examples) {
    const values = parse(await readFile(join(CHART, 'examples', f), 'utf8')) as Values;
    for (const [file, text] of Object.entries((values.playbooks?.custom ?? {}) as Record<string, string>)) {
      const r = loadPlaybook(file, text, { registry: createRegistry(), available: EVERY_SERVICE });
      t.same(r.problems, [], `examples/${f}: ${file}`);
    }
  }
});

t.test('templates: balanced actions, only files that exist, required values guarded', async (t) => {
  const dir = join(CHART, 'templates');
  const files = (await readdir(dir)).sort();
  let all = '';
  for (const f of files) {
    const text = await readFile(join(dir, f), 'utf8');
    all += text;
    const stack: string[] = [];
    for (const m of text.matchAll(/\{\{-?\s*(\/\*[\s\S]*?\*\/|[^}]*?)\s*-?\}\}/g)) {
      const action = m[1]!;
      if (action.startsWith('/*')) continue;
      const word = /^(if|range|with|define|end|else)\b/.exec(action)?.[1];
      if (word === 'if' || word === 'range' || word === 'with' || word === 'define') stack.push(word);
      else if (word === 'end') t.ok(stack.pop(), `${f}: an {{ end }} closes something`);
    }
    t.same(stack, [], `${f}: every block is closed`);
    for (const m of text.matchAll(/\.Files\.(?:Get|Glob) "([^"]+)"/g)) {
      const path = m[1]!.replace(/\/\*.*$/, '');
      await t.resolves(
        readdir(join(CHART, path)).catch(() => readFile(join(CHART, path))),
        `${f}: ${m[1]} exists in the chart`,
      );
    }
  }
  t.match(all, /required "prometheusUrl is required/, 'an empty prometheusUrl fails the install');
  t.match(all, /required "existingSecret is required/, 'an empty existingSecret fails the install');
  t.match(
    all,
    /checksum\/config: \{\{ include \(print \$\.Template\.BasePath "\/configmap\.yaml"\) \$ \| sha256sum \}\}/,
    'a config change rolls the pods',
  );
  const chart = parse(await readFile(join(CHART, 'Chart.yaml'), 'utf8')) as Values;
  t.ok(chart.kubeVersion && chart.sources?.length > 0 && chart.appVersion, 'Chart.yaml has kubeVersion, sources and appVersion');
  t.equal(
    chart.appVersion,
    (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Values).version,
    'appVersion is the package version (the image tag by default)',
  );
});

t.test('rbac.gitopsSuspend grants in the ClusterRole what spec.gitops: suspend needs, as `remediator rbac` prints it', async (t) => {
  const { gitopsSuspendRules } = await import('../../src/kube/playbook-rbac.ts');
  const rbac = parse(await readFile(join(CHART, 'files/rbac.yaml'), 'utf8')) as Values;
  t.same(rbac.gitopsSuspend?.clusterRole, gitopsSuspendRules(), 'files/rbac.yaml carries the rules');
  t.same(
    rbac.gitopsSuspend.clusterRole.map((r: Values) => `${r.verbs.join(',')} ${r.resources.join(',')}.${r.apiGroups.join(',')}`),
    [
      'get,patch applications.argoproj.io',
      'get,patch helmreleases.helm.toolkit.fluxcd.io',
      'get,patch kustomizations.kustomize.toolkit.fluxcd.io',
    ],
  );
  const template = await readFile(join(CHART, 'templates/rbac.yaml'), 'utf8');
  t.match(
    template,
    /\{\{- if \.Values\.rbac\.gitopsSuspend \}\}\n\{\{- \$cluster = concat \$cluster \$rbac\.gitopsSuspend\.clusterRole \}\}\n\{\{- end \}\}/,
    'the template adds them to the ClusterRole when asked',
  );
  t.equal(defaults.rbac.gitopsSuspend, false, 'off by default: no shipped playbook suspends');
  t.same(errorsOf(coalesce(defaults, { rbac: { gitopsSuspend: true } })), []);
  t.not(errorsOf(coalesce(defaults, { rbac: { gitopsSuspend: 'yes' } })).length, 0);
});

import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGuardedService } from './guard-harness.ts';

// Actions whose objects are not in their parameters pass the guard layer for each object like any other write:
// - kube.restore writes to the objects earlier steps of its run changed. Here an operator takes over the ConfigMap
//   (labels it remediator.io/disabled=true) while the run holds degraded mode: the restore is refused and the
//   ConfigMap is left as the operator found it.
// - kube.apply writes the objects of its manifest: one of them taken over by an operator is not applied.
const svc = await startGuardedService({
  playbooks: {
    'degrade.yaml': `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: degrade-then-restore }
spec:
  triggers: [{ matchers: ['alertname="Overload"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - { id: degrade, action: kube.patchConfigMap, with: { namespace: ai-ninja, name: app-config, set: { DEGRADED_MODE: "true" } } }
    - { id: hold, action: wait, with: { duration: 1500ms } }
    - { id: back, action: kube.restore }
`,
    'limits.yaml': `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: apply-rate-limit }
spec:
  triggers: [{ matchers: ['alertname="Flood"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
    - { id: limits, action: kube.apply, with: { manifest: manifests/rate-limit.yaml, namespace: ai-ninja } }
`,
  },
  guards: { ineffective: { window: 0 }, storm: { targets: 100 } },
});
const sim = svc.sim;
const mode = () => sim.get('ConfigMap', 'ai-ninja', 'app-config').data.DEGRADED_MODE;
const configMapWrites = (from: number) =>
  sim.requests.slice(from).filter((q) => q.method !== 'GET' && q.path.includes('/configmaps/app-config') && (q.status ?? 0) < 300);

t.test('control: the run restores what it changed', async (t) => {
  const [runId] = await svc.fire(['phone-gateway'], '2026-05-01T08:00:00.000Z', 'ai-ninja', 'Overload');
  const run = await svc.ended(runId!);
  t.equal(run.state.steps.find((s: any) => s.id === 'back')?.status, 'succeeded', 'kube.restore ran');
  t.equal(mode(), 'false', 'degraded mode is off again');
});

t.test('an object taken over meanwhile is not restored: the write is refused with out_of_scope', async (t) => {
  const [runId] = await svc.fire(['phone-gateway'], '2026-05-01T08:10:00.000Z', 'ai-ninja', 'Overload');
  await svc.waitForRun(runId!, (r) => r.state?.steps?.some((s: any) => s.id === 'degrade' && s.status === 'succeeded'), 10_000);
  t.equal(mode(), 'true', 'the run switched degraded mode on');
  const cm = sim.get('ConfigMap', 'ai-ninja', 'app-config');
  sim.put({ ...cm, metadata: { ...cm.metadata, labels: { ...cm.metadata.labels, 'remediator.io/disabled': 'true' } } });
  const from = sim.requests.length;
  const run = await svc.ended(runId!);
  t.equal(run.status, 'skipped', 'the run ended skipped, its restore not run');
  t.not(run.state.steps.find((s: any) => s.id === 'back')?.status, 'succeeded', 'the restore step did not succeed');
  t.match(
    run.decisions.find((d: any) => d.reason === 'out_of_scope')?.message,
    /remediator\.io\/disabled=true/,
    'refused with its reason, recorded on the run',
  );
  await sleep(200);
  t.same(configMapWrites(from), [], 'nothing was written to the ConfigMap after the operator took it over');
  t.equal(mode(), 'true', 'degraded mode stays as the operator found it');
});

t.test('kube.apply: each object of the manifest is admitted; one an operator took over is not applied', async (t) => {
  await mkdir(join(svc.playbookDir, 'manifests'), { recursive: true });
  await writeFile(
    join(svc.playbookDir, 'manifests', 'rate-limit.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: rate-limit }\ndata: { RPS: "50" }\n',
  );
  const first = await svc.ended((await svc.fire(['realtime-processor'], '2026-05-01T09:00:00.000Z', 'ai-ninja', 'Flood'))[0]!);
  t.equal(first.state.steps.find((s: any) => s.id === 'limits')?.status, 'succeeded', 'control: the manifest is applied');
  t.equal(sim.get('ConfigMap', 'ai-ninja', 'rate-limit').data.RPS, '50');

  const cm = sim.get('ConfigMap', 'ai-ninja', 'rate-limit');
  sim.put({ ...cm, metadata: { ...cm.metadata, labels: { 'remediator.io/disabled': 'true' } }, data: { RPS: '10' } });
  const from = sim.requests.length;
  const second = await svc.ended((await svc.fire(['realtime-processor'], '2026-05-01T09:10:00.000Z', 'ai-ninja', 'Flood'))[0]!);
  t.equal(second.status, 'skipped');
  t.match(
    second.decisions.find((d: any) => d.reason === 'out_of_scope')?.message,
    /ConfigMap ai-ninja\/rate-limit .*remediator\.io\/disabled=true/,
    'refused naming the object inside the manifest',
  );
  t.same(
    sim.requests.slice(from).filter((q) => q.method !== 'GET' && q.path.includes('/configmaps/rate-limit')),
    [],
    'nothing was sent for it',
  );
  t.equal(sim.get('ConfigMap', 'ai-ninja', 'rate-limit').data.RPS, '10', "the operator's value stays");
});

import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGuardedService } from './guard-harness.ts';

// kube.restore writes to the objects earlier steps of its run changed; those writes pass the guard layer like any
// other. Here an operator takes over the ConfigMap (labels it remediator.io/disabled=true) while the run holds
// degraded mode: the restore is refused and the ConfigMap is left as the operator found it.
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
  },
  guards: { ineffective: { window: 0 }, storm: { targets: 100 } },
});
const sim = svc.sim;
const mode = () => sim.get('ConfigMap', 'ai-ninja', 'app-config').data.DEGRADED_MODE;
const configMapWrites = (from: number) => sim.requests.slice(from).filter((q) => q.method !== 'GET' && q.path.includes('/configmaps/app-config') && (q.status ?? 0) < 300);

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
  t.match(run.decisions.find((d: any) => d.reason === 'out_of_scope')?.message, /remediator\.io\/disabled=true/, 'refused with its reason, recorded on the run');
  await sleep(200);
  t.same(configMapWrites(from), [], 'nothing was written to the ConfigMap after the operator took it over');
  t.equal(mode(), 'true', 'degraded mode stays as the operator found it');
});

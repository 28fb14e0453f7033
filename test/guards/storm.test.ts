import t from 'tap';
import { startGuardedService } from './guard-harness.ts';
import { addDeployment } from '../../src/sim/index.ts';

const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata:
  name: restart
spec:
  triggers:
    - matchers: ['alertname="ServiceDown"']
  target:
    namespace: "{{ labels.namespace }}"
    kind: Deployment
    name: "{{ labels.deployment }}"
  steps:
    - id: restart
      action: kube.rolloutRestart
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
`;

const svc = await startGuardedService({ playbooks: { 'restart.yaml': playbook } });
const names = Array.from({ length: 20 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
for (const name of names) addDeployment(svc.sim, { namespace: 'ai-ninja', name, image: `ai-ninja/${name}:1`, replicas: 1 });
await svc.sim.settle();
const writes = () => names.reduce((n, d) => n + svc.writesTo(d).length, 0);

t.test('20 targets failing at once trip the storm breaker: 5 fixed, one page, the rest skipped', async (t) => {
  const ids = await svc.fire(names, '2026-05-01T08:00:00.000Z');
  const runs = await Promise.all(ids.map((id) => svc.ended(id)));
  const by = (s: string) => runs.filter((r) => r.status === s);
  t.equal(by('completed').length, 5, 'the first 5 distinct targets were remediated');
  t.equal(by('escalated').length, 1, 'the 6th tripped the breaker and paged');
  t.equal(by('skipped').length, 14, 'the rest did not act');
  t.ok(
    [...by('escalated'), ...by('skipped')].every((r) => r.decisions.some((d: any) => d.reason === 'storm_paused')),
    'each refusal is recorded as storm_paused',
  );
  t.same(
    new Set(runs.filter((r) => r.decisions.some((d: any) => d.reason === 'escalated')).map((r) => r.id)).size,
    1,
    'one run carries the escalation',
  );
  t.equal(writes(), 5, 'only 5 deployments were written');

  const pauses = await svc.api('GET', '/v1/pause');
  t.equal(pauses.status, 200);
  t.match(pauses.body.pauses, [{ scope: 'global', code: 'storm_paused', by: 'storm-breaker', reason: /more than 5 distinct targets/ }]);
});

t.test('while paused, new alerts are skipped before acting, and a manual run still works', async (t) => {
  const before = writes();
  const [id] = await svc.fire(['svc-19'], '2026-05-01T08:05:00.000Z');
  const auto = await svc.ended(id!);
  t.equal(auto.status, 'skipped');
  t.match(auto.decisions.find((d: any) => d.reason === 'storm_paused')?.message, /all automatic mutations are paused/);
  t.equal(writes(), before, 'nothing written');

  const manual = await svc.api('POST', '/v1/playbooks/restart/runs', {
    reason: 'on-call checked the node, restart svc-19',
    labels: { namespace: 'ai-ninja', deployment: 'svc-19' },
  });
  t.equal(manual.status, 202);
  t.equal((await svc.ended(manual.body.id)).status, 'completed', 'the operator can still act');
  t.equal(svc.writesTo('svc-19').length, 1);
});

t.test('an operator lifts the storm pause (recorded) and automation resumes', async (t) => {
  const lifted = await svc.api('DELETE', '/v1/pause', { scope: 'global', reason: 'node pool replaced' });
  t.equal(lifted.status, 200);
  t.equal(lifted.body.lifted.code, 'storm_paused');
  const list = await svc.api('GET', '/v1/pause');
  t.same(list.body.pauses, []);
  t.match(list.body.history[0], { event: 'lifted', by: 'alice', reason: 'node pool replaced', pause: { code: 'storm_paused' } });
  const [id] = await svc.fire(['svc-18'], '2026-05-01T08:10:00.000Z');
  t.equal((await svc.ended(id!)).status, 'completed');
  t.equal(svc.writesTo('svc-18').length, 1);
});

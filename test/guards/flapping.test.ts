import t from 'tap';
import { startGuardedService, OffsetClock } from './guard-harness.ts';

// A flapping ServiceDown: the same series fires 100 times in one hour (a new startsAt each time, so each firing is a
// new episode and a new run). The engine's clock is compressed: each firing moves it 36 s; nothing in the playbook
// sleeps, so real time only passes for the work itself.
const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata:
  name: service-down
spec:
  triggers:
    - matchers: ['alertname="ServiceDown"']
  target:
    namespace: "{{ labels.namespace }}"
    kind: Deployment
    name: "{{ labels.deployment }}"
  rungs:
    - name: restart
      steps:
        - id: restart
          action: kube.rolloutRestart
          with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
    - name: scale-up
      steps:
        - id: scale
          action: kube.scale
          with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}", replicas: 3 }
`;

const clock = new OffsetClock();
const svc = await startGuardedService({ playbooks: { 'sd.yaml': playbook }, clock });

t.test('100 firings in an hour: at most the budget of mutating runs, one page, every other run skipped with its reason', async (t) => {
  const base = Date.parse('2026-05-01T08:00:00Z');
  const runs: any[] = [];
  for (let i = 0; i < 100; i++) {
    clock.offset = i * 36_000;
    const [id] = await svc.fire(['phone-gateway'], new Date(base + i * 36_000).toISOString());
    runs.push(await svc.ended(id!));
  }
  const acted = runs.filter((r) => r.state.steps.some((s: any) => s.status === 'succeeded'));
  t.equal(acted.length, 3, 'three runs acted: the budget is 3 per hour');
  t.same(
    acted.map((r) => r.state.steps.map((s: any) => s.id)),
    [['restart'], ['scale'], ['restart']],
    'restart, then (it did not hold) the next rung, then restart again once the first fix is forgotten',
  );
  t.ok(svc.writesTo('phone-gateway').length <= 3, `at most 3 writes to the deployment (${svc.writesTo('phone-gateway').length})`);

  const escalated = runs.filter((r) => r.status === 'escalated');
  t.equal(escalated.length, 1, 'exactly one run handed over to a human');
  const escalations = runs.flatMap((r) => r.decisions.filter((d: any) => d.reason === 'escalated').map(() => r.id));
  t.same([...new Set(escalations)], [escalated[0].id], 'every escalated decision belongs to that one run');
  t.ok(
    escalated[0].decisions.some((d: any) => d.reason === 'ineffective' && /no higher rung/.test(d.message)),
    'it escalated because the fix did not hold and no rung was left',
  );

  const skipped = runs.filter((r) => r.status === 'skipped');
  t.equal(skipped.length, 100 - 3 - 1, 'every other run ended skipped');
  const reasons = new Set(
    skipped.flatMap((r) => r.decisions.map((d: any) => d.reason)).filter((x: string) => ['ineffective', 'budget_exhausted'].includes(x)),
  );
  t.same([...reasons].sort(), ['budget_exhausted', 'ineffective'], 'each skip carries its reason code');
  t.ok(skipped.every((r) => r.decisions.some((d: any) => d.reason === 'ineffective' || d.reason === 'budget_exhausted')));
  t.ok(
    runs[1].decisions.some((d: any) => d.reason === 'ineffective' && /starting at rung "scale-up"/.test(d.message)),
    'the second run was moved up a rung with a note',
  );
});

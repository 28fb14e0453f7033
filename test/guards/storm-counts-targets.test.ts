import t from 'tap';
import { startGuardedService } from './guard-harness.ts';
import { addDeployment } from '../../src/sim/index.ts';

// A P0 ladder touches many objects for one service in trouble (ConfigMap, backups, collectors…). The storm breaker
// is about many services needing fixes at once (the runbook's mode B), so it counts run targets, not objects.
const helpers = ['aux-a', 'aux-b', 'aux-c', 'aux-d', 'aux-e', 'aux-f'];
const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata:
  name: wide
spec:
  triggers:
    - matchers: ['alertname="ServiceDown"']
  target:
    namespace: "{{ labels.namespace }}"
    kind: Deployment
    name: "{{ labels.deployment }}"
  steps:
${helpers
  .map(
    (h) => `    - id: restart-${h}
      action: kube.rolloutRestart
      with: { namespace: "{{ labels.namespace }}", name: ${h} }`,
  )
  .join('\n')}
`;

const svc = await startGuardedService({ playbooks: { 'wide.yaml': playbook } });
for (const name of [...helpers, 'svc-1', 'svc-2'])
  addDeployment(svc.sim, { namespace: 'ai-ninja', name, image: `ai-ninja/${name}:1`, replicas: 1 });
await svc.sim.settle();

t.test('one run that changes six objects for one target does not trip the breaker (threshold: more than 5 targets)', async (t) => {
  const [id] = await svc.fire(['svc-1'], '2026-05-01T09:00:00.000Z');
  const run = await svc.ended(id!);
  t.equal(run.status, 'completed', JSON.stringify(run.decisions));
  t.notOk(
    run.decisions.some((d: any) => d.reason === 'storm_paused'),
    'no storm decision',
  );
  t.equal(
    helpers.reduce((n, h) => n + svc.writesTo(h).length, 0),
    6,
    'all six objects were changed',
  );
  t.same((await svc.api('GET', '/v1/pause')).body.pauses, [], 'no fleet-wide pause');
});

t.test('a second target running the same ladder is still only the second target counted', async (t) => {
  await new Promise((r) => setTimeout(r, 1100)); // kubectl refuses a second rollout restart within the same second
  const [id] = await svc.fire(['svc-2'], '2026-05-01T09:01:00.000Z');
  const run = await svc.ended(id!);
  t.equal(run.status, 'completed', JSON.stringify(run.decisions));
  t.same((await svc.api('GET', '/v1/pause')).body.pauses, []);
});

import t from 'tap';
import { startGuardedService } from './guard-harness.ts';

// What the API server sees of one guarded restart, from the simulated cluster's request log: the guard's scope
// check (labels, GitOps markers) and the action share one read of the Deployment.
const playbook = (name: string, alertname: string, first = '') => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  triggers: [{ matchers: ['alertname="${alertname}"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  steps:
${first}    - id: restart
      action: kube.rolloutRestart
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
    - id: rollout
      gate: kube.rolloutStatus
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
      interval: 50ms
      timeout: 30s
`;

const svc = await startGuardedService({
  playbooks: {
    'restart.yaml': playbook('restart', 'ServiceDown'),
    'later.yaml': playbook('restart-later', 'LaterDown', '    - id: note\n      action: log\n      with: { message: restarting }\n'),
    'held.yaml': playbook('restart-held', 'HeldDown', '    - id: hold\n      action: wait\n      with: { duration: 1s }\n'),
  },
  guards: { ineffective: { window: 0 }, storm: { targets: 100 } },
});
await svc.sim.settle();
let minute = 0;
const startsAt = () => new Date(Date.parse('2026-05-01T08:00:00Z') + ++minute * 60_000).toISOString();

/** `GET`, `PATCH`, … of the Deployment object itself (not its pods, ReplicaSets or Events), from `from` on. */
const deploymentCalls = (deployment: string, from: number) =>
  svc.sim.requests
    .slice(from)
    .filter((r) => r.path === `/apis/apps/v1/namespaces/ai-ninja/deployments/${deployment}`)
    .map((r) => r.method);

for (const [title, alertname, deployment] of [
  ["a restart that is the run's first step", 'ServiceDown', 'phone-gateway'],
  ['a restart after another step', 'LaterDown', 'realtime-processor'],
] as const) {
  t.test(`${title}: one GET and one PATCH of the Deployment, then the rollout polls`, async (t) => {
    const from = svc.sim.requests.length;
    const run = await svc.ended((await svc.fire([deployment], startsAt(), 'ai-ninja', alertname))[0]!);
    t.equal(run.status, 'succeeded', 'restarted and rolled out');
    const calls = deploymentCalls(deployment, from);
    const patch = calls.indexOf('PATCH');
    const before = alertname === 'LaterDown' ? calls.slice(1, patch) : calls.slice(0, patch);
    t.same(before, ['GET'], `the restart step reads the Deployment once before its PATCH (all calls: ${calls.join(' ')})`);
    t.same(
      calls.filter((m) => m === 'PATCH'),
      ['PATCH'],
      'one PATCH',
    );
    t.ok(calls.slice(patch + 1).length >= 1 && calls.slice(patch + 1).every((m) => m === 'GET'), "then only the rollout gate's polls");
  });
}

t.test('the guard decides on the object as it is when the step runs: an opt-out label set after the run started is seen', async (t) => {
  const [id] = await svc.fire(['conversation-engine'], startsAt(), 'ai-ninja', 'HeldDown');
  // The run checked the Deployment when it started and now waits in its `hold` step; the label appears meanwhile.
  await svc.waitForRun(id!, (r) => r.state?.steps?.some((s: any) => s.id === 'hold' && s.status === 'pending'));
  const d = svc.sim.get('Deployment', 'ai-ninja', 'conversation-engine');
  svc.sim.put({ ...d, metadata: { ...d.metadata, labels: { ...d.metadata.labels, 'remediator.io/disabled': 'true' } } });
  const run = await svc.ended(id!);
  t.equal(run.status, 'skipped');
  t.match(run.decisions.find((x: any) => x.reason === 'out_of_scope')?.message, /labelled remediator\.io\/disabled=true/);
  t.same(svc.writesTo('conversation-engine'), [], 'never restarted');
});

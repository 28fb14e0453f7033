import t from 'tap';
import { addDeployment, startKubeSim } from '../../src/sim/index.ts';
import { VirtualClock } from '../../src/virtual-time/virtual-clock.ts';

// A sim on a virtual clock (remediator test): a hanging rollout reaches ProgressDeadlineExceeded when the clock has
// moved past its progressDeadlineSeconds, not after that much real time, and `busy` says while pods are on their way.
t.test('the progress deadline is measured on the injected clock', async (t) => {
  const clock = new VirtualClock();
  const sim = await startKubeSim({ podReadyDelayMs: 30, clock });
  t.teardown(() => sim.close());
  const progressing = () => sim.get('Deployment', 'default', 'stuck').status?.conditions?.find((c: any) => c.type === 'Progressing');

  addDeployment(sim, { namespace: 'default', name: 'stuck', image: 'stuck:1', replicas: 2 });
  t.ok(sim.busy, 'busy while the first pods are becoming Ready');
  await sim.settle();
  t.notOk(sim.busy, 'not busy once they are');
  sim.faults.failRollouts('default', 'stuck');
  const d = sim.get('Deployment', 'default', 'stuck');
  sim.put({ ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { containers: [{ name: 'stuck', image: 'stuck:2' }] } } } });
  await sim.settle();
  t.equal(d.spec.progressDeadlineSeconds, 600, 'the default deadline');

  clock.advanceTo(clock.now() + 599_000);
  sim.timeMoved();
  await sim.settle();
  t.not(progressing()?.reason, 'ProgressDeadlineExceeded', '599 s of virtual time: still progressing');

  clock.advanceTo(clock.now() + 2_000);
  sim.timeMoved();
  await sim.settle();
  t.match(progressing(), { status: 'False', reason: 'ProgressDeadlineExceeded' }, '601 s: the deadline is exceeded at once');

  // As the deployment controller's DeploymentTimedOut: a timed-out rollout stays timed out when its deadline is
  // raised, until it makes progress again (kubectl rollout status keeps reporting the failure).
  const timedOut = sim.get('Deployment', 'default', 'stuck');
  sim.put({ ...timedOut, spec: { ...timedOut.spec, progressDeadlineSeconds: 3600 } });
  await sim.settle();
  const raised = sim.get('Deployment', 'default', 'stuck');
  t.equal(raised.status.observedGeneration, raised.metadata.generation, 'the raised deadline was observed');
  t.match(progressing(), { status: 'False', reason: 'ProgressDeadlineExceeded' }, 'and the rollout is still timed out');

  // A new rollout is progress: the condition follows it.
  sim.faults.clear();
  sim.put({
    ...raised,
    spec: { ...raised.spec, template: { ...raised.spec.template, spec: { containers: [{ name: 'stuck', image: 'stuck:3' }] } } },
  });
  await sim.settle();
  t.match(progressing(), { status: 'True', reason: 'NewReplicaSetAvailable' }, 'the next rollout completes');
});

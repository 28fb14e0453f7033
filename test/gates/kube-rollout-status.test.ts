import t from 'tap';
import { kubeRolloutRestartAction as restart } from '../../src/actions/kube-rollout-restart.ts';
import { kubeRolloutStatusGate as gate } from '../../src/gates/kube-rollout-status.ts';
import type { Observation } from '../../src/engine/step-definition.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { checkParams, runAction, stepContext, type StepContextOptions } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';

const { sim, kube } = await simCluster({ podReadyDelayMs: 100 });
const services = { kube };
const ns = 'default';

/** Polls like the engine: state carried over, every `intervalMs`, until `until` or `timeoutMs`. */
async function poll(
  params: { namespace: string; name: string },
  o: StepContextOptions,
  until: (x: Observation) => boolean,
  timeoutMs = 8_000,
): Promise<Observation[]> {
  const seen: Observation[] = [];
  const deadline = Date.now() + timeoutMs;
  let state: unknown;
  for (;;) {
    const obs = await gate.check(stepContext(checkParams(gate, params), { ...o, state }));
    seen.push(obs);
    state = obs.state;
    if (until(obs) || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test("passes once the run's restart rolled out, with kubectl's messages on the way", async (t) => {
  addDeployment(sim, { namespace: ns, name: 'web', image: 'nginx:1', replicas: 2 });
  await sim.settle();
  // The restart's new pods become Ready only after the gate's first look, however slow the machine: otherwise the
  // rollout can be over (100 ms) before the first poll's round trip and there is no waiting to see.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const previous = sim.hooks.onPodStarted;
  sim.hooks.onPodStarted = async (pod, deployment) => {
    await previous?.(pod, deployment);
    if (deployment?.metadata?.name === 'web') await held;
  };
  t.teardown(() => {
    sim.hooks.onPodStarted = previous;
    release();
  });
  const r = await runAction(restart, { namespace: ns, name: 'web' }, { services, run: { id: 'run-1' }, step: { id: 'restart' } });
  const outputs = { restart: (r as { output: unknown }).output };
  const seen = await poll({ namespace: ns, name: 'web' }, { services, outputs }, (o) => {
    release();
    return o.verdict !== 'fail';
  });
  const last = seen.at(-1)!;
  t.equal(last.verdict, 'pass');
  t.equal(last.summary, 'deployment "web" successfully rolled out');
  t.match(last.state, { revision: 2, generation: 2 }, 'pinned to the revision the restart created');
  t.ok(seen.length > 1, 'it was not done at once');
  t.ok(
    seen
      .slice(0, -1)
      .every(
        (o) =>
          o.verdict === 'fail' && /^Waiting for deployment (spec update to be observed\.\.\.|"web" rollout to finish: .*)$/.test(o.summary),
      ),
    "waiting messages are kubectl's",
  );
});

t.test("ProgressDeadlineExceeded is fatal, with kubectl's message", async (t) => {
  addDeployment(sim, { namespace: ns, name: 'stuck', image: 'nginx:1', replicas: 1, progressDeadlineSeconds: 1 });
  await sim.settle();
  sim.faults.failRollouts(ns, 'stuck');
  const r = await runAction(restart, { namespace: ns, name: 'stuck' }, { services, run: { id: 'run-2' }, step: { id: 'restart' } });
  const seen = await poll(
    { namespace: ns, name: 'stuck' },
    { services, outputs: { restart: (r as { output: unknown }).output } },
    (o) => o.verdict !== 'fail',
  );
  t.equal(seen.at(-1)!.verdict, 'fatal');
  t.equal(seen.at(-1)!.summary, 'deployment "stuck" exceeded its progress deadline');
});

t.test("a rollout that does not finish keeps the gate at fail (the engine's timeout ends it)", async (t) => {
  sim.faults.crashImage('broken:1', 'CrashLoopBackOff');
  addDeployment(sim, { namespace: ns, name: 'slow', image: 'nginx:1', replicas: 1 });
  await sim.settle();
  const d = sim.get('Deployment', ns, 'slow');
  d.spec.template.spec.containers[0].image = 'broken:1';
  sim.put(d);
  const seen = await poll({ namespace: ns, name: 'slow' }, { services }, () => false, 700);
  t.ok(seen.length >= 5);
  t.ok(
    seen.every((o) => o.verdict === 'fail'),
    'never pass, never fatal before the deadline',
  );
  t.match(seen.at(-1)!.summary, /^Waiting for deployment "slow" rollout to finish/);
});

t.test("someone else's rollout after the pin is fatal (desired revision differs)", async (t) => {
  addDeployment(sim, { namespace: ns, name: 'race', image: 'nginx:1', replicas: 1 });
  await sim.settle();
  const first = await gate.check(stepContext(checkParams(gate, { namespace: ns, name: 'race' }), { services }));
  t.match(first, { verdict: 'pass', state: { revision: 1 } });
  const d = sim.get('Deployment', ns, 'race');
  d.spec.template.spec.containers[0].image = 'nginx:2';
  sim.put(d);
  await sim.settle();
  const next = await gate.check(stepContext(checkParams(gate, { namespace: ns, name: 'race' }), { services, state: first.state }));
  t.match(next, { verdict: 'fatal', summary: 'desired revision (1) is different from the running revision (2)' });
});

t.test('a missing Deployment is fatal; an unreachable API server is a fail', async (t) => {
  t.match(await gate.check(stepContext(checkParams(gate, { namespace: ns, name: 'ghost' }), { services })), { verdict: 'fatal' });
  sim.faults.injectErrors({ status: 500, count: 1, match: { pathIncludes: '/deployments/race' } });
  t.match(await gate.check(stepContext(checkParams(gate, { namespace: ns, name: 'race' }), { services })), { verdict: 'fail' });
});

t.test("StatefulSet and DaemonSet: kubectl's viewers after our restart", async (t) => {
  const tpl = (app: string) => ({
    selector: { matchLabels: { app } },
    template: { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: `${app}:1` }] } },
  });
  sim.put({ kind: 'StatefulSet', metadata: { namespace: ns, name: 'db' }, spec: { replicas: 2, serviceName: 'db', ...tpl('db') } });
  sim.put({ kind: 'DaemonSet', metadata: { namespace: ns, name: 'agent' }, spec: tpl('agent') });
  await sim.settle();
  for (const [kind, done] of [
    ['StatefulSet', /^partitioned roll out complete: 2 new pods have been updated\.\.\.$/], // the server defaults rollingUpdate.partition to 0
    ['DaemonSet', /^daemon set "agent" successfully rolled out$/],
  ] as const) {
    const name = kind === 'StatefulSet' ? 'db' : 'agent';
    const r = await runAction(restart, { namespace: ns, name, kind }, { services, run: { id: `run-${name}` }, step: { id: 'restart' } });
    const seen = await poll(
      { namespace: ns, name, kind } as { namespace: string; name: string },
      { services, outputs: { restart: (r as { output: unknown }).output } },
      (o) => o.verdict !== 'fail',
    );
    t.equal(seen.at(-1)!.verdict, 'pass', kind);
    t.match(seen.at(-1)!.summary, done);
  }
});

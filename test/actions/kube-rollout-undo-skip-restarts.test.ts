import t from 'tap';
import { kubeRolloutUndoAction as undo } from '../../src/actions/kube-rollout-undo.ts';
import { kubeRolloutRestartAction as restart } from '../../src/actions/kube-rollout-restart.ts';
import { addDeployment, type KubeSim } from '../../src/sim/index.ts';
import { runAction } from '../support/step-context.ts';
import { simCluster } from '../kube/sim-cluster.ts';
import type { ClientNodeCluster } from '../../src/kube/client-node-cluster.ts';

// The service-down ladder restarts first and rolls back second. A restart is a new revision, so a plain undo
// (kubectl's) after it only takes the restart back and keeps the broken release; skipRestarts reaches the release
// before it.
const ns = 'default';

async function deployThenRestart(sim: KubeSim, kube: ClientNodeCluster, name: string, images: string[]): Promise<void> {
  addDeployment(sim, { namespace: ns, name, image: images[0]!, replicas: 1 });
  await sim.settle();
  for (const image of images.slice(1)) {
    const d = sim.get('Deployment', ns, name);
    d.spec.template.spec.containers[0].image = image;
    sim.put(d);
    await sim.settle();
  }
  const r = await runAction(restart, { namespace: ns, name }, { services: { kube }, run: { id: `run-${name}` }, step: { id: 'restart' } });
  t.equal(r.status, 'ok', 'restarted');
  await sim.settle();
}

const image = (sim: KubeSim, name: string) => sim.get('Deployment', ns, name).spec.template.spec.containers[0].image;

t.test('after a restart of a bad release, skipRestarts rolls back to the release before it; plain undo keeps the bad image', async (t) => {
  const { sim, kube } = await simCluster();
  await deployThenRestart(sim, kube, 'plain', ['app:1.0', 'app:1.1-bad']);
  const plain = await runAction(
    undo,
    { namespace: ns, name: 'plain' },
    { services: { kube }, run: { id: 'run-plain' }, step: { id: 'undo' } },
  );
  t.match(plain, { status: 'ok', output: { revision: 2 } });
  t.equal(image(sim, 'plain'), 'app:1.1-bad', 'kubectl semantics: the undo only took the restart back');

  await deployThenRestart(sim, kube, 'skip', ['app:1.0', 'app:1.1-bad']);
  const skip = await runAction(
    undo,
    { namespace: ns, name: 'skip', skipRestarts: true },
    { services: { kube }, run: { id: 'run-skip' }, step: { id: 'undo' } },
  );
  t.match(skip, { status: 'ok', output: { revision: 1 }, summary: 'rolled back deployment skip to revision 1' });
  t.equal(image(sim, 'skip'), 'app:1.0', 'the previous release runs again');
  t.notOk(
    sim.get('Deployment', ns, 'skip').spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'],
    'revision 1 never had a restart annotation',
  );
});

t.test('skipRestarts refuses when the history holds only restarts of the current release', async (t) => {
  const { sim, kube } = await simCluster();
  await deployThenRestart(sim, kube, 'only', ['app:1.0']);
  const writesBefore = sim.requests.filter((q) => q.method === 'PATCH').length;
  await t.rejects(
    runAction(
      undo,
      { namespace: ns, name: 'only', skipRestarts: true },
      { services: { kube }, run: { id: 'run-only' }, step: { id: 'undo' } },
    ),
    { code: 'REM_ERR_KUBE_PRECONDITION', message: /no earlier release/ },
  );
  t.equal(sim.requests.filter((q) => q.method === 'PATCH').length, writesBefore, 'nothing written');
  t.equal(image(sim, 'only'), 'app:1.0');
});

t.test('skipRestarts passes over several restarts to the last different release', async (t) => {
  const { sim, kube } = await simCluster();
  await deployThenRestart(sim, kube, 'many', ['app:1.0', 'app:2.0']);
  // A second restart one second later (the restart annotation has second precision).
  await new Promise((r) => setTimeout(r, 1100));
  t.equal(
    (await runAction(restart, { namespace: ns, name: 'many' }, { services: { kube }, run: { id: 'run-many-2' }, step: { id: 'restart' } }))
      .status,
    'ok',
  );
  await sim.settle();
  const r = await runAction(
    undo,
    { namespace: ns, name: 'many', skipRestarts: true },
    { services: { kube }, run: { id: 'run-many' }, step: { id: 'undo' } },
  );
  t.match(r, { status: 'ok', output: { revision: 1 } });
  t.equal(image(sim, 'many'), 'app:1.0');
});

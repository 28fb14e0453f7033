import t from 'tap';
import { startGuardedService } from '../guards/guard-harness.ts';
import { APPROVER_TOKEN } from '../support/harness.ts';

/**
 * POST /v1/runs/:id/revert on a real remediator (real Redis, kube-sim through client-node): a finished run's env,
 * resources, ConfigMap keys, Service selector and replicas go back; an object someone changed since is refused and
 * named; the revert is a run of its own, recorded with the person and the reason, and guarded.
 */
const ns = 'ai-ninja';
const changer = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: change-things }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  target: { namespace: ${ns}, kind: Deployment, name: phone-gateway }
  steps:
    - id: env
      action: kube.setEnv
      with: { namespace: ${ns}, name: phone-gateway, env: { LOG_LEVEL: debug } }
    - id: res
      action: kube.setResources
      with: { namespace: ${ns}, name: phone-gateway, container: phone-gateway, limits: { cpu: "1500m" } }
    - id: cm
      action: kube.patchConfigMap
      with: { namespace: ${ns}, name: app-config, set: { DEGRADED_MODE: "true" } }
    - id: sel
      action: kube.switchServiceSelector
      with: { namespace: ${ns}, name: phone-gateway, selector: { app: phone-gateway-backup } }
    - id: scale
      action: kube.scale
      with: { namespace: ${ns}, name: phone-gateway, replicas: 3 }
`;
const scaler = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: scale-backup }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  target: { namespace: ${ns}, kind: Deployment, name: phone-gateway-backup }
  steps:
    - id: scale
      action: kube.scale
      with: { namespace: ${ns}, name: phone-gateway-backup, replicas: 1 }
`;
const marker = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: mark }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  target: { namespace: ${ns}, kind: Deployment, name: phone-gateway }
  steps:
    - id: mark
      action: kube.setEnv
      with: { namespace: ${ns}, name: phone-gateway, env: { MARK: "{{ run.id }}" } }
`;
const svc = await startGuardedService({ playbooks: { 'change.yaml': changer, 'scale.yaml': scaler, 'mark.yaml': marker } });
await svc.sim.settle();

const container = () => svc.sim.get('Deployment', ns, 'phone-gateway').spec.template.spec.containers[0];
const look = () => ({
  env: container().env?.find((e: any) => e.name === 'LOG_LEVEL') ?? null,
  cpu: container().resources?.limits?.cpu ?? null,
  degraded: svc.sim.get('ConfigMap', ns, 'app-config').data.DEGRADED_MODE,
  selector: svc.sim.get('Service', ns, 'phone-gateway').spec.selector,
  replicas: svc.sim.get('Deployment', ns, 'phone-gateway').spec.replicas,
});
const original = look();

async function changeRun(playbook = 'change-things'): Promise<string> {
  const started = await svc.api('POST', `/v1/playbooks/${playbook}/runs`, { reason: 'make changes to revert' });
  t.equal(started.status, 202);
  const done = await svc.ended(started.body.id);
  t.equal(done.status, 'completed', JSON.stringify(done.state?.steps?.map((s: any) => [s.id, s.status, s.error?.message])));
  return started.body.id;
}

t.test('a finished run is reverted: plan first, then a revert run that puts back every recorded change', async (t) => {
  const runId = await changeRun();
  t.same(look(), {
    env: { name: 'LOG_LEVEL', value: 'debug' },
    cpu: '1500m',
    degraded: 'true',
    selector: { app: 'phone-gateway-backup' },
    replicas: 3,
  });

  const noReason = await svc.api('POST', `/v1/runs/${runId}/revert`, {}, APPROVER_TOKEN);
  t.equal(noReason.status, 400, 'a reason is required');
  t.match(noReason.body.message, /reason/);

  const plan = await svc.api('POST', `/v1/runs/${runId}/revert?dryRun=true`, { reason: 'load is back to normal' }, APPROVER_TOKEN);
  t.equal(plan.status, 200);
  t.equal(plan.body.checkedAgainstCluster, true);
  t.same(plan.body.plan.conflicts, []);
  const fields = plan.body.plan.targets
    .flatMap((x: any) =>
      x.revert.map((f: any) => `${x.target.kind}/${x.target.name} ${f.field}: ${JSON.stringify(f.now)} -> ${JSON.stringify(f.to)}`),
    )
    .sort();
  t.same(fields, [
    'ConfigMap/app-config data/DEGRADED_MODE: "true" -> "false"',
    'Deployment/phone-gateway env/phone-gateway/LOG_LEVEL: {"name":"LOG_LEVEL","value":"debug"} -> null',
    'Deployment/phone-gateway replicas: 3 -> 2',
    'Deployment/phone-gateway resources/phone-gateway/limits/cpu: "1500m" -> null',
    'Service/phone-gateway selector: {"app":"phone-gateway-backup"} -> {"app":"phone-gateway"}',
  ]);
  t.same(look().replicas, 3, 'a dry run changes nothing');

  const stale = await svc.api(
    'POST',
    `/v1/runs/${runId}/revert`,
    { reason: 'load is back to normal', planHash: 'f'.repeat(64) },
    APPROVER_TOKEN,
  );
  t.equal(stale.status, 409);
  t.equal(stale.body.code, 'REM_ERR_PLAN_CHANGED');

  const res = await svc.api(
    'POST',
    `/v1/runs/${runId}/revert`,
    { reason: 'load is back to normal', planHash: plan.body.planHash },
    APPROVER_TOKEN,
  );
  t.equal(res.status, 202, JSON.stringify(res.body));
  t.equal(res.body.run.trigger, 'revert');
  t.equal(res.body.run.revertOf, runId);
  t.equal(res.body.run.operator, 'bob');
  const done = await svc.ended(res.body.run.id);
  t.equal(done.status, 'completed', JSON.stringify(done.state?.steps?.map((s: any) => [s.id, s.status, s.error?.message])));
  t.same(look(), original, 'env, resources, ConfigMap key, selector and replicas are as before the run');
  t.ok(
    done.decisions.some((d: any) => d.reason === 'revert_requested' && d.by === 'bob' && /load is back to normal/.test(d.message)),
    'the revert run names who and why',
  );
  const old = await svc.api('GET', `/v1/runs/${runId}`);
  t.ok(
    old.body.decisions.some((d: any) => d.reason === 'revert_requested' && d.by === 'bob' && d.message.includes(res.body.run.id)),
    'the reverted run points at its revert',
  );

  const again = await svc.api('POST', `/v1/runs/${runId}/revert`, { reason: 'once more' }, APPROVER_TOKEN);
  t.equal(again.status, 409, 'nothing is left to revert');
  t.match(again.body.message, /already holds its earlier value/);
});

t.test('an object someone changed since is refused and named; nothing is written', async (t) => {
  const runId = await changeRun();
  // A person edits the ConfigMap key the run set, and scales the Deployment, after the run.
  const cm = svc.sim.get('ConfigMap', ns, 'app-config');
  svc.sim.put({ ...cm, data: { ...cm.data, DEGRADED_MODE: 'partial' } });
  const before = look();
  const writes = svc.writesTo('phone-gateway').length;

  const plan = await svc.api('POST', `/v1/runs/${runId}/revert?dryRun=true`, { reason: 'check first' }, APPROVER_TOKEN);
  t.equal(plan.status, 200);
  t.same(
    plan.body.plan.conflicts.map((c: any) => `${c.target.kind}/${c.target.name}`),
    ['ConfigMap/app-config'],
  );
  t.match(plan.body.plan.conflicts[0].why[0], /data\/DEGRADED_MODE is "partial"; the run left "true"/);

  const res = await svc.api('POST', `/v1/runs/${runId}/revert`, { reason: 'put it back' }, APPROVER_TOKEN);
  t.equal(res.status, 409);
  t.equal(res.body.code, 'REM_ERR_REVERT_CONFLICT');
  t.match(res.body.message, /configmap ai-ninja\/app-config|ConfigMap.*app-config/i);
  t.same(
    res.body.details.conflicts.map((c: any) => c.target),
    [`${ns}/ConfigMap/app-config`],
  );
  t.same(look(), before, 'nothing was reverted');
  t.equal(svc.writesTo('phone-gateway').length, writes);
  const old = await svc.api('GET', `/v1/runs/${runId}`);
  t.ok(
    old.body.decisions.some((d: any) => d.reason === 'revert_refused' && d.by === 'bob'),
    'the refusal is recorded on the run',
  );

  // Another remediator run changes the Deployment since (another variable): refused too.
  const other = await changeRun('mark');
  t.ok(other);
  const second = await svc.api('POST', `/v1/runs/${runId}/revert?dryRun=true`, { reason: 'check first' }, APPROVER_TOKEN);
  const dep = second.body.plan.conflicts.find((c: any) => c.target.kind === 'Deployment');
  t.ok(dep, 'the Deployment changed by a later run is a conflict');
  t.match(dep.why.join(' '), new RegExp(`remediator run ${other} changed it since`));
});

t.test('only finished runs that exist, and the safety guard still applies to the revert run', async (t) => {
  const missing = await svc.api('POST', `/v1/runs/nope/revert`, { reason: 'who' }, APPROVER_TOKEN);
  t.equal(missing.status, 404);
  t.equal(missing.body.code, 'REM_ERR_NOT_FOUND');
  const byHand = await svc.api('POST', '/v1/playbooks/remediator.revert/runs', { reason: 'revert without a plan' });
  t.equal(byHand.status, 404, 'the built-in revert playbook cannot be started by hand');
  const runId = await changeRun('scale-backup');
  // The object is opted out of automation after the run: the revert run's guard refuses it.
  const dep = svc.sim.get('Deployment', ns, 'phone-gateway-backup');
  svc.sim.put({ ...dep, metadata: { ...dep.metadata, labels: { ...dep.metadata.labels, 'remediator.io/disabled': 'true' } } });
  const res = await svc.api('POST', `/v1/runs/${runId}/revert`, { reason: 'put it back' }, APPROVER_TOKEN);
  t.equal(res.status, 202, JSON.stringify(res.body));
  const done = await svc.ended(res.body.run.id);
  t.equal(done.status, 'skipped', 'the safety guard refused an object out of scope');
  t.ok(done.decisions.some((d: any) => d.reason === 'out_of_scope'));
  t.equal(svc.sim.get('Deployment', ns, 'phone-gateway-backup').spec.replicas, 1, 'nothing was written');
});

import t from 'tap';
import { Redis } from 'ioredis';
import { startGuardedService } from './guard-harness.ts';
import { addDeployment } from '../../src/sim/index.ts';
import { Keys } from '../../src/store/keys.ts';
import { TargetLock } from '../../src/guards/target-lock.ts';

const playbook = (name: string, alertname: string, spec = '') => `apiVersion: remediator.io/v1
kind: Playbook
metadata:
  name: ${name}
spec:
  triggers:
    - matchers: ['alertname="${alertname}"']
  target:
    namespace: "{{ labels.namespace }}"
    kind: Deployment
    name: "{{ labels.deployment }}"
${spec}  steps:
    - id: restart
      action: kube.rolloutRestart
      with: { namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }
`;

const svc = await startGuardedService({
  playbooks: {
    'restart.yaml': playbook('restart', 'ServiceDown'),
    'gitops.yaml': playbook('restart-gitops', 'GitopsDown', '  gitops: allow\n'),
    'maint.yaml': playbook('night-restart', 'NightDown'),
    'once.yaml': playbook('restart-once', 'OnceDown', '  budget: { runs: 1 }\n'),
    'skip.yaml': playbook('restart-skip', 'SkipDown', '  concurrency: skip\n'),
  },
  guards: {
    ineffective: { window: 0 },
    storm: { targets: 100 },
    lock: { retryAfter: '100ms' },
    scope: { namespaces: ['ai-ninja', 'default'], excludeNamespaces: ['default'] },
    // Always open (every minute, for an hour), but only for night-restart.
    maintenance: [{ name: 'db-migration', cron: '* * * * *', duration: '1h', playbooks: ['night-restart'] }],
  },
});
const sim = svc.sim;
let minute = 0;
const startsAt = () => new Date(Date.parse('2026-05-01T08:00:00Z') + ++minute * 60_000).toISOString();
const fireOne = async (deployment: string, alertname = 'ServiceDown', namespace = 'ai-ninja') =>
  svc.ended((await svc.fire([deployment], startsAt(), namespace, alertname))[0]!);
const reasons = (run: any) => run.decisions.map((d: any) => d.reason);
const labelled = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}) => {
  const d = sim.get('Deployment', 'ai-ninja', name);
  sim.put({
    ...d,
    metadata: { ...d.metadata, labels: { ...d.metadata.labels, ...labels }, annotations: { ...d.metadata.annotations, ...annotations } },
  });
};

t.test('an object labelled remediator.io/disabled=true is never touched, not even by a manual run', async (t) => {
  addDeployment(sim, {
    namespace: 'ai-ninja',
    name: 'billing',
    image: 'billing:1',
    labels: { app: 'billing', 'remediator.io/disabled': 'true' },
  });
  const run = await fireOne('billing');
  t.equal(run.status, 'skipped');
  t.match(run.decisions.find((d: any) => d.reason === 'out_of_scope')?.message, /labelled remediator\.io\/disabled=true/);
  const manual = await svc.api('POST', '/v1/playbooks/restart/runs', {
    reason: 'try it by hand',
    labels: { namespace: 'ai-ninja', deployment: 'billing' },
  });
  t.equal((await svc.ended(manual.body.id)).status, 'skipped');
  t.same(svc.writesTo('billing'), [], 'no write ever reached the object');
});

t.test('an Argo CD-managed object is refused unless the playbook allows GitOps targets', async (t) => {
  labelled('conversation-engine', { 'argocd.argoproj.io/instance': 'ai-ninja' });
  const refused = await fireOne('conversation-engine');
  t.equal(refused.status, 'skipped');
  t.match(
    refused.decisions.find((d: any) => d.reason === 'out_of_scope')?.message,
    /managed by Argo CD \(label argocd\.argoproj\.io\/instance=ai-ninja\)/,
  );
  t.same(svc.writesTo('conversation-engine'), []);
  labelled('realtime-processor', {}, { 'argocd.argoproj.io/tracking-id': 'ai-ninja:apps/Deployment:ai-ninja/realtime-processor' });
  t.equal((await fireOne('realtime-processor')).status, 'skipped', 'the tracking-id annotation marks Argo CD ownership too');
  const allowed = await fireOne('conversation-engine', 'GitopsDown');
  t.equal(allowed.status, 'completed', 'spec.gitops: allow acts on it');
  t.equal(svc.writesTo('conversation-engine').length, 1);
});

t.test('namespace allow and deny lists', async (t) => {
  addDeployment(sim, { namespace: 'payments', name: 'api', image: 'api:1' });
  addDeployment(sim, { namespace: 'default', name: 'api', image: 'api:1' });
  const outside = await fireOne('api', 'ServiceDown', 'payments');
  t.match(outside.decisions.find((d: any) => d.reason === 'out_of_scope')?.message, /not in guards\.scope\.namespaces/);
  const denied = await fireOne('api', 'ServiceDown', 'default');
  t.match(denied.decisions.find((d: any) => d.reason === 'out_of_scope')?.message, /namespace "default" is excluded/);
  t.same([...svc.writesTo('api', 'payments'), ...svc.writesTo('api', 'default')], []);
});

t.test('a maintenance window suppresses automatic mutations; a manual run is not suppressed', async (t) => {
  const run = await fireOne('profile-analytics', 'NightDown');
  t.equal(run.status, 'skipped');
  t.match(run.decisions.find((d: any) => d.reason === 'maintenance')?.message, /maintenance window "db-migration" is open until/);
  t.same(svc.writesTo('profile-analytics'), []);
  const manual = await svc.api('POST', '/v1/playbooks/night-restart/runs', {
    reason: 'needed during the migration',
    labels: { namespace: 'ai-ninja', deployment: 'profile-analytics' },
  });
  t.equal((await svc.ended(manual.body.id)).status, 'completed');
  t.equal(svc.writesTo('profile-analytics').length, 1);
});

t.test('dry runs are checked for scope but take no lock and use no budget', async (t) => {
  for (let i = 0; i < 2; i++) {
    const dry = await svc.api('POST', '/v1/playbooks/restart-once/runs', {
      reason: 'show me the plan',
      labels: { namespace: 'ai-ninja', deployment: 'phone-gateway' },
      dryRun: true,
    });
    const run = await svc.ended(dry.body.id);
    t.equal(run.status, 'completed');
    t.equal(reasons(run).filter((r: string) => r === 'dry_run').length, 1, 'one dry_run note');
  }
  t.same(svc.writesTo('phone-gateway'), [], 'a dry run writes nothing (dryRun=All requests are not counted as writes)');
  const first = await fireOne('phone-gateway', 'OnceDown');
  t.equal(first.status, 'completed', 'the budget of 1 (spec.budget) was still there');
  const second = await fireOne('phone-gateway', 'OnceDown');
  t.equal(second.status, 'escalated');
  t.ok(reasons(second).includes('budget_exhausted'));
  const third = await fireOne('phone-gateway', 'OnceDown');
  t.equal(third.status, 'skipped', 'the page went out once; later refusals only skip');
  t.match(third.decisions.find((d: any) => d.reason === 'budget_exhausted')?.message, /a human was already paged/);
  t.equal(svc.writesTo('phone-gateway').length, 1);
});

t.test('a locked target: spec.concurrency skip ends the run, wait waits for the holder', async (t) => {
  const redis = new Redis(svc.redis!.url);
  t.teardown(() => redis.disconnect());
  const lock = new TargetLock(redis, new Keys(svc.config.redis.prefix));
  const claim = await lock.claim({
    runId: 'run-operator-hold',
    playbook: 'x',
    target: 'ai-ninja/Deployment/phone-gateway-backup',
    now: Date.now(),
    ttlMs: 60_000,
    limits: { runs: 1, windowMs: 1000, cooldownMs: 0 },
    countBudget: false,
  });
  t.equal(claim.kind, 'acquired');
  const skipped = await fireOne('phone-gateway-backup', 'SkipDown');
  t.equal(skipped.status, 'skipped');
  t.match(
    skipped.decisions.find((d: any) => d.reason === 'locked')?.message,
    /run run-operator-hold is acting on ai-ninja\/Deployment\/phone-gateway-backup/,
  );

  const [id] = await svc.fire(['phone-gateway-backup'], startsAt());
  // The `locked` decision is recorded before the run's state is saved as waiting: wait for both.
  const waiting = await svc.waitForRun(id!, (r) => r.status === 'waiting' && r.decisions.some((d: any) => d.reason === 'locked'));
  t.equal(waiting.status, 'waiting');
  t.same(svc.writesTo('phone-gateway-backup'), []);
  await lock.release('run-operator-hold');
  t.equal((await svc.ended(id!)).status, 'completed', 'acts once the holder is done');
  t.equal(svc.writesTo('phone-gateway-backup').length, 1);
});

t.test('operator pauses: set per namespace, refused runs say who and why, lifted with a reason', async (t) => {
  const noValue = await svc.api('POST', '/v1/pause', { scope: 'namespace', reason: 'freeze' });
  t.equal(noValue.status, 400);
  t.equal(noValue.body.code, 'REM_ERR_BAD_REQUEST');
  t.equal(
    (await svc.api('POST', '/v1/pause', { scope: 'global', reason: 'freeze', until: '2020-01-01T00:00:00Z' })).status,
    400,
    'until in the past',
  );
  const anon = await fetch(`${svc.url}/v1/pause`);
  t.equal(anon.status, 401, 'operator token required');

  const set = await svc.api('POST', '/v1/pause', { scope: 'namespace', value: 'ai-ninja', reason: 'release freeze' });
  t.equal(set.status, 201);
  t.match(set.body, { scope: 'namespace', value: 'ai-ninja', code: 'paused', by: 'alice', reason: 'release freeze' });
  const run = await fireOne('realtime-processor', 'GitopsDown');
  t.equal(run.status, 'skipped');
  t.match(run.decisions.find((d: any) => d.reason === 'paused')?.message, /namespace "ai-ninja" are paused .* by alice .*: release freeze/);

  t.equal((await svc.api('DELETE', '/v1/pause', { scope: 'playbook', value: 'restart', reason: 'nothing there' })).status, 404);
  const lifted = await svc.api('DELETE', '/v1/pause', { scope: 'namespace', value: 'ai-ninja', reason: 'release done' });
  t.equal(lifted.status, 200);
  t.equal((await fireOne('realtime-processor', 'GitopsDown')).status, 'completed');
  const history = (await svc.api('GET', '/v1/pause')).body.history;
  t.match(history.slice(0, 2), [
    { event: 'lifted', by: 'alice', reason: 'release done' },
    { event: 'set', reason: 'release freeze' },
  ]);
});

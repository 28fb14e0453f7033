import t from 'tap';
import { readFile } from 'node:fs/promises';
import { startTestService, serviceDownPlaybook, APPROVER_TOKEN } from '../support/harness.ts';

const approvalPlaybook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: needs-approval }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  params: { note: default }
  steps:
    - id: risky
      action: log
      with: { message: "risky {{ params.note }}" }
      approval: { timeout: 2s }
`;
// The same with a window far longer than the test: an answer must take effect at once, not when the window closes.
const longApprovalPlaybook = approvalPlaybook
  .replace('name: needs-approval', 'name: needs-long-approval')
  .replace('timeout: 2s', 'timeout: 10m');
const svc = await startTestService({
  playbooks: {
    'long-approval.yaml': longApprovalPlaybook,
    'sd.yaml': serviceDownPlaybook({ extra: `    - id: long\n      action: wait\n      with: { duration: 30s }\n` }),
    'approval.yaml': approvalPlaybook,
  },
});

t.test('playbooks are listed and shown', async (t) => {
  const list = await svc.api('GET', '/v1/playbooks');
  t.equal(list.status, 200);
  t.same(list.body.playbooks.map((p: any) => p.name).sort(), ['needs-approval', 'needs-long-approval', 'service-down-basic']);
  const one = await svc.api('GET', '/v1/playbooks/service-down-basic');
  t.same(one.body.triggers, [{ status: 'firing', matchers: ['alertname="ServiceDown"'] }]);
  t.equal(one.body.document.kind, 'Playbook');
  t.equal((await svc.api('GET', '/v1/playbooks/nope')).status, 404);
});

t.test('a manual run needs a reason, records the operator, and can be cancelled', async (t) => {
  const noReason = await svc.api('POST', '/v1/playbooks/service-down-basic/runs', { labels: {} });
  t.equal(noReason.status, 400);
  t.match(noReason.body.message, /reason/);
  const started = await svc.api('POST', '/v1/playbooks/service-down-basic/runs', {
    reason: 'phone-gateway answers slowly',
    labels: { namespace: 'ai-ninja', deployment: 'phone-gateway', service: 'phone-gateway' },
  });
  t.equal(started.status, 202);
  t.equal(started.body.trigger, 'manual');
  t.equal(started.body.operator, 'alice');
  t.same(started.body.target, { namespace: 'ai-ninja', kind: 'Deployment', name: 'phone-gateway' });
  const id = started.body.id;
  const waiting = await svc.waitForRun(id, (r) => r.state?.steps?.some((s: any) => s.id === 'long' && s.status === 'pending'));
  t.equal(waiting.status, 'waiting', 'a waiting run holds no worker slot');
  const retryActive = await svc.api('POST', `/v1/runs/${id}/retry`, { reason: 'again' });
  t.equal(retryActive.status, 409, 'an active run cannot be retried');
  const cancel = await svc.api('POST', `/v1/runs/${id}/cancel`, { reason: 'fixed by hand' });
  t.equal(cancel.status, 202);
  const done = await svc.waitForRun(id, (r) => r.status === 'cancelled', 5000);
  t.match(done.state.outcome, /cancelled by alice: fixed by hand/);
  t.ok(done.decisions.some((d: any) => d.reason === 'manual'));
  t.ok(done.decisions.some((d: any) => d.reason === 'cancelled'));

  const retry = await svc.api('POST', `/v1/runs/${id}/retry`, { reason: 'try again' });
  t.equal(retry.status, 202);
  t.equal(retry.body.retryOf, id);
  t.not(retry.body.id, id);
  await svc.api('POST', `/v1/runs/${retry.body.id}/cancel`, { reason: 'cleanup' });

  const filtered = await svc.api('GET', '/v1/runs?target=ai-ninja/phone-gateway&status=cancelled');
  t.ok(filtered.body.runs.length >= 1);
  t.ok(filtered.body.runs.every((r: any) => r.status === 'cancelled' && r.target.name === 'phone-gateway'));
  const future = await svc.api('GET', `/v1/runs?since=${new Date(Date.now() + 3_600_000).toISOString()}`);
  t.same(future.body.runs, [], 'nothing was created after the window starts');
  const counts = await svc.api('GET', '/v1/runs/counts');
  t.ok(counts.body.counts.cancelled >= 2, 'counts by status');
});

t.test('a manual run with an undeclared param is refused', async (t) => {
  const res = await svc.api('POST', '/v1/playbooks/needs-approval/runs', { reason: 'test', params: { oops: 1 } });
  t.equal(res.status, 400);
  t.match(res.body.message, /declares no param\(s\) oops/);
});

t.test('a step needing approval waits with its exact plan; an approval by someone else runs it at once, expiry escalates', async (t) => {
  const a = await svc.api('POST', '/v1/playbooks/needs-long-approval/runs', { reason: 'approve me', params: { note: 'one' } });
  const waiting = await svc.waitForRun(a.body.id, (r) => r.status === 'awaiting_approval');
  t.same(
    waiting.state.approval.plan.params,
    { message: 'risky one', level: 'info' },
    'the plan shows exactly what will run, defaults included',
  );
  const own = await svc.api('POST', `/v1/runs/${a.body.id}/approve`, { reason: 'my own plan' });
  t.equal(own.status, 403, 'alice started the run, so she cannot approve it, admin or not');
  t.equal(own.body.code, 'REM_ERR_SELF_APPROVAL');
  const ok = await svc.api('POST', `/v1/runs/${a.body.id}/approve`, { reason: 'looks right' }, APPROVER_TOKEN);
  t.equal(ok.status, 202);
  const done = await svc.waitForRun(a.body.id, (r) => r.status === 'completed', 5000);
  const refused = done.decisions.find((d: any) => d.reason === 'approval_refused');
  t.equal(refused?.by, 'alice', 'the refused approval is recorded with who tried');
  t.match(refused?.message, /alice started this run, so may not approve/);
  t.same(
    done.decisions.filter((d: any) => d.by).map((d: any) => [d.reason, d.by]),
    [
      ['manual', 'alice'],
      ['approval_refused', 'alice'],
      ['approved', 'bob'],
    ],
    'every decision a person made names them',
  );
  t.ok(done.decisions.some((d: any) => d.reason === 'approved' && !d.by && /ran the plan bob approved/.test(d.message)));

  const b = await svc.api('POST', '/v1/playbooks/needs-approval/runs', { reason: 'let it expire' });
  const expired = await svc.waitForRun(b.body.id, (r) => r.status === 'escalated', 8000);
  t.match(expired.state.outcome, /approval_expired/);

  const c = await svc.api('POST', '/v1/playbooks/needs-long-approval/runs', { reason: 'reject me' });
  await svc.waitForRun(c.body.id, (r) => r.status === 'awaiting_approval');
  t.equal(
    (await svc.api('POST', `/v1/runs/${c.body.id}/reject`, { reason: 'not now' })).body.code,
    'REM_ERR_SELF_APPROVAL',
    'nor reject it',
  );
  t.equal((await svc.api('POST', `/v1/runs/${c.body.id}/reject`, { reason: 'not now' }, APPROVER_TOKEN)).status, 202);
  const rejected = await svc.waitForRun(c.body.id, (r) => r.status === 'skipped', 5000);
  t.match(rejected.state.outcome, /rejected/);
  t.equal(rejected.state.steps[0].status, 'skipped', 'the step never ran');
});

t.test('health, readiness, metrics and the OpenAPI document', async (t) => {
  t.equal((await fetch(`${svc.url}/healthz`)).status, 200);
  const ready = (await (await fetch(`${svc.url}/readyz`)).json()) as any;
  t.equal(ready.ok, true);
  t.same(ready.checks.playbooks.detail.loaded.sort(), ['needs-approval', 'needs-long-approval', 'service-down-basic']);
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  t.match(metrics, /remediator_decisions_total\{reason="manual",playbook="service-down-basic"\} \d/);
  t.match(metrics, /remediator_queue_jobs\{state="delayed"\}/);
  t.match(metrics, /remediator_step_duration_seconds_bucket/);
  const openapi = (await (await fetch(`${svc.url}/openapi.json`)).json()) as any;
  t.ok(openapi.paths['/v1/alertmanager'].post);
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
  t.equal(openapi.info.version, version, 'the document has the package version');
  const operations = Object.values(openapi.paths).flatMap((p: any) => Object.values(p)) as any[];
  t.same(
    operations.filter((o) => !o.operationId || !o.summary || !o.tags?.length || !Object.keys(o.responses).some((c) => /^4/.test(c))),
    [],
    'every operation has an operationId, a summary, tags and a 4xx answer',
  );
  t.equal(new Set(operations.map((o) => o.operationId)).size, operations.length, 'operationIds are unique');
  t.ok(openapi.paths['/v1/runs/{id}/approve'].post);
});

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startGuardedService } from './guard-harness.ts';
import { startWebhookSink } from '../../src/dev/webhook-sink.ts';

/**
 * kube.batchRestart on a real remediator (real Redis, the real guard layer, kube-sim): a service the guard refuses
 * (here labelled remediator.io/disabled) is that service's ❌ line with the guard's reason, on the run and on the
 * page, and the batch restarts the others as its onFailure says.
 */
const ns = 'ai-ninja';
const sink = await startWebhookSink();
t.teardown(() => sink.close());
const playbook = (name: string, onFailure: string) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  triggers: [{ matchers: ['alertname="Never"'] }]
  onExhausted: { escalate: true, level: P0 }
  steps:
    - id: restart
      action: kube.batchRestart
      with: { namespace: ${ns}, names: [phone-gateway, realtime-processor, profile-analytics], onFailure: ${onFailure}, pollInterval: 100ms }
      onFailure: escalate
`;
const svc = await startGuardedService({
  playbooks: { 'go-on.yaml': playbook('batch-continue', 'continue'), 'stop.yaml': playbook('batch-stop', 'stop') },
  overrides: (c) => {
    c.escalation = {
      targets: { hook: { type: 'webhook', role: 'page', url: `${sink.url}/hook`, secret: randomBytes(16).toString('hex') } },
      delivery: { backoff: '50ms' },
    };
  },
});
await svc.sim.settle();
const d = svc.sim.get('Deployment', ns, 'realtime-processor');
svc.sim.put({ ...d, metadata: { ...d.metadata, labels: { ...d.metadata.labels, 'remediator.io/disabled': 'true' } } });

async function start(name: string): Promise<any> {
  const res = await svc.api('POST', `/v1/playbooks/${name}/runs`, { reason: 'batch refusal test' });
  t.equal(res.status, 202);
  return svc.ended(res.body.id, 30_000);
}
const refusedLine =
  /❌ realtime-processor \(out_of_scope: Deployment ai-ninja\/realtime-processor is labelled remediator\.io\/disabled=true: remediator never touches it\)/;

t.test('onFailure continue: the refused service is ❌ with the reason, the others are restarted, the page names it', async (t) => {
  const run = await start('batch-continue');
  t.equal(run.status, 'escalated');
  const step = run.state.steps.find((s: any) => s.id === 'restart');
  t.equal(step.status, 'failed');
  t.equal(step.error.code, 'REM_ERR_BATCH_FAILED');
  t.same(
    step.error.details.results.map((r: any) => [r.name, r.mark, r.outcome]),
    [
      ['phone-gateway', '✅', 'restarted'],
      ['realtime-processor', '❌', 'refused'],
      ['profile-analytics', '✅', 'restarted'],
    ],
  );
  t.match(step.error.message, refusedLine);
  t.ok(
    run.decisions.some((x: any) => x.reason === 'out_of_scope' && /realtime-processor/.test(x.message)),
    'the refusal is a decision',
  );
  t.equal(svc.writesTo('realtime-processor').length, 0, 'the refused service was not written');
  t.equal(svc.writesTo('profile-analytics').length, 1, 'the service after it was restarted');
  await sink.quiet(200, 10_000);
  const page = sink.events.find((e) => (e.body as any).playbook?.runId === run.id);
  t.ok(page, 'paged');
  t.equal((page!.body as any).status, 'escalated');
  t.match((page!.body as any).note, refusedLine, 'the page carries the ❌ line with the reason');
  t.match(JSON.stringify(page!.body), /✅ profile-analytics/);
});

t.test('onFailure stop: the refused service is ❌ with the reason, the ones after it are not touched', async (t) => {
  const before = svc.writesTo('profile-analytics').length;
  const run = await start('batch-stop');
  t.equal(run.status, 'escalated');
  const step = run.state.steps.find((s: any) => s.id === 'restart');
  t.same(
    step.error.details.results.map((r: any) => [r.name, r.outcome]),
    [
      ['phone-gateway', 'restarted'],
      ['realtime-processor', 'refused'],
      ['profile-analytics', 'skipped'],
    ],
  );
  t.equal(svc.writesTo('profile-analytics').length, before, 'profile-analytics was not restarted');
});

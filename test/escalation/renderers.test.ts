import t from 'tap';
import { renderCustomerNotice } from '../../src/escalation/render/customer-notice.ts';
import { renderOpsgenieCreate, renderOpsgenieNote } from '../../src/escalation/render/opsgenie-alert.ts';
import { PAGERDUTY_MAX_BYTES, renderPagerDutyEvent } from '../../src/escalation/render/pagerduty-event.ts';
import { renderSlackMessage } from '../../src/escalation/render/slack-message.ts';
import { renderTimelineMarkdown } from '../../src/escalation/render/timeline-markdown.ts';
import { renderWebhookEvent } from '../../src/escalation/render/webhook-event.ts';
import { serviceDownReport } from './report-fixture.ts';

t.test('PagerDuty: severity from level, rungs with ✓/✗ and why, links, no routing key', async (t) => {
  const report = serviceDownReport();
  const body = renderPagerDutyEvent(report, { action: 'trigger', note: 'restart failed' });
  t.equal(body.event_action, 'trigger');
  t.equal(body.dedup_key, `remediator-${report.episodeKey}`);
  t.notOk('routing_key' in body, 'the secret is added at send time only');
  t.equal(body.payload!.severity, 'critical');
  t.equal(renderPagerDutyEvent({ ...report, level: 'P1' }, { action: 'trigger' }).payload!.severity, 'error');
  t.equal(renderPagerDutyEvent({ ...report, level: 'P2' }, { action: 'trigger' }).payload!.severity, 'warning');
  t.equal(renderPagerDutyEvent({ ...report, level: 'P3' }, { action: 'trigger' }).payload!.severity, 'info');
  t.match(body.payload!.summary, /^\[P0\] ServiceDown on ai-ninja\/Deployment\/phone-gateway: phone-gateway health check failing/);
  const d = body.payload!.custom_details as Record<string, any>;
  t.same(d.rungs.slice(0, 2), [
    '✗ restart — rollout did not become ready within 120s (14:31:00–14:33:05 UTC)',
    '✓ config check — DEGRADED_MODE unset as expected (14:33:10–14:33:12 UTC)',
  ]);
  t.equal(d.progress, '2 of 3 rungs tried, 1 succeeded');
  t.equal(d.latest_update, 'restart failed');
  t.same(d.snapshot, report.snapshot, 'a small snapshot stays structured');
  t.same(
    body.links!.map((l) => l.text),
    ['Remediation run run-42', 'Runbook', 'Dashboard', 'Alert source'],
  );
  t.same(renderPagerDutyEvent(report, { action: 'resolve' }), { event_action: 'resolve', dedup_key: `remediator-${report.episodeKey}` });
});

t.test('PagerDuty: summary ≤1024 chars and the body ≤512 KB, the snapshot trimmed first and the rungs kept', async (t) => {
  const huge = { logs: Array.from({ length: 40_000 }, (_, i) => `line ${i}: connection refused to db-primary:5432 — 连接被拒绝`) };
  const report = serviceDownReport({ alert: { ...serviceDownReport().alert, summary: 'x'.repeat(5000) }, snapshot: huge });
  const body = renderPagerDutyEvent(report, { action: 'trigger' });
  t.equal(body.payload!.summary.length, 1024);
  const d = body.payload!.custom_details as Record<string, any>;
  t.type(d.snapshot, 'string', 'by default the snapshot is cut to 64 KiB of text');
  t.ok(d.snapshot.length < 66_000);
  t.match(d.snapshot, /snapshot cut: \d+ chars in full/);

  const full = renderPagerDutyEvent(report, { action: 'trigger', snapshotMaxChars: Number.POSITIVE_INFINITY });
  const size = Buffer.byteLength(JSON.stringify({ routing_key: 'r'.repeat(32), ...full }));
  t.ok(size <= PAGERDUTY_MAX_BYTES, `${size} bytes with the routing key`);
  t.ok(size > 400_000, 'without the 64 KiB bound, the snapshot takes the room that is left');
  const fd = full.payload!.custom_details as Record<string, any>;
  t.match(fd.snapshot, /snapshot cut/);
  t.equal(fd.rungs.length, 3, 'the ladder survives');
  t.equal(fd.timeline.length, report.timeline.length, 'the timeline too: the snapshot went first');

  const tiny = renderPagerDutyEvent(report, { action: 'trigger', maxBytes: 3 * 1024 });
  t.ok(Buffer.byteLength(JSON.stringify(tiny)) <= 3 * 1024 - 128);
  t.notOk('snapshot' in (tiny.payload!.custom_details as object), 'dropped when even a cut does not fit');
  t.match(tiny.payload!.custom_details, { snapshot_omitted: /too large/ });
  t.equal((tiny.payload!.custom_details as any).rungs.length, 3);
});

t.test('Opsgenie: message ≤130, priority from level, details ≤8000 in total, tags 20 × 50', async (t) => {
  const labels: Record<string, string> = {};
  for (let i = 0; i < 200; i++) labels[`label_${i}`] = 'v'.repeat(100);
  const base = serviceDownReport();
  const report = serviceDownReport({
    alert: { ...base.alert, labels, summary: 's'.repeat(400) },
    services: Array.from({ length: 30 }, (_, i) => `service-with-a-rather-long-name-number-${i}-and-more`),
  });
  const body = renderOpsgenieCreate(report);
  t.ok(body.message.length <= 130);
  t.match(body.message, /^\[P0\] ServiceDown/);
  t.equal(body.alias, `remediator-${report.episodeKey}`);
  t.equal(body.priority, 'P1');
  t.equal(renderOpsgenieCreate({ ...base, level: 'P3' }).priority, 'P4');
  const total = Object.entries(body.details).reduce((n, [k, v]) => n + k.length + v.length, 0);
  t.ok(total <= 8000, `details ${total} chars`);
  t.equal(body.details.level, 'P0', 'the most useful details come first');
  t.equal(body.details.run_url, base.run.url);
  t.ok(body.tags.length <= 20 && body.tags.every((x) => x.length <= 50));
  t.ok(body.description.length <= 15_000);
  t.match(body.description, /✗ restart — rollout did not become ready/);
  t.match(renderOpsgenieNote(base, 'rollback started').note, /^rollback started\n/);
});

t.test('Slack: the runbook template fields, with tried actions as [X] and the rest as [ ]', async (t) => {
  const msg = renderSlackMessage(serviceDownReport());
  const lines = msg.text.split('\n');
  t.equal(lines[0], '🚨 [CRITICAL] ServiceDown on ai-ninja/Deployment/phone-gateway — automation could not fix it, a human is needed');
  t.match(msg.text, /\nServices: phone-gateway\n/);
  t.match(msg.text, /\nStart time: 2026-03-01 14:30:00 UTC\n/);
  t.match(msg.text, /\nCurrent status: automation could not fix it; escalated to a human\n/);
  t.match(msg.text, /\nProgress: 2 of 3 rungs tried, 1 succeeded\n/);
  t.match(
    msg.text,
    /\nActions tried:\n- \[X\] restart — failed: rollout did not become ready within 120s\n- \[X\] config check — succeeded: DEGRADED_MODE unset as expected\n- \[ \] rollback\n/,
  );
  t.match(msg.text, /\nETA: 15:30 UTC\n/);
  t.match(msg.text, /\nOwner: @oncall-sre\n/);
  t.match(msg.text, /\nDashboard: https:\/\/grafana\.example\.com\/d\/service-overview\n/);
  t.match(msg.text, /\nRun: https:\/\/remediator\.example\.com\/v1\/runs\/run-42\n/);

  t.equal(msg.blocks[0]!.type, 'header');
  const fields = (msg.blocks.find((b) => Array.isArray(b.fields))!.fields as Array<{ text: string }>).map((f) => f.text);
  t.same(
    fields.map((f) => f.split(':*')[0]),
    ['*Services', '*Start time', '*Current status', '*Progress', '*ETA', '*Owner'],
  );
  const actions = msg.blocks.find((b) => b.type === 'actions')!.elements as Array<{ url: string }>;
  t.same(
    actions.map((a) => a.url),
    [serviceDownReport().alert.dashboardUrl, serviceDownReport().run.url, serviceDownReport().alert.runbookUrl],
  );

  const p2 = renderSlackMessage(
    serviceDownReport({ level: 'P2', status: 'remediating', alert: { ...serviceDownReport().alert, summary: 'a <b> & c' } }),
    { kind: 'update', note: 'gate failed' },
  );
  t.match(p2.text, /^⚠️ \[WARNING\] .* remediation in progress\nUpdate: gate failed\n/);
  t.equal((p2.blocks[1]!.text as { text: string }).text, 'a &lt;b&gt; &amp; c', 'mrkdwn is escaped');
  t.match(renderSlackMessage(serviceDownReport(), { kind: 'resolve' }).text, /^✅ \[CRITICAL\] .* recovered\n[\s\S]*ETA: recovered/);
});

t.test('customer notice: the runbook template in English, without internal details', async (t) => {
  const open = renderCustomerNotice(serviceDownReport(), {
    product: 'AI phone answering',
    impact: 'answering calls and AI replies',
    team: 'The AI Answer Ninja team',
    at: '2026-03-01T14:40:00Z',
  });
  t.equal(
    open,
    [
      'Dear customer,',
      '',
      'We detected a temporary disruption of AI phone answering. Our engineering team is working on it urgently.',
      '',
      'Impact: answering calls and AI replies',
      'Expected recovery: 15:30 UTC',
      '',
      'We apologise for the inconvenience and will send a detailed report once the service is restored.',
      '',
      'The AI Answer Ninja team',
      '2026-03-01 14:40:00 UTC',
    ].join('\n'),
  );
  const report = serviceDownReport({ status: 'recovered' });
  report.timeline.push({ at: '2026-03-01T14:52:00Z', kind: 'recovery', text: 'all pods ready' });
  const done = renderCustomerNotice(report, { at: '2026-03-01T15:00:00Z' });
  t.match(
    done,
    /phone-gateway experienced a temporary disruption that started at 2026-03-01 14:30:00 UTC\. The service has been fully restored\./,
  );
  t.match(done, /Restored: 2026-03-01 14:52:00 UTC/);
  t.notMatch(done, /ai-ninja|run-42|restart/, 'no internal names');
});

t.test('timeline Markdown: alert, confirmation, each action and gate with its time and result, escalation, recovery', async (t) => {
  const report = serviceDownReport({ status: 'recovered' });
  report.timeline.push(
    { at: '2026-03-01T14:52:00Z', kind: 'recovery', text: 'rollback | all 3 pods ready' },
    { at: '2026-03-01T14:45:00Z', kind: 'action', text: 'kube.rolloutUndo to revision 41', ok: true },
    { at: '2026-03-01T14:55:00Z', kind: 'gate', text: 'alert resolved in Alertmanager', ok: true },
  );
  const md = renderTimelineMarkdown(report);
  t.match(md, /^# Incident timeline: ServiceDown \(P0\)\n/);
  t.match(md, /\| Recovered \| 2026-03-01 14:52:00 UTC \(22m after the alert started\) \|/);
  t.match(md, /\| Run \| \[run-42\]\(https:\/\/remediator\.example\.com\/v1\/runs\/run-42\) — playbook `service-down` \|/);
  const rows = md.split('\n').filter((l) => /^\| \d\d:\d\d:\d\d \|/.test(l));
  t.same(
    rows,
    [
      '| 14:30:00 | +0s | 🔔 Alert received |  | ServiceDown fired for phone-gateway |',
      '| 14:30:20 | +20s | 🧭 Decision |  | confirmed: 0 of 3 pods ready; playbook service-down matched |',
      '| 14:31:00 | +1m | 🔧 Action | ✓ | kube.rolloutRestart ai-ninja/phone-gateway |',
      '| 14:33:05 | +3m5s | 🔎 Verification gate | ✗ | rolloutStatus: 0 of 3 updated replicas are available |',
      '| 14:33:12 | +3m12s | 🔎 Verification gate | ✓ | config check passed |',
      '| 14:33:20 | +3m20s | 📟 Escalation |  | paged on-call (P0) |',
      '| 14:45:00 | +15m | 🔧 Action | ✓ | kube.rolloutUndo to revision 41 |',
      '| 14:52:00 | +22m | ✅ Recovery |  | rollback \\| all 3 pods ready |',
      '| 14:55:00 | +25m | 🔎 Verification gate | ✓ | alert resolved in Alertmanager |',
    ],
    'in time order, pipes escaped',
  );
  t.match(
    md,
    /## Remediation ladder\n\n\| # \| Rung \| Outcome \| Started \| Ended \| Took \| Why \|\n\|---\|---\|---\|---\|---\|---\|---\|\n\| 1 \| restart \| failed \| 14:31:00 \| 14:33:05 \| 2m5s \| rollout did not become ready within 120s \|/,
  );
});

t.test('webhook event: §5.4 fields, snapshot bounded', async (t) => {
  const report = serviceDownReport({ snapshot: { blob: 'z'.repeat(100_000) } });
  const ev = renderWebhookEvent(report, { action: 'trigger', at: '2026-03-01T14:33:20Z' });
  t.match(ev, {
    version: '1',
    event: 'remediation.escalated',
    dedupKey: `remediator-${report.episodeKey}`,
    severity: 'critical',
    source: 'ai-ninja/Deployment/phone-gateway',
    playbook: { name: 'service-down', runId: 'run-42' },
    alert: { fingerprints: ['a1b2c3d4e5f60718'] },
    timestamp: '2026-03-01T14:33:20Z',
  });
  t.ok(JSON.stringify(ev).length < 80_000, 'the 100 KB snapshot was cut');
  t.equal(renderWebhookEvent(report, { action: 'resolve' }).status, 'recovered');
});

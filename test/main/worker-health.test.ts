import t from 'tap';
import { startTestService } from '../support/harness.ts';

// A `--role worker` process with worker.healthPort answers probes and scrapes on its own port, and only those.

const playbook = `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: plain }
spec:
  triggers: [{ matchers: ['alertname="B"'] }]
  steps:
    - { id: say, action: log, with: { message: hi } }
`;

t.test('the worker serves /healthz, /readyz and /metrics, not the webhook or the operator API', async (t) => {
  const svc = await startTestService({
    playbooks: { 'plain.yaml': playbook },
    role: 'worker',
    overrides: (c) => (c.worker = { ...c.worker, healthPort: 0 }),
  });
  t.ok(svc.url, 'listening');
  t.equal((await fetch(`${svc.url}/healthz`)).status, 200);
  const ready = await fetch(`${svc.url}/readyz`);
  t.equal(ready.status, 200);
  t.match(await ready.json(), { ok: true, checks: { redis: { ok: true }, playbooks: { ok: true, detail: { loaded: ['plain'] } } } });
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  t.match(metrics, /^remediator_playbooks_loaded 1$/m, 'the worker process metrics');
  t.match(metrics, /^# TYPE remediator_step_duration_seconds histogram$/m, 'step metrics are scraped where steps run');
  t.equal(
    (await fetch(`${svc.url}/v1/alertmanager`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status,
    404,
    'no webhook on a worker',
  );
  t.equal((await fetch(`${svc.url}/v1/runs`)).status, 404, 'no operator API on a worker');
});

t.test('without worker.healthPort a worker opens no port', async (t) => {
  const svc = await startTestService({ playbooks: { 'plain.yaml': playbook }, role: 'worker' });
  t.equal(svc.url, undefined);
});

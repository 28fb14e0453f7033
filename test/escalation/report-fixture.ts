import { randomUUID } from 'node:crypto';
import type { IncidentReport } from '../../src/escalation/incident.ts';

/**
 * An incident report like the engine builds for the runbook's ServiceDown case: phone-gateway down, a restart that
 * did not help, a config check that passed, a rollback not tried yet.
 */
export function serviceDownReport(overrides: Partial<IncidentReport> = {}): IncidentReport {
  return {
    episodeKey: randomUUID().replace(/-/g, ''),
    level: 'P0',
    alert: {
      name: 'ServiceDown',
      summary: 'phone-gateway health check failing',
      description: 'Core service phone-gateway is not answering its health check.',
      labels: { alertname: 'ServiceDown', severity: 'critical', namespace: 'ai-ninja', service: 'phone-gateway' },
      annotations: { summary: 'phone-gateway health check failing' },
      startsAt: '2026-03-01T14:30:00Z',
      fingerprint: 'a1b2c3d4e5f60718',
      generatorURL: 'http://prometheus.example/graph?g0.expr=up%3D%3D0',
      runbookUrl: 'https://docs.example.com/runbooks/service-down',
      dashboardUrl: 'https://grafana.example.com/d/service-overview',
    },
    services: ['phone-gateway'],
    target: { namespace: 'ai-ninja', kind: 'Deployment', name: 'phone-gateway' },
    status: 'escalated',
    rungs: [
      {
        name: 'restart',
        outcome: 'failed',
        reason: 'rollout did not become ready within 120s',
        startedAt: '2026-03-01T14:31:00Z',
        endedAt: '2026-03-01T14:33:05Z',
      },
      {
        name: 'config check',
        outcome: 'succeeded',
        reason: 'DEGRADED_MODE unset as expected',
        startedAt: '2026-03-01T14:33:10Z',
        endedAt: '2026-03-01T14:33:12Z',
      },
      { name: 'rollback', outcome: 'pending' },
    ],
    snapshot: {
      pods: [{ name: 'phone-gateway-7d9f-abcde', phase: 'Running', ready: false, restarts: 7 }],
      events: ['Back-off restarting failed container'],
    },
    timeline: [
      { at: '2026-03-01T14:30:00Z', kind: 'alert', text: 'ServiceDown fired for phone-gateway' },
      { at: '2026-03-01T14:30:20Z', kind: 'decision', text: 'confirmed: 0 of 3 pods ready; playbook service-down matched' },
      { at: '2026-03-01T14:31:00Z', kind: 'action', text: 'kube.rolloutRestart ai-ninja/phone-gateway', ok: true },
      { at: '2026-03-01T14:33:05Z', kind: 'gate', text: 'rolloutStatus: 0 of 3 updated replicas are available', ok: false },
      { at: '2026-03-01T14:33:12Z', kind: 'gate', text: 'config check passed', ok: true },
      { at: '2026-03-01T14:33:20Z', kind: 'escalation', text: 'paged on-call (P0)' },
    ],
    run: { id: 'run-42', playbook: 'service-down', url: 'https://remediator.example.com/v1/runs/run-42' },
    eta: '15:30 UTC',
    owner: 'oncall-sre',
    ...overrides,
  };
}

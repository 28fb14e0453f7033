import { Type, type Static } from '@sinclair/typebox';
import type { RunInfo } from '../domain/run-info.ts';
import { runEpisodeId } from '../alerts/episode.ts';

/**
 * The incident report: everything a person being paged needs, built by the engine from a run. Every renderer
 * (PagerDuty, Opsgenie, Slack, customer notice, post-incident timeline) and every paging target takes this one
 * shape, so the story told on each channel is the same.
 *
 * The schema is TypeBox so the same object documents the shape, types it and validates it at the escalator's door
 * (a report is checked before anything is enqueued).
 */

export const LEVELS = ['P0', 'P1', 'P2', 'P3'] as const;
export const Level = Type.Union(
  LEVELS.map((l) => Type.Literal(l)),
  { description: 'Incident level: P0 (core service down) … P3 (minor).' },
);
export type Level = Static<typeof Level>;

const Timestamp = Type.String({ description: 'RFC 3339 timestamp.' });

export const RungOutcome = Type.Union((['succeeded', 'failed', 'skipped', 'running', 'pending'] as const).map((o) => Type.Literal(o)));

export const IncidentRung = Type.Object({
  /** The rung's name as people read it: `restart`, `config check`, `rollback`. */
  name: Type.String({ minLength: 1 }),
  outcome: RungOutcome,
  /** Why it failed or was skipped (one line), or what it achieved. */
  reason: Type.Optional(Type.String()),
  startedAt: Type.Optional(Timestamp),
  endedAt: Type.Optional(Timestamp),
});
export type IncidentRung = Static<typeof IncidentRung>;

export const TimelineKind = Type.Union(
  (['alert', 'decision', 'action', 'gate', 'escalation', 'recovery', 'note'] as const).map((k) => Type.Literal(k)),
);

export const TimelineEntry = Type.Object({
  at: Timestamp,
  kind: TimelineKind,
  text: Type.String(),
  /** For actions and gates: whether it succeeded / passed. Absent for plain events. */
  ok: Type.Optional(Type.Boolean()),
});
export type TimelineEntry = Static<typeof TimelineEntry>;

export const IncidentApproval = Type.Object({
  stepId: Type.String({ minLength: 1 }),
  /** sha256 of the plan: a button answers this plan only. */
  planHash: Type.String({ minLength: 1 }),
  /** One line: what the step will do (`scale-up (kube.scale) on ai-ninja/Deployment/api`). */
  plan: Type.String(),
  expiresAt: Timestamp,
  answer: Type.Optional(
    Type.Object({ verdict: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]), by: Type.String(), at: Timestamp }),
  ),
});
export type IncidentApproval = Static<typeof IncidentApproval>;

export const IncidentReportSchema = Type.Object({
  /**
   * The run's episode id as the API shows it (`runEpisodeId`): the alert episode (same series + same startsAt), or
   * the run id for a manual run. One incident per episode at every provider.
   */
  episodeKey: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._-]+$' }),
  level: Level,
  alert: Type.Object({
    name: Type.String({ minLength: 1 }),
    summary: Type.String(),
    description: Type.Optional(Type.String()),
    labels: Type.Record(Type.String(), Type.String()),
    annotations: Type.Record(Type.String(), Type.String()),
    startsAt: Timestamp,
    fingerprint: Type.Optional(Type.String()),
    generatorURL: Type.Optional(Type.String()),
    runbookUrl: Type.Optional(Type.String()),
    dashboardUrl: Type.Optional(Type.String()),
  }),
  /** Affected services, as people name them (`phone-gateway`). */
  services: Type.Array(Type.String()),
  target: Type.Optional(Type.Object({ namespace: Type.Optional(Type.String()), kind: Type.String(), name: Type.String() })),
  status: Type.Union((['remediating', 'escalated', 'recovered', 'failed'] as const).map((s) => Type.Literal(s))),
  /** The remediation ladder in order, each rung with its outcome. */
  rungs: Type.Array(IncidentRung),
  /** Diagnosis JSON taken before acting. Renderers bound it (PagerDuty drops it first when over 512 KB). */
  snapshot: Type.Optional(Type.Unknown()),
  /** What happened, oldest first. */
  timeline: Type.Array(TimelineEntry),
  run: Type.Object({
    id: Type.String({ minLength: 1 }),
    playbook: Type.String(),
    /** Link to `GET /v1/runs/:id` (or a UI page for the run). */
    url: Type.Optional(Type.String()),
    /** Link to the episode's post-incident report (`GET /v1/incidents/:episode/report`). */
    reportUrl: Type.Optional(Type.String()),
  }),
  /** Expected recovery, free text or a timestamp (`~15 min`, `2026-01-01T01:00:00Z`). */
  eta: Type.Optional(Type.String()),
  /** Who owns the incident (an on-call handle, without `@`). */
  owner: Type.Optional(Type.String()),
  /**
   * The plan the run waits to have approved, while it waits: Slack app messages show Approve/Reject/Cancel/Take over
   * for it until `answer` says who decided.
   */
  approval: Type.Optional(IncidentApproval),
});
export type IncidentReport = Static<typeof IncidentReportSchema>;
export type IncidentStatus = IncidentReport['status'];

/**
 * The report an escalator builds when the engine gave it nothing better: the alert, the run and a single timeline
 * entry. The `escalate` action falls back to this when no report builder is installed (see DurableEscalator).
 */
export function minimalReport(run: RunInfo, options: { level?: Level; summary?: string; at?: string } = {}): IncidentReport {
  const a = run.alert;
  const name = a.labels.alertname ?? run.playbook;
  const summary = options.summary ?? a.annotations.summary ?? a.annotations.description ?? name;
  const service = a.labels.service ?? a.labels.app ?? a.labels.deployment ?? a.labels.job;
  const report: IncidentReport = {
    episodeKey: runEpisodeId(run),
    level: options.level ?? 'P2',
    alert: {
      name,
      summary,
      labels: { ...a.labels },
      annotations: { ...a.annotations },
      startsAt: a.startsAt,
      fingerprint: a.fingerprint,
    },
    services: service ? [service] : [],
    status: 'escalated',
    rungs: [],
    timeline: [
      { at: a.startsAt, kind: 'alert', text: `${name} fired` },
      { at: options.at ?? new Date().toISOString(), kind: 'escalation', text: `escalated by playbook ${run.playbook}` },
    ],
    run: { id: run.id, playbook: run.playbook },
  };
  if (a.annotations.description) report.alert.description = a.annotations.description;
  if (a.generatorURL) report.alert.generatorURL = a.generatorURL;
  const runbook = a.annotations.runbook_url ?? a.annotations.runbook;
  if (runbook) report.alert.runbookUrl = runbook;
  const dashboard = a.annotations.dashboard_url ?? a.annotations.dashboard;
  if (dashboard) report.alert.dashboardUrl = dashboard;
  return report;
}

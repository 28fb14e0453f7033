import type { Logger } from 'pino';
import type { Config } from '../config/config-schema.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RunStore } from '../store/run-store.ts';
import type { RunQueue } from '../queue/run-queue.ts';
import type { PlaybookCatalog } from '../playbooks/playbook-catalog.ts';
import type { RunCommands } from '../runs/run-commands.ts';
import type { Clock } from '../ports/clock.ts';
import type { StepRegistry } from '../engine/step-registry.ts';
import type { RunView } from '../store/run-record.ts';
import type { IncidentReport } from '../escalation/incident.ts';
import type { PauseRegistry } from '../guards/pause-registry.ts';
import type { ReadinessCheckResult } from '../kube/readiness-detail.ts';
import type { SourceProblem } from '../schema/yaml-source.ts';
import type { DurabilityBarrier } from '../store/durability-barrier.ts';
import type { SlackInteractions } from '../escalation/slack-interactions.ts';
import type { HumanEvent } from '../escalation/inbound/human-event.ts';
import type { HumanResponseOutcome } from '../runs/human-response.ts';
import type { CustomerNoticeFlow } from '../runs/customer-notice-flow.ts';

/**
 * The provider hooks (POST /v1/hooks/pagerduty, /v1/hooks/opsgenie), with their secrets already read from the
 * environment. A hook exists only when its provider is configured (escalation.inbound).
 */
export interface InboundHooks {
  pagerduty?: {
    secrets: string[];
    /** The episode of an incident that carries no incident key (its alerts' keys), when a REST key is configured. */
    lookup?: (incidentId: string, signal: AbortSignal) => Promise<string | undefined>;
  };
  opsgenie?: { header: string; token: string };
  /** Applies what a person did (src/runs/human-response.ts). */
  apply: (event: HumanEvent, signal: AbortSignal) => Promise<HumanResponseOutcome>;
}
import type { FleetCorrelator } from '../guards/fleet-correlator.ts';
import type { KnownEpisodes } from '../alerts/known-episodes.ts';
import type { RunEvents } from '../store/run-events.ts';
import type { SessionStoreLike } from './console/console-auth.ts';
import type { DeliveryState } from '../escalation/delivery-status.ts';
import type { HumanMarks } from '../runs/human-takeover.ts';

/** Everything the HTTP app needs, built by the composition root (src/main.ts) or a test. */
export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  store: RunStore;
  queue: RunQueue;
  catalog: PlaybookCatalog;
  commands: RunCommands;
  clock: Clock;
  registry: StepRegistry;
  /** Pauses of automatic mutations (GET/POST/DELETE /v1/pause); the routes exist only when given. */
  pauses?: PauseRegistry;
  /** Reloads the playbooks (POST /v1/reload, which exists only when given); resolves to the problems found. */
  reload?: () => Promise<readonly SourceProblem[]>;
  /** The run as an incident report (for GET /v1/runs/:id/timeline). */
  incidentReport?: (run: RunView) => IncidentReport;
  /**
   * Extra entries of /readyz (e.g. Kubernetes reachability and RBAC pre-flight). One answering `required: false` is
   * shown but does not make the instance unready.
   */
  readinessChecks?: Record<string, () => Promise<ReadinessCheckResult>>;
  /**
   * On replicated Redis: confirms a webhook's writes reached the replicas before its 202 (absent: standalone, where a
   * 202 is as durable as the master's AOF setting).
   */
  durability?: DurabilityBarrier;
  /** Slack's button clicks (POST /v1/slack/interactions, which exists only when given: a slack-app target with a signing secret). */
  slack?: SlackInteractions;
  /** The post-incident report of an episode in Markdown, undefined when nothing is known (GET /v1/incidents/:episode/report). */
  episodeReport?: (episodeKey: string) => Promise<string | undefined>;
  /** The customer notice and its approval (/v1/incidents/:episode/notice…); the routes exist only when given. */
  notices?: CustomerNoticeFlow;
  /** Acks and resolves from PagerDuty and Opsgenie; the hook routes exist only when given. */
  inbound?: InboundHooks;
  /**
   * Where each page of an episode stands at its target (DurableEscalator.deliveries) and what people did to the
   * incident (acknowledged, resolved): GET /v1/runs/:id/deliveries. Absent without escalation: no page is ever sent.
   */
  deliveries?: (episodeKey: string) => Promise<{ deliveries: DeliveryState[]; human: HumanMarks }>;
  /** Correlated incidents: playbooks with spec.fleet take several services of a namespace at once (absent: never). */
  fleet?: FleetCorrelator;
  /** Recent episodes' stored runs, so the webhook claims a repeat by ids alone (absent: every claim is full). */
  knownEpisodes?: KnownEpisodes;
  /** Run changes from every replica and worker (Redis pub/sub): the console's live updates. Absent: no live updates. */
  runEvents?: RunEvents;
  /**
   * The web console's sessions (Redis) and the key signing their cookies (config, else shared through Redis). The
   * console is served only when given and `console.enabled`.
   */
  consoleSessions?: { store: SessionStoreLike; secret: string };
}

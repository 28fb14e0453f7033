import type { IncidentReport, Level } from '../incident.ts';
import { truncate } from './text.ts';

/** Statuspage component statuses (docs/contracts.md §5.6). */
export type ComponentStatus = 'operational' | 'under_maintenance' | 'degraded_performance' | 'partial_outage' | 'major_outage';

/** Level → the status the affected components show while the incident is open. */
export const LEVEL_COMPONENT_STATUS: Readonly<Record<Level, ComponentStatus>> = {
  P0: 'major_outage',
  P1: 'partial_outage',
  P2: 'degraded_performance',
  P3: 'degraded_performance',
};

/** Level → `impact_override`. */
const LEVEL_IMPACT: Readonly<Record<Level, 'critical' | 'major' | 'minor' | 'none'>> = {
  P0: 'critical',
  P1: 'major',
  P2: 'minor',
  P3: 'none',
};

export interface StatuspageIncidentBody {
  incident: {
    name?: string;
    status?: 'investigating' | 'identified' | 'monitoring' | 'resolved';
    body?: string;
    component_ids?: string[];
    components?: Record<string, ComponentStatus>;
    deliver_notifications?: boolean;
    impact_override?: 'none' | 'minor' | 'major' | 'critical' | 'maintenance';
    metadata?: Record<string, Record<string, string>>;
  };
}

export interface StatuspageRenderOptions {
  componentIds: readonly string[];
  /** Override of the level's component status. */
  componentStatus?: ComponentStatus;
  deliverNotifications: boolean;
}

/**
 * Bodies of the Statuspage API (`POST /pages/{page}/incidents`, `PATCH /pages/{page}/incidents/{id}`). A status page
 * is read by customers, so what remediator writes there on its own is only what customers may read: a neutral
 * "investigating" line and the component status when the incident opens, the component status on updates (no body:
 * internal notes never go there), "resolved" with the components operational at the end. Words for customers come
 * only from a customer notice a person approved (`renderStatuspageNotice`).
 */
export function renderStatuspageIncident(
  action: 'trigger' | 'update' | 'resolve',
  report: IncidentReport,
  o: StatuspageRenderOptions,
): StatuspageIncidentBody {
  const product = report.services.length > 0 ? report.services.join(', ') : 'our service';
  const open = Object.fromEntries(o.componentIds.map((id) => [id, o.componentStatus ?? LEVEL_COMPONENT_STATUS[report.level]]));
  if (action === 'trigger') {
    return {
      incident: {
        name: truncate(`Disruption of ${product}`, 200),
        status: 'investigating',
        body: `We are investigating a disruption of ${product}. We will post an update as soon as we know more.`,
        component_ids: [...o.componentIds],
        components: open,
        deliver_notifications: o.deliverNotifications,
        impact_override: LEVEL_IMPACT[report.level],
        metadata: { remediator: { episode: report.episodeKey } },
      },
    };
  }
  if (action === 'update') return { incident: { components: report.status === 'recovered' ? operational(o.componentIds) : open } };
  return {
    incident: {
      status: 'resolved',
      body: `${product} is working normally again. This incident has been resolved.`,
      components: operational(o.componentIds),
      deliver_notifications: o.deliverNotifications,
    },
  };
}

/** An approved customer notice as an incident update: its text as the update's body, in the incident's current phase. */
export function renderStatuspageNotice(report: IncidentReport, text: string, o: StatuspageRenderOptions): StatuspageIncidentBody {
  return {
    incident: {
      status: report.status === 'recovered' ? 'monitoring' : 'identified',
      body: text,
      deliver_notifications: o.deliverNotifications,
    },
  };
}

function operational(ids: readonly string[]): Record<string, ComponentStatus> {
  return Object.fromEntries(ids.map((id) => [id, 'operational' as const]));
}

import type { PlaybookCatalog } from '../../playbooks/playbook-catalog.ts';
import type { AlertView } from '../../engine/step-definition.ts';
import { renderTarget } from '../../alerts/ingest-webhook.ts';
import { render } from '../../engine/template.ts';

export interface PlanPreview {
  labels: Record<string, string>;
  playbooks: Array<{
    name: string;
    target?: { namespace?: string; kind: string; name: string };
    dryRun: boolean;
    rungs: Array<{ name: string; steps: Array<{ id: string; uses: string; mutating: boolean; with?: unknown; unresolved?: string }> }>;
  }>;
}

/** `name=value` lines (blank lines and `#` comments skipped) as labels. */
export function parseLabelLines(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const i = l.indexOf('=');
    if (i <= 0) continue;
    labels[l.slice(0, i).trim()] = l
      .slice(i + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return labels;
}

/**
 * What would happen for a firing alert with these labels, changing nothing: the playbooks that take it, the target
 * each renders, and each step's parameters rendered as far as the alert alone allows (a step that reads an earlier
 * step's output says so instead).
 */
export function planPreview(catalog: PlaybookCatalog, labelText: string, now: number): PlanPreview {
  const labels = parseLabelLines(labelText);
  const alert: AlertView = { status: 'firing', labels, annotations: {}, startsAt: new Date(now).toISOString(), fingerprint: 'preview' };
  return {
    labels,
    playbooks: catalog.match(alert).map((pb) => {
      const target = renderTarget(pb, alert, pb.params);
      const view = { alert, labels, annotations: {}, params: pb.params, target: target ?? {}, steps: {} };
      return {
        name: pb.name,
        ...(target ? { target } : {}),
        dryRun: pb.dryRun,
        rungs: pb.rungs.map((r) => ({
          name: r.name,
          steps: r.steps.map((s) => {
            try {
              return { id: s.id, uses: s.uses, mutating: s.mutating, with: render(s.with, view) };
            } catch (err) {
              return { id: s.id, uses: s.uses, mutating: s.mutating, unresolved: (err as Error).message };
            }
          }),
        })),
      };
    }),
  };
}

import type { Metrics } from '../observability/metrics.ts';
import type { PlaybookCatalog } from './playbook-catalog.ts';
import { formatProblem } from '../schema/yaml-source.ts';

type CatalogView = Pick<PlaybookCatalog, 'loaded' | 'list' | 'generation' | 'lastProblems' | 'unservable'>;

/**
 * The `playbooks` check of /readyz. Ready once a set is loaded. The detail says what is in force, which valid
 * playbooks the configuration cannot run and why (they are left out, not fatal), and whether the last reload was
 * refused (the previous good set then stays in force and `lastReloadProblems` lists what to fix).
 */
export function playbookReadiness(catalog: CatalogView): { ok: boolean; detail: unknown } {
  return {
    ok: catalog.loaded,
    detail: {
      loaded: catalog.list().map((p) => p.name),
      generation: catalog.generation,
      notInForce: catalog.unservable.map((u) => ({ playbook: u.name, file: u.file, reasons: u.reasons })),
      lastReloadFailed: catalog.lastProblems.length > 0,
      lastReloadProblems: catalog.lastProblems.map(formatProblem),
    },
  };
}

/**
 * Sets the playbook gauges at scrape time: playbooks in force, playbooks left out per missing service, and whether
 * the last reload was refused (1 until a reload succeeds), so an alert can fire on each.
 */
export function recordPlaybookGauges(metrics: Metrics, catalog: CatalogView): void {
  metrics.playbooksLoaded.set(catalog.list().length);
  metrics.playbooksNotInForce.reset();
  for (const u of catalog.unservable) metrics.playbooksNotInForce.set({ playbook: u.name }, 1);
  metrics.playbookReloadFailing.set(catalog.lastProblems.length > 0 ? 1 : 0);
}

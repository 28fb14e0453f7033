import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { PromRule } from '../prometheus-process.ts';

/** The alert rule file the project ships for ServiceDown (a Prometheus rule file: `groups[].rules[]`). */
export const SHIPPED_RULE_FILE = new URL('../../../config/alert-rules/service-down.rules.yaml', import.meta.url);

/**
 * The built-in equivalent used when no rule file is shipped: every scrape of a service Deployment that fails is a
 * ServiceDown carrying the `namespace`, `deployment` and `service` labels the service-down playbook needs (they
 * come from the scrape job's target labels).
 */
export const BUILT_IN_SERVICE_DOWN: PromRule = {
  alert: 'ServiceDown',
  expr: 'up{deployment!=""} == 0',
  for: '1m',
  labels: { severity: 'critical' },
  annotations: {
    summary: '{{ $labels.namespace }}/{{ $labels.deployment }} is down',
    description: 'Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}): the service does not answer.',
  },
};

export interface ServiceDownRules {
  rules: PromRule[];
  /** Where they came from: the shipped file's path, or `built-in`. */
  source: string;
}

/**
 * The ServiceDown alert rules for a local Prometheus: the shipped rule file when it exists, else the built-in
 * rule. With `fast` (the test and demo profile) every rule's `for` becomes `0s`, so an outage fires on the first
 * failed evaluation instead of a minute later; nothing else of the rule changes.
 */
export async function serviceDownRules(options: { fast?: boolean; file?: URL | string } = {}): Promise<ServiceDownRules> {
  const file = options.file ?? SHIPPED_RULE_FILE;
  let rules: PromRule[];
  let source: string;
  try {
    const doc = parse(await readFile(file, 'utf8')) as { groups?: Array<{ rules?: PromRule[] }> } | null;
    rules = (doc?.groups ?? []).flatMap((g) => g.rules ?? []);
    source = file instanceof URL ? file.pathname : file;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    rules = [BUILT_IN_SERVICE_DOWN];
    source = 'built-in';
  }
  if (options.fast) rules = rules.map((r) => ('alert' in r ? { ...r, for: '0s' } : r));
  return { rules, source };
}

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { PromRule } from '../prometheus-process.ts';

/** The alert rule file the project ships for ServiceDown (a Prometheus rule file: `groups[].rules[]`). */
export const SHIPPED_RULE_FILE = new URL('../../../config/alert-rules/service-down.rules.yaml', import.meta.url);

/**
 * The built-in equivalent used when no rule file is shipped: every scrape of a service Deployment that fails is a
 * ServiceDown carrying what the service-down playbook needs: the `namespace` and `deployment` labels (from the
 * scrape job's target labels) and the `health_url` annotation, the Service address Prometheus scrapes + `/health`.
 */
export const BUILT_IN_SERVICE_DOWN: PromRule = {
  alert: 'ServiceDown',
  expr: 'up{deployment!=""} == 0',
  for: '1m',
  labels: { severity: 'critical' },
  annotations: {
    summary: '{{ $labels.namespace }}/{{ $labels.deployment }} is down',
    description: 'Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}): the service does not answer.',
    health_url: 'http://{{ $labels.instance }}/health',
  },
};

export interface ServiceDownRules {
  rules: PromRule[];
  /** Where they came from: the shipped file's path, or `built-in`. */
  source: string;
}

/**
 * `for` of every alert rule in the fast profile. Not 0s: with 100 ms scrapes the scrape timeout is 100 ms too, and
 * on a busy machine (the test suite on two cores) a single scrape sometimes misses it. With `for: 0s` that one miss
 * is a ServiceDown episode of its own; 1 s of failed scrapes in a row is an outage.
 */
export const FAST_FOR = '1s';

/**
 * The ServiceDown alert rules for a local Prometheus: the shipped rule file when it exists, else the built-in
 * rule. With `fast` (the test and demo profile) every rule's `for` becomes FAST_FOR, so an outage fires about a
 * second after it starts instead of minutes later; nothing else of the rule changes.
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
  if (options.fast) rules = rules.map((r) => ('alert' in r ? { ...r, for: FAST_FOR } : r));
  return { rules, source };
}

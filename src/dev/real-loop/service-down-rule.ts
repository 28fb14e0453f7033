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
 * `for` of every alert rule in the fast profile (500 ms scrapes with a 500 ms timeout, rules every 100 ms). Not 0s: a
 * healthy service on a busy machine (the test suite on two cores) may miss one scrape's timeout, and with `for: 0s`
 * that one miss is a ServiceDown episode of its own; failed scrapes for a second in a row are an outage. A killed
 * service fires within about 1.6 s: refused at the next scrape, then `for`, then the next evaluation.
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

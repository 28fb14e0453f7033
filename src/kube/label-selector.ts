import { RemediatorError } from '../domain/errors.ts';
import type { LabelSelector } from '../ports/cluster.ts';

/**
 * A structured LabelSelector (`matchLabels` + `matchExpressions`) in the API's query string form, as apimachinery's
 * `LabelSelectorAsSelector(...).String()` writes it: requirements sorted by key, `k=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`. An empty selector selects everything (`""`), which callers that delete or list pods
 * for a workload must refuse themselves.
 */
export function selectorToString(selector: LabelSelector): string {
  const reqs: Array<{ key: string; text: string }> = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) reqs.push({ key, text: `${key}=${value}` });
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In':
        reqs.push({ key: e.key, text: `${e.key} in (${values})` });
        break;
      case 'NotIn':
        reqs.push({ key: e.key, text: `${e.key} notin (${values})` });
        break;
      case 'Exists':
        reqs.push({ key: e.key, text: e.key });
        break;
      case 'DoesNotExist':
        reqs.push({ key: e.key, text: `!${e.key}` });
        break;
      default:
        throw new RemediatorError('REM_ERR_KUBE_REJECTED', `label selector operator "${e.operator}" is not valid`);
    }
  }
  return reqs
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => r.text)
    .join(',');
}

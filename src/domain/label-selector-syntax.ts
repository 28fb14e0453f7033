/**
 * The syntax of a label selector in the API's string form, as the API server parses `?labelSelector=` (and kubectl
 * `-l` passes it through unchanged): requirements separated by commas, each `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k` (exists) or `!k` (does not exist). Keys are qualified names (`app`,
 * `app.kubernetes.io/name`), values label values (at most 63 characters, alphanumeric at both ends, `-_.` inside,
 * or empty after `=`/`!=`). Checked when a playbook loads, so a typo is a load error, not a failed run. The set
 * comparisons `>` and `<` are not accepted (remediator selects workloads by name-like labels).
 *
 * Returns the problem in the API server's words, or undefined when the selector is valid. An empty selector is
 * refused: it would select everything.
 */
export function labelSelectorProblem(selector: string): string | undefined {
  if (selector.trim() === '') return 'an empty selector would select every object';
  for (const term of splitTerms(selector)) {
    const problem = termProblem(term.trim());
    if (problem) return problem;
  }
  return undefined;
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function termProblem(term: string): string | undefined {
  if (term === '') return 'found an empty requirement (a stray comma)';
  let m = /^!\s*(\S+)$/.exec(term);
  if (m) return keyProblem(m[1]!);
  m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (m) {
    const values = m[3]!.split(',').map((v) => v.trim());
    if (values.length === 1 && values[0] === '') return `for '${m[2]}', the values set can't be empty`;
    return keyProblem(m[1]!) ?? values.map(valueProblem).find((p) => p !== undefined);
  }
  m = /^([^=!<>\s()]+)\s*(==|=|!=)\s*([^\s()]*)$/.exec(term);
  if (m) return keyProblem(m[1]!) ?? valueProblem(m[3]!);
  if (/^[^=!<>\s(),]+$/.test(term)) return keyProblem(term);
  return `unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, !, or a key alone`;
}

function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !PREFIX.test(prefix)))
    return `invalid label key "${key}": the prefix must be a DNS-1123 subdomain`;
  if (name.length === 0 || name.length > 63 || !NAME.test(name))
    return `invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)`;
  return undefined;
}

function valueProblem(value: string): string | undefined {
  if (value.length > 63 || !VALUE.test(value))
    return `invalid label value "${value}": must be 63 characters or less, alphanumeric at both ends, with '-', '_' or '.' between`;
  return undefined;
}

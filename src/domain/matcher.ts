import { RemediatorError } from './errors.ts';

/**
 * Alertmanager's matcher syntax (the one `amtool`, routes and silences use): `name="value"`, `name!="value"`,
 * `name=~"regex"`, `name!~"regex"`, optionally several in `{a="b", c=~"d"}`. Values may be unquoted when they
 * contain no special characters. Regexes are fully anchored, as in Alertmanager. A missing label is the empty
 * string, so `team!="x"` matches an alert without `team`, and `team=""` matches only such alerts.
 */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
  /** Anchored regex for =~ and !~. */
  regex?: RegExp;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseMatchers(input: string): Matcher[] {
  let text = input.trim();
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) throw matcherError(input, 'missing closing "}"');
    text = text.slice(1, -1).trim();
  }
  const out: Matcher[] = [];
  let i = 0;
  const fail = (why: string): never => matcherError(input, why);
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (i >= text.length) break;
    const nameMatch = /^[^\s=!~,"]+/.exec(text.slice(i));
    if (!nameMatch) fail(`expected a label name at character ${i + 1}`);
    const name = nameMatch![0];
    if (!NAME.test(name)) fail(`"${name}" is not a valid label name`);
    i += name.length;
    while (text[i] === ' ') i++;
    const opMatch = /^(=~|!~|!=|=)/.exec(text.slice(i));
    if (!opMatch) fail(`expected one of = != =~ !~ after "${name}"`);
    const op = opMatch![1] as MatchOp;
    i += op.length;
    while (text[i] === ' ') i++;
    let value = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '\\') {
          const next = text[i + 1];
          if (next === undefined) fail('unterminated escape');
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) fail(`unterminated quoted value for "${name}"`);
    } else {
      const raw = /^[^,}]*/.exec(text.slice(i))![0];
      value = raw.trim();
      i += raw.length;
    }
    const m: Matcher = { name, op, value };
    if (op === '=~' || op === '!~') {
      try {
        m.regex = new RegExp(`^(?:${value})$`, 'u');
      } catch (err) {
        fail(`invalid regular expression for "${name}": ${(err as Error).message}`);
      }
    }
    out.push(m);
    while (text[i] === ' ') i++;
    if (i < text.length && text[i] !== ',') fail(`unexpected "${text[i]}" at character ${i + 1}`);
  }
  if (out.length === 0) fail('no matcher');
  return out;
}

export function matches(m: Matcher, labels: Record<string, string>): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.regex!.test(v);
    case '!~':
      return !m.regex!.test(v);
  }
}

export function matchesAll(ms: readonly Matcher[], labels: Record<string, string>): boolean {
  return ms.every((m) => matches(m, labels));
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}

function matcherError(input: string, why: string): never {
  throw new RemediatorError('REM_ERR_PLAYBOOK_INVALID', `bad matcher ${JSON.stringify(input)}: ${why}`);
}

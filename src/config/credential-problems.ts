import type { Config } from './config-schema.ts';

/**
 * What the schema cannot see in `auth`: a token must name one person, and operator tokens and webhook tokens are
 * different audiences, so no token may be both. One line per problem, naming entries by index and operator name,
 * never showing a token.
 */
export function credentialProblems(auth: Config['auth']): string[] {
  const problems: string[] = [];
  const firstHolder = new Map<string, number>();
  auth.operators.forEach((o, i) => {
    const where = `auth.operators[${i}].token (${o.name})`;
    const earlier = firstHolder.get(o.token);
    if (earlier === undefined) firstHolder.set(o.token, i);
    else
      problems.push(
        `${where}: the same token as auth.operators[${earlier}] (${auth.operators[earlier]!.name}); each token must name one person`,
      );
    if (auth.webhook.bearerTokens.includes(o.token))
      problems.push(`${where}: also a webhook token (auth.webhook.bearerTokens); give the operator API and Alertmanager different tokens`);
  });
  return problems;
}

import { isOperatorRole, OPERATOR_ROLES, type OperatorRole } from '../http/operator-roles.ts';
import type { RawConfig } from './config-schema.ts';

/**
 * Environment variables that override the config file: secrets and addresses, which differ per deployment and
 * should not live in a file under version control. Each entry names the config key it sets.
 */
export interface EnvOverride {
  env: string;
  key: string;
  description: string;
  apply(config: RawConfig, value: string): void;
  /** What is wrong with the value beyond what the schema can tell, one line each; never quotes the value (a secret). */
  problems?(value: string): string[];
}

const set =
  (path: string[], parse: (v: string) => unknown = (v) => v) =>
  (config: RawConfig, value: string) => {
    let obj = config;
    for (const k of path.slice(0, -1)) obj = obj[k] ??= {};
    obj[path.at(-1)!] = parse(value);
  };

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export const ENV_OVERRIDES: EnvOverride[] = [
  { env: 'REDIS_URL', key: 'redis.url', description: 'Redis URL', apply: set(['redis', 'url']) },
  {
    env: 'REDIS_PASSWORD',
    key: 'redis.password',
    description: 'password of the Redis data nodes (Sentinel, Cluster)',
    apply: set(['redis', 'password']),
  },
  {
    env: 'REDIS_SENTINEL_PASSWORD',
    key: 'redis.sentinel.password',
    description: 'password of the Redis sentinels',
    apply: set(['redis', 'sentinel', 'password']),
  },
  { env: 'REMEDIATOR_HOST', key: 'server.host', description: 'listen address', apply: set(['server', 'host']) },
  {
    env: 'REMEDIATOR_PORT',
    key: 'server.port',
    description: 'listen port',
    apply: set(['server', 'port'], (v) => (/^\d+$/.test(v) ? Number(v) : v)),
  },
  { env: 'REMEDIATOR_PUBLIC_URL', key: 'server.publicUrl', description: 'public base URL for links', apply: set(['server', 'publicUrl']) },
  {
    env: 'REMEDIATOR_WEBHOOK_TOKENS',
    key: 'auth.webhook.bearerTokens',
    description: 'webhook bearer tokens, comma-separated',
    apply: set(['auth', 'webhook', 'bearerTokens'], list),
  },
  {
    env: 'REMEDIATOR_WEBHOOK_BASIC',
    key: 'auth.webhook.basic',
    description: 'webhook basic auth as user:password',
    apply: set(['auth', 'webhook', 'basic'], (v) => {
      const i = v.indexOf(':');
      return i < 0 ? { username: v } : { username: v.slice(0, i), password: v.slice(i + 1) };
    }),
  },
  {
    env: 'REMEDIATOR_OPERATOR_TOKENS',
    key: 'auth.operators',
    description: 'operator tokens as name:role:token (or name:token for a viewer), comma-separated',
    // An entry with a problem becomes an empty one, which the schema refuses too: never a half-parsed credential.
    apply: set(['auth', 'operators'], (v) =>
      list(v)
        .map(parseOperatorEntry)
        .map((p) => ('problem' in p ? {} : p)),
    ),
    problems: (v) =>
      list(v).flatMap((entry, i, all) => {
        const p = parseOperatorEntry(entry);
        return 'problem' in p ? [`REMEDIATOR_OPERATOR_TOKENS: entry ${i + 1} of ${all.length}: ${p.problem}`] : [];
      }),
  },
  {
    env: 'REMEDIATOR_CONSOLE_SESSION_SECRET',
    key: 'console.sessionSecret',
    description: 'key signing console session cookies (32+ characters)',
    apply: set(['console', 'sessionSecret']),
  },
  { env: 'REMEDIATOR_PLAYBOOKS_DIR', key: 'playbooks.dir', description: 'playbooks folder', apply: set(['playbooks', 'dir']) },
  {
    env: 'REMEDIATOR_DRY_RUN',
    key: 'runs.dryRun',
    description: 'global dry run (true/false)',
    apply: set(['runs', 'dryRun'], (v) => v === 'true' || v === '1'),
  },
  { env: 'KUBECONFIG_PATH', key: 'kubernetes.kubeconfig', description: 'kubeconfig path', apply: set(['kubernetes', 'kubeconfig']) },
  { env: 'PROMETHEUS_URL', key: 'prometheus.url', description: 'Prometheus base URL', apply: set(['prometheus', 'url']) },
  { env: 'ALERTMANAGER_URL', key: 'alertmanager.url', description: 'Alertmanager base URL', apply: set(['alertmanager', 'url']) },
  { env: 'LOG_LEVEL', key: 'logging.level', description: 'log level', apply: set(['logging', 'level']) },
];

type ParsedOperator = { name: string; role?: OperatorRole; token: string } | { problem: string };

/**
 * One entry of REMEDIATOR_OPERATOR_TOKENS: `name:role:token`, or `name:token` (the default role). The token is
 * whatever follows, colons included. An entry without a name is a problem, never a name taken from the token (that
 * would put the secret in run records); problems name the operator but never show the token.
 */
function parseOperatorEntry(entry: string): ParsedOperator {
  const first = entry.indexOf(':');
  if (first < 0) return { problem: 'a token without a name; write name:role:token' };
  const name = entry.slice(0, first).trim();
  if (!name) return { problem: 'no name before the first colon; write name:role:token' };
  const rest = entry.slice(first + 1);
  const second = rest.indexOf(':');
  if (second < 0) return { name, token: rest };
  const role = rest.slice(0, second).trim();
  // name:x:y with x no role is most likely a mistyped role: saying so beats taking "x:y" for the token.
  if (!isOperatorRole(role))
    return { problem: `operator "${name}": the part after the name is not a role (${OPERATOR_ROLES.join(', ')}); write name:role:token` };
  return { name, role, token: rest.slice(second + 1) };
}

import { Type, type Static } from '@sinclair/typebox';
import { Duration } from '../domain/duration.ts';

/** The `redis` section of the config, beside the connections it describes (src/store/redis-connection.ts). */
const RedisNode = Type.Object(
  { host: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
  { additionalProperties: false },
);

export const RedisConfigSchema = Type.Object(
  {
    url: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis URL. Env: REDIS_URL. The demo starts its own when unset.' }),
    prefix: Type.String({
      default: 'rem',
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'Prefix of every key and queue name, so several installations can share one Redis.',
    }),
    commandTimeout: Duration({ default: '2s', description: 'How long the receiver waits for Redis before answering 503.' }),
    username: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'ACL user of the Redis data nodes (Sentinel and Cluster; a standalone URL carries its own).',
      }),
    ),
    password: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Password of the Redis data nodes (Sentinel and Cluster; a standalone URL carries its own). Env: REDIS_PASSWORD.',
      }),
    ),
    tls: Type.Boolean({
      default: false,
      description: 'TLS to the Redis data nodes (Sentinel and Cluster; a standalone URL says rediss://).',
    }),
    sentinel: Type.Optional(
      Type.Object(
        {
          sentinels: Type.Array(RedisNode, {
            minItems: 1,
            description: 'The sentinels to ask for the master (list them all; any one answering is enough).',
          }),
          name: Type.String({ minLength: 1, description: 'The master name the sentinels monitor (`sentinel monitor <name> ...`).' }),
          username: Type.Optional(Type.String({ minLength: 1, description: 'ACL user of the sentinels.' })),
          password: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'Password of the sentinels (`requirepass` of sentinel.conf). Env: REDIS_SENTINEL_PASSWORD.',
            }),
          ),
          tls: Type.Boolean({ default: false, description: 'TLS to the sentinels.' }),
        },
        {
          additionalProperties: false,
          description:
            'Redis Sentinel: the master is found through the sentinels and followed across failovers. Excludes `cluster`; `url` is then ignored.',
        },
      ),
    ),
    cluster: Type.Optional(
      Type.Object(
        {
          nodes: Type.Array(RedisNode, { minItems: 1, description: 'Some nodes of the cluster (the rest is discovered).' }),
        },
        {
          additionalProperties: false,
          description:
            'Redis Cluster. Every key and queue lives under the hash-tagged prefix `{<prefix>}`, so one installation lives in one slot. Excludes `sentinel`; `url` is then ignored.',
        },
      ),
    ),
    minReplicasAcked: Type.Integer({
      minimum: 0,
      default: 1,
      description:
        'With Sentinel or Cluster, a webhook gets its 202 only after WAIT confirms this many replicas hold its writes (503 otherwise, so Alertmanager retries). 0 answers once the master has them.',
    }),
    replicaAckTimeout: Duration({ default: '1s', description: 'How long WAIT waits for the replicas before the webhook gets a 503.' }),
  },
  { additionalProperties: false, default: {} },
);

export type RedisConfig = Static<typeof RedisConfigSchema>;

import t from 'tap';
import { spawnRedis, type RedisProcess } from '../../src/dev/redis-process.ts';

/** Starts a real redis-server for the current test file and stops it when the file's tests end. */
export async function redisForTest(options: { appendonly?: boolean } = {}): Promise<RedisProcess> {
  const redis = await spawnRedis(options);
  t.teardown(() => redis.stop());
  return redis;
}

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { startTestService, fixture, type TestService } from './harness.ts';
import { pagingReceivers, type ReceivedRequest } from './paging-receivers.ts';
import { redisForTest } from './redis.ts';
import type { RedisProcess } from '../../src/dev/redis-process.ts';
import { Keys } from '../../src/store/keys.ts';

export interface PagedReplicas {
  redis: RedisProcess;
  keys: Keys;
  rx: Awaited<ReturnType<typeof pagingReceivers>>;
  /** Starts one more replica in `role` (same Redis, same key prefix, same playbooks and settings). */
  start(role: 'all' | 'receiver' | 'worker'): Promise<TestService>;
  /** Posts one firing alert of a new episode to `svc` and returns the id of the run it started. */
  alert(svc: TestService, alertname: string, deployment: string, startsAt?: string): Promise<string>;
  /** The PagerDuty events (trigger, acknowledge, resolve) that name one of these runs. */
  pagesFor(runIds: string[]): ReceivedRequest[];
}

/**
 * Replicas of one remediator installation that page a local PagerDuty stand-in (target `pd`), for tests of what
 * several processes, crashes and deadlines do to pages. `runs` is the `runs` config section (e.g. short sweeps).
 */
export async function pagedReplicas(options: { playbooks: Record<string, string>; runs: Record<string, string> }): Promise<PagedReplicas> {
  const secrets = {
    routingKey: randomBytes(16).toString('hex'),
    apiKey: `og-${randomBytes(12).toString('hex')}`,
    webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
  };
  const rx = await pagingReceivers(secrets);
  const redis = await redisForTest();
  const prefix = `t${randomBytes(3).toString('hex')}`;
  return {
    redis,
    keys: new Keys(prefix),
    rx,
    start: (role) =>
      startTestService({
        playbooks: options.playbooks,
        redis,
        role,
        overrides: (c) => {
          c.redis.prefix = prefix;
          c.runs = options.runs;
          c.escalation = {
            targets: { pd: { type: 'pagerduty', routingKey: secrets.routingKey, url: rx.pagerduty.url } },
            delivery: { backoff: '50ms', maxBackoff: '200ms', timeout: '2s' },
          };
        },
      }),
    async alert(svc, alertname, deployment, startsAt = new Date().toISOString()) {
      const body = await fixture('alertmanager/firing.json');
      body.alerts = [
        {
          ...body.alerts[0],
          labels: { ...body.alerts[0].labels, alertname, deployment },
          startsAt,
          fingerprint: randomBytes(8).toString('hex'),
        },
      ];
      body.commonLabels = { alertname };
      const res = await svc.post(body);
      t.equal(res.status, 202, 'the webhook is accepted');
      return res.body.alerts[0].runs[0].runId as string;
    },
    pagesFor: (runIds) => rx.pagerduty.requests.filter((q) => runIds.some((id) => JSON.stringify(q.body).includes(id))),
  };
}

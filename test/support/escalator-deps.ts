import { SeverityPolicy } from '../../src/escalation/severity-policy.ts';
import type { EscalationConfig } from '../../src/escalation/escalation-config.ts';
import { AxiosHttpClient } from '../../src/http-client/axios-http-client.ts';
import { bullmqQueueFactory } from '../../src/queue/queue-factory.ts';
import { redisConnector } from '../../src/store/redis-connection.ts';
import { createTargets } from '../../src/escalation/targets/index.ts';

/** What DurableEscalator.start receives besides its config, built with the factories src/main.ts uses. */
export function escalatorDeps(redisUrl: string, config: EscalationConfig) {
  return {
    redis: redisConnector({ url: redisUrl }),
    queues: bullmqQueueFactory,
    targetFactory: createTargets,
    http: new AxiosHttpClient(),
    policy: new SeverityPolicy(config.policy),
    config,
  };
}

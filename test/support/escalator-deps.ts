import { SeverityPolicy } from '../../src/escalation/severity-policy.ts';
import type { EscalationConfig } from '../../src/escalation/escalation-config.ts';
import { AxiosHttpClient } from '../../src/ports/http-client.ts';
import { bullmqQueueFactory } from '../../src/queue/queue-factory.ts';
import { redisConnections } from '../../src/store/redis-connections.ts';

/** What DurableEscalator.start receives besides its config, built with the factories src/main.ts uses. */
export function escalatorDeps(redisUrl: string, config: EscalationConfig) {
  return { connections: redisConnections(redisUrl), queues: bullmqQueueFactory, http: new AxiosHttpClient(), policy: new SeverityPolicy(config.policy), config };
}

/**
 * `npm run bench`: every benchmark in this folder, one after the other, printing figures (no pass/fail: targets are
 * read by people, not asserted by timed tests). Each file also runs alone: `node bench/<name>.ts --help`.
 */
import { benchWebhookIngest } from './webhook-ingest.ts';
import { benchPlaybookMatch } from './playbook-match.ts';
import { benchRedisTopologies } from './redis-topologies.ts';

await benchPlaybookMatch();
console.log('');
await benchWebhookIngest();
console.log('');
await benchRedisTopologies();

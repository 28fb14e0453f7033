/**
 * `npm run bench`: every benchmark in this folder, one after the other, each figure printed beside its target (no
 * pass/fail: targets are read by people, not asserted by timed tests). `npm run bench -- --quick` runs each briefly
 * (a few tens of seconds in all). Each file also runs alone: `node bench/<name>.ts [--quick]`.
 */
import { cpus } from 'node:os';
import { benchPlaybookMatch } from './playbook-match.ts';
import { benchWebhookIngest } from './webhook-ingest.ts';
import { benchMemory } from './memory.ts';
import { benchKubeLatency } from './kube-latency.ts';
import { benchRedisFootprint } from './redis-footprint.ts';
import { quickMode } from './bench-processes.ts';
import { benchRedisTopologies } from './redis-topologies.ts';
import { benchConsoleFirstPaint } from './console-first-paint.ts';

const quick = quickMode();
console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), node ${process.version}${quick ? ', quick mode' : ''}\n`);
if (!quick) {
  await benchPlaybookMatch();
  console.log('');
}
await benchWebhookIngest();
console.log('');
await benchMemory({ deliveries: quick ? 3_000 : 10_000 });
console.log('');
await benchKubeLatency({ samples: quick ? 20 : 100 });
console.log('');
await benchRedisFootprint({ repeats: quick ? 5 : 20 });
console.log('');
await benchRedisTopologies();
console.log('');
await benchConsoleFirstPaint(quick ? { samples: 5 } : {});

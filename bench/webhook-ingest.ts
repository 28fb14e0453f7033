/**
 * Webhook ingest beside its floor. The floor (bench/floor-server.ts) is a bare Fastify route doing one BullMQ `add`
 * per alert with the episode as jobId; "us" is `remediator serve --role receiver` with the shipped playbooks. A third
 * service, the record floor (bench/record-floor-server.ts), is the floor plus the records the receive contract
 * requires before a 202 (episode and counter, run, `started` decision), written by the store's own ingest script: it
 * splits the distance between us and the floor into what those records cost and what the receiver's own work
 * (auth, validation, routing, fleet counts, the per-alert answer) costs. All three are child processes on one
 * redis-server, loaded by autocannon from this process in rounds whose order rotates (floor, record, us; record, us,
 * floor; …) so the noise of a shared machine falls on each; Redis is flushed between rounds.
 *
 * Loads, on the real firing.json payload (ServiceDown phone-gateway, which the shipped service-down playbook takes):
 *   repeats        the same notification again and again (repeat_interval, HA twins): one episode, nothing new
 *   new-episodes   every request is one alert never seen before: an episode, a run and a job each
 *   groups-of-50   one notification of 50 new alerts (a large Alertmanager group)
 * Prints req/s and p99 of each, us ÷ floor beside its target (≥ 0.8), and record floor ÷ floor: the most us ÷ floor
 * can reach while a 202 means "recorded" on this store. No worker runs: this is the receive path.
 * Also the CPU time per request of each service and of redis-server during its rounds (utime + stime from /proc, so
 * Linux only): on a shared machine req/s swing with the neighbours' load, CPU per request much less.
 * `--quick`: one round of 3 s per load.
 */
import autocannon from 'autocannon';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { spawnRedis } from '../src/dev/redis-process.ts';
import { serve, serveFloor, figure, quickMode, WEBHOOK_TOKEN, type Served, warmCompileCache } from './bench-processes.ts';

export interface IngestOptions {
  /** Seconds per load and service per round. Default 8 (quick: 2). */
  seconds?: number;
  /** Rounds per load. Default 3 (quick: 1). */
  rounds?: number;
  /** autocannon connections. Default 50. */
  connections?: number;
}

interface Tally {
  requests: number;
  seconds: number;
  p99: number[];
  non2xx: number;
  /** CPU time (µs) of the service and of redis-server during the rounds. */
  cpu: number;
  redisCpu: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** utime + stime of a process, µs. */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS;
}

export async function benchWebhookIngest(options: IngestOptions = {}): Promise<void> {
  const quick = quickMode();
  const seconds = options.seconds ?? (quick ? 3 : 8);
  const rounds = options.rounds ?? (quick ? 1 : 3);
  const connections = options.connections ?? 50;
  const redis = await spawnRedis();
  const admin = new Redis(redis.url);
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-'));
  await warmCompileCache(dir);
  const services: Array<{ who: Who; served?: Served }> = [{ who: 'floor' }, { who: 'record' }, { who: 'us' }];
  try {
    for (const s of services)
      s.served =
        s.who === 'us'
          ? await serve({ role: 'receiver', redisUrl: redis.url, prefix: 'us', dir })
          : await serveFloor(redis.url, s.who, s.who);
    const template = JSON.parse(await readFile(new URL('../test/fixtures/alertmanager/firing.json', import.meta.url), 'utf8'));
    let seq = 0;
    const notification = (alerts: number): string => {
      const list = [];
      for (let i = 0; i < alerts; i++) {
        const n = ++seq;
        list.push({
          ...template.alerts[0],
          labels: { ...template.alerts[0].labels, instance: `10.0.${(n >> 8) & 255}.${n & 255}:8080` },
          fingerprint: n.toString(16).padStart(16, '0'),
        });
      }
      return JSON.stringify({ ...template, alerts: list });
    };
    const fixed = JSON.stringify(template);
    const loads = [
      { name: 'repeats of one notification', body: () => fixed },
      { name: 'new episodes', body: () => notification(1) },
      { name: 'groups of 50 alerts', body: () => notification(50) },
    ];
    console.log(
      `webhook ingest: ${rounds} round(s) × ${seconds} s per load and service, ${connections} connections, rotating floor, record floor and us`,
    );
    const redisPid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
    console.log('per service floor/record/us');
    console.log(
      'load                                 req/s                 p99 ms   non-2xx   CPU µs/req (service)     CPU µs/req (redis)',
    );
    const lines: string[] = [];
    const fire = (url: string, body: () => string, duration: number) =>
      autocannon({
        url: `${url}/v1/alertmanager`,
        method: 'POST',
        connections,
        duration,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
        requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
      });
    for (const load of loads) {
      // Warm-up, not counted: each JIT sees the load once.
      for (const s of services) await fire(s.served!.url!, load.body, 1);
      const t = { floor: emptyTally(), record: emptyTally(), us: emptyTally() };
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < services.length; k++) {
          const { who, served } = services[(r + k) % services.length]!;
          await admin.flushall();
          const [cpu0, redis0] = [cpuMicros(served!.proc.pid), cpuMicros(redisPid)];
          const result = await fire(served!.url!, load.body, seconds);
          const tally = t[who];
          tally.cpu += cpuMicros(served!.proc.pid) - cpu0;
          tally.redisCpu += cpuMicros(redisPid) - redis0;
          tally.requests += result.requests.total;
          tally.seconds += result.duration;
          tally.p99.push(result.latency.p99);
          tally.non2xx += result.non2xx + result.errors + result.timeouts;
        }
      }
      const rate = (x: Tally) => x.requests / x.seconds;
      const each = (f: (x: Tally) => string) => [t.floor, t.record, t.us].map(f).join('/');
      console.log(
        [
          load.name.padEnd(28),
          each((x) => rate(x).toFixed(0)).padStart(18),
          each((x) => String(Math.max(...x.p99))).padStart(22),
          String(t.floor.non2xx + t.record.non2xx + t.us.non2xx).padStart(9),
          each((x) => perRequest(x.cpu, x)).padStart(22),
          each((x) => perRequest(x.redisCpu, x)).padStart(22),
        ].join(' '),
      );
      lines.push(figure(`ingest us ÷ floor, ${load.name}`, rate(t.us) / rate(t.floor), '', { op: '>=', limit: 0.8 }, 2));
      lines.push(
        `  record floor ÷ floor ${rate(t.record) / rate(t.floor) < 0.8 ? '(the records alone miss 0.8)' : ''}`.padEnd(47) +
          ` ${(rate(t.record) / rate(t.floor)).toFixed(2).padStart(8)}   us ÷ record floor ${(rate(t.us) / rate(t.record)).toFixed(2)}`,
      );
    }
    for (const l of lines) console.log(l);
  } finally {
    for (const s of services.reverse()) await s.served?.proc.stop();
    admin.disconnect();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

type Who = 'floor' | 'record' | 'us';

function emptyTally(): Tally {
  return { requests: 0, seconds: 0, p99: [], non2xx: 0, cpu: 0, redisCpu: 0 };
}

function perRequest(micros: number, t: Tally): string {
  return t.requests > 0 ? (micros / t.requests).toFixed(0) : '-';
}

if (import.meta.main) await benchWebhookIngest();

/**
 * The record floor of the ingest benchmark: the least a receiver can do and still keep remediator's receive contract
 * (a 202 only once each alert's episode, with its delivery counter and last-seen time, its run with a `started`
 * decision, and the run's job are in Redis). It is the floor (bench/floor-server.ts) plus the store's ingest script
 * (RunStore.ingestFiring, the one `serve` uses), and nothing of the receiver's own work: no auth, no validation, no
 * playbooks (every firing alert gets one run of a fixed playbook), no fleet counts, no per-alert answer. A repeat
 * claims its episode's run by id, as the receiver does for episodes it saw stored.
 *
 * Beside the floor it shows what the contract's records cost on this store; beside the receiver, what the receiver's
 * own work costs. Run as its own process by bench/webhook-ingest.ts:
 * `node bench/record-floor-server.ts <redis-url> <port> <prefix>`; answers GET /healthz once listening.
 */
import Fastify from 'fastify';
import { RunStore, type FiringClaim } from '../src/store/run-store.ts';
import { redisConnector } from '../src/store/redis-connection.ts';
import { BullmqRunQueue } from '../src/queue/bullmq-run-queue.ts';
import { RunWakes } from '../src/queue/run-wakes.ts';
import { episodeId, toAlertView } from '../src/alerts/episode.ts';
import { newRunId } from '../src/store/run-id.ts';
import type { WebhookPayload } from '../src/alerts/alertmanager-payload.ts';

const [redisUrl, port, prefix = 'record'] = process.argv.slice(2);
// The receiver's own command connection (auto-pipelined, fail-fast), built by the same factory.
const redis = redisConnector({ url: redisUrl! }).command('2s');
const store = new RunStore(redis, prefix, { retentionMs: 30 * 24 * 3600_000 });
const queue = new BullmqRunQueue({ connection: redis, prefix, name: store.keys.runQueue(), wakes: new RunWakes(redis, store.keys) });
/** Episode → its stored run id (the receiver keeps the same, bounded; a benchmark's few episodes need no bound). */
const known = new Map<string, string>();
const PLAYBOOK = 'service-down';
const app = Fastify({ logger: false, bodyLimit: 16 * 2 ** 20 });

app.get('/healthz', async () => ({ ok: true }));
app.post<{ Body: WebhookPayload }>('/v1/alertmanager', async (req, reply) => {
  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  const claim = (): FiringClaim[] => {
    const claims: FiringClaim[] = [];
    for (const raw of req.body.alerts) {
      if (raw.status !== 'firing') continue;
      const alert = toAlertView(raw, req.body);
      const ep = episodeId(alert.fingerprint, alert.startsAt);
      const unmatched = { at: now, reason: 'unmatched' as const, episodeId: ep, message: '' };
      const runId = known.get(ep);
      if (runId) {
        claims.push({ episodeId: ep, alert, unmatched, runs: [{ known: { runId, playbook: PLAYBOOK } }] });
        continue;
      }
      const id = newRunId(nowMs);
      const record = { id, playbook: PLAYBOOK, createdAt: now, trigger: 'alert' as const, episodeId: ep, params: {}, dryRun: false };
      const started = { at: now, reason: 'started' as const, playbook: PLAYBOOK, runId: id, episodeId: ep, message: `started ${PLAYBOOK}` };
      claims.push({ episodeId: ep, alert, unmatched, runs: [{ record, started }] });
    }
    return claims;
  };
  let claims = claim();
  let ingested = await store.ingestFiring(claims, now);
  if (ingested.unknown) {
    // The store lost a run this process saw (the benchmark flushes Redis between rounds): claim again, as `serve` does.
    for (const ep of ingested.unknown) known.delete(ep);
    claims = claim();
    ingested = await store.ingestFiring(claims, now);
  }
  const results = ingested.runs.map((r) => r[0]!);
  for (let c = 0; c < results.length; c++) known.set(claims[c]!.episodeId, results[c]!.runId);
  await queue.enqueueMany(results.filter((r) => r.enqueue).map((r) => r.runId));
  return reply.code(202).send({ accepted: req.body.alerts.length });
});

await app.listen({ host: '127.0.0.1', port: Number(port) });
const stop = async () => {
  await app.close();
  await queue.close();
  redis.disconnect();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());

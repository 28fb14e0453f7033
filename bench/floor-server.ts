/**
 * The floor of the ingest benchmark: the least a receiver can do and still keep an alert durably. A bare Fastify
 * route that parses the body and does one BullMQ `add` per alert with the episode as jobId (so a repeat is a no-op
 * add), then answers 202. No validation, no auth, no playbooks, no records. Run as its own process by
 * bench/webhook-ingest.ts: `node bench/floor-server.ts <redis-url> <port> <prefix>`; answers GET /healthz once listening.
 */
import Fastify from 'fastify';
import { Queue } from 'bullmq';

const [redisUrl, port, prefix] = process.argv.slice(2);
const queue = new Queue('runs', {
  prefix: prefix ?? 'floor',
  connection: { url: redisUrl!, enableOfflineQueue: false, maxRetriesPerRequest: 1 },
});
const app = Fastify({ logger: false, bodyLimit: 16 * 2 ** 20 });

interface Body {
  alerts: Array<{ fingerprint: string; startsAt: string }>;
}

app.get('/healthz', async () => ({ ok: true }));
app.post<{ Body: Body }>('/v1/alertmanager', async (req, reply) => {
  await Promise.all(
    req.body.alerts.map((a) => {
      const episode = `ep-${a.fingerprint}-${Date.parse(a.startsAt)}`;
      return queue.add('run', { episode }, { jobId: episode, removeOnComplete: true });
    }),
  );
  return reply.code(202).send({ accepted: req.body.alerts.length });
});

await app.listen({ host: '127.0.0.1', port: Number(port) });
const stop = async () => {
  await app.close();
  await queue.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { spawnBinary, type BinaryProcess } from './binary-process.ts';
import { freePort } from './free-port.ts';

/**
 * Replicated Redis from Debian's packages (redis-server, redis-sentinel, redis-cli) on free loopback ports, for the
 * tests and the benchmark: a Sentinel set (one master, replicas, sentinels) or a Cluster (masters with replicas).
 * Every wait is on observed state (replication links up, sentinels knowing each other, all slots covered); `stop()`
 * kills every process by PID and removes the folder.
 */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

interface Node {
  port: number;
  proc: BinaryProcess;
}

export interface RedisSentinelSet {
  /** `redis` settings for remediator's config (without prefix). */
  settings: { url: string; sentinel: { sentinels: RedisNodeAddress[]; name: string } };
  masterName: string;
  /** The port of the master the sentinels report now. */
  masterPort(): Promise<number>;
  /**
   * SIGKILLs the current master (it is not restarted), has the sentinels fail over, and resolves once a replica is
   * the master every sentinel names and the other replicas replicate from it. `killedAt`: when the master was dead
   * (epoch ms); `settledAt`: when the set had settled on the promoted one.
   */
  killMaster(): Promise<{ old: number; promoted: number; killedAt: number; settledAt: number }>;
  stop(): Promise<void>;
}

export interface RedisClusterSet {
  settings: { url: string; cluster: { nodes: RedisNodeAddress[] } };
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Longer than any stall of a loaded test machine, shorter than a test: see spawnRedisSentinel. */
const DOWN_AFTER_MS = 60_000;

function serverArgs(port: number, dir: string, extra: string[] = []): string[] {
  return [
    '--bind',
    HOST,
    '--port',
    String(port),
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--maxmemory-policy',
    'noeviction',
    '--loglevel',
    'warning',
    ...extra,
  ];
}

async function startNode(root: string, name: string, port: number, extra: string[] = []): Promise<Node> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const proc = await spawnBinary({ command: 'redis-server', args: serverArgs(port, dir, extra), debianPackage: 'redis-server' });
  // Listening only once it answers: `redis-cli --cluster create` (and the sentinels) connect right after, and a node
  // still starting up refuses them.
  await until(`redis-server ${name} answering on port ${port}`, async () => ((await ask(port, 'PING')) === 'PONG' ? true : undefined));
  return { port, proc };
}

/** Polls `probe` until it returns a value (not undefined); fails with `what` and the last error after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

/** One command against one server on a short-lived connection (no retries: a probe). */
async function ask(port: number, ...args: string[]): Promise<unknown> {
  const r = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: true,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.call(args[0]!, ...args.slice(1));
  } finally {
    r.disconnect();
  }
}

/** One field of a `SENTINEL MASTER` answer (a flat field/value list). */
const masterField = (reply: string[], name: string) => String(reply[reply.indexOf(name) + 1] ?? '');

/** Replicas a master's `INFO replication` lists as online (synced, streaming). */
const onlineReplicas = (info: string) => (info.match(/^slave\d+:.*state=online/gm) ?? []).length;

const field = (info: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();

async function stopAll(nodes: Array<Node | undefined>, root: string): Promise<void> {
  await Promise.all(nodes.map((n) => n?.proc.stop(500)));
  await rm(root, { recursive: true, force: true });
}

/**
 * Listens on a port that was just freed, answering every connection by closing it; undefined if something else took
 * the port first (the kill-to-listen gap is a few milliseconds).
 */
async function holdPort(port: number): Promise<Server | undefined> {
  const server = createServer((socket) => socket.destroy());
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, HOST, () => resolve(server));
  });
}

/**
 * One master, `replicas` replicas and `sentinels` sentinels (quorum: a majority).
 *
 * Failovers happen when the test says so, not when the sentinels guess: `killMaster` kills the master and asks a
 * sentinel for the failover (`SENTINEL FAILOVER`), which promotes a replica and reconfigures the others exactly as a
 * detected failure does. Detection itself is slow (down-after 60 s) on purpose: with a short one, a freshly promoted
 * master that stalls for a second on a loaded 2-CPU machine (resyncing the other replica while every client
 * reconnects) is declared down too, and a second failover the test never asked for throws away what was written to
 * the first promoted master (seen: the escalation pops of a whole storm, and then 93 pages sent twice).
 *
 * The master's name is unique to the set unless given: sentinels find each other through hello messages on the
 * instances they monitor, and take those of every sentinel that monitors a master of the same name. The sentinels of
 * another set on the machine (another test file, at the same time) keep reconnecting to the addresses of their
 * stopped or killed instances; when a port of theirs is reused by this set, a shared name would make them members of
 * it, and it would never count the sentinels it expects.
 */
export async function spawnRedisSentinel(
  options: { replicas?: number; sentinels?: number; masterName?: string } = {},
): Promise<RedisSentinelSet> {
  const replicas = options.replicas ?? 2;
  const count = options.sentinels ?? 3;
  const name = options.masterName ?? `remediator-${randomBytes(4).toString('hex')}`;
  const root = await mkdtemp(join(tmpdir(), 'remediator-sentinel-'));
  const nodes: Node[] = [];
  const sentinels: Node[] = [];
  const held: Server[] = [];
  // The sentinels first: alive, they would keep reconnecting to the addresses of the stopped servers, which another
  // set or test may take meanwhile. The killed masters' ports are let go only after them.
  const stop = async () => {
    await Promise.all(sentinels.map((s) => s.proc.stop(500)));
    await stopAll(nodes, root);
    await Promise.all(held.splice(0).map((h) => new Promise((resolve) => h.close(resolve))));
  };
  try {
    const master = await startNode(root, 'master', await freePort());
    nodes.push(master);
    for (let i = 0; i < replicas; i++)
      nodes.push(await startNode(root, `replica${i}`, await freePort(), ['--replicaof', HOST, String(master.port)]));
    await until('the replicas syncing with the master', async () => {
      const info = String(await ask(master.port, 'INFO', 'replication'));
      return onlineReplicas(info) === replicas ? true : undefined;
    });
    const quorum = Math.floor(count / 2) + 1;
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const dir = join(root, `sentinel${i}`);
      await mkdir(dir, { recursive: true });
      // Each sentinel rewrites its own config file (it refuses to start without a writable one).
      const conf = join(dir, 'sentinel.conf');
      await writeFile(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          'daemonize no',
          'loglevel warning',
          `sentinel monitor ${name} ${HOST} ${master.port} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} ${replicas}`,
          '',
        ].join('\n'),
      );
      sentinels.push({ port, proc: await spawnBinary({ command: 'redis-sentinel', args: [conf], debianPackage: 'redis-sentinel' }) });
    }
    // A failover needs a majority of sentinels that know each other and the replicas (hello messages, every 2 s).
    await until('the sentinels discovering each other and the replicas', async () => {
      for (const s of sentinels) {
        const others = (await ask(s.port, 'SENTINEL', 'SENTINELS', name)) as unknown[];
        const reps = (await ask(s.port, 'SENTINEL', 'REPLICAS', name)) as unknown[];
        if (others.length !== count - 1 || reps.length !== replicas) return undefined;
      }
      return true;
    });
  } catch (err) {
    await stop();
    throw err;
  }

  const masterPort = async (): Promise<number> => {
    for (const s of sentinels) {
      try {
        const addr = (await ask(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
        return Number(addr[1]);
      } catch {
        /* ask the next one */
      }
    }
    throw new Error('no sentinel answers');
  };

  return {
    settings: {
      url: `redis://${HOST}:${nodes[0]!.port}`,
      sentinel: { sentinels: sentinels.map((s) => ({ host: HOST, port: s.port })), name },
    },
    masterName: name,
    masterPort,
    async killMaster() {
      const old = await masterPort();
      const node = nodes.find((n) => n.port === old)!;
      node.proc.child.kill('SIGKILL');
      await node.proc.exited();
      const killedAt = Date.now();
      // The sentinels keep the killed master as a replica to reconfigure when it comes back, and keep connecting to its
      // address. Held here, the port cannot go to another test's redis-server, which they would make a replica.
      const hold = await holdPort(old);
      if (hold) held.push(hold);
      // The failover, from one sentinel (it publishes the new configuration to the others). Retried while it refuses:
      // -NOGOODSLAVE until it has seen a replica answer since the kill, -INPROG never here.
      await until('a sentinel accepting the failover', async () => {
        for (const s of sentinels) {
          try {
            if ((await ask(s.port, 'SENTINEL', 'FAILOVER', name)) === 'OK') return true;
          } catch {
            /* the next one */
          }
        }
        return undefined;
      });
      // Done once settled: every sentinel names the same new master and none has a failover in progress, and that
      // server is a master whose other replicas are online again. Writes after this are replicated before WAIT answers.
      const promoted = await until(
        'the sentinels promoting a replica and the set settling',
        async () => {
          const seen = new Set<number>();
          for (const s of sentinels) {
            const master = (await ask(s.port, 'SENTINEL', 'MASTER', name)) as string[];
            if (masterField(master, 'flags').split(',').includes('failover_in_progress')) return undefined;
            seen.add(Number(masterField(master, 'port')));
          }
          const [port] = seen;
          if (seen.size !== 1 || port === old) return undefined;
          const info = String(await ask(port!, 'INFO', 'replication'));
          return field(info, 'role') === 'master' && onlineReplicas(info) === replicas - 1 ? port : undefined;
        },
        60_000,
      );
      return { old, promoted: promoted!, killedAt, settledAt: Date.now() };
    },
    stop,
  };
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10000 > 65535 || taken.has(port) || taken.has(port + 10000)) continue;
    const busFree = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port + 10000, HOST, () => srv.close(() => resolve(true)));
    });
    if (busFree) {
      taken.add(port);
      taken.add(port + 10000);
      return port;
    }
  }
}

/** `masters` masters with `replicasPerMaster` replicas each, created with `redis-cli --cluster create`. */
export async function spawnRedisCluster(options: { masters?: number; replicasPerMaster?: number } = {}): Promise<RedisClusterSet> {
  const masters = options.masters ?? 3;
  const perMaster = options.replicasPerMaster ?? 1;
  const root = await mkdtemp(join(tmpdir(), 'remediator-cluster-'));
  const nodes: Node[] = [];
  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters * (1 + perMaster); i++) {
      const port = await freeClusterPort(taken);
      nodes.push(
        await startNode(root, `node${i}`, port, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ]),
      );
    }
    const create = spawn(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`), '--cluster-replicas', String(perMaster), '--cluster-yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    create.stdout.on('data', (d: Buffer) => (out += d.toString()));
    create.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      create.once('error', (err) => reject(new Error(`cannot run redis-cli (apt-get install redis-tools): ${err.message}`)));
      create.once('exit', resolve);
    });
    if (code !== 0 || !out.includes('All 16384 slots covered'))
      throw new Error(`redis-cli --cluster create failed (${code}): ${out.slice(-2000)}`);
    // Every node agrees the cluster is ok, and every replica's link to its master is up (WAIT counts on them).
    await until('the cluster converging', async () => {
      for (const n of nodes) {
        if (field(String(await ask(n.port, 'CLUSTER', 'INFO')), 'cluster_state') !== 'ok') return undefined;
        const info = String(await ask(n.port, 'INFO', 'replication'));
        if (field(info, 'role') === 'slave' && field(info, 'master_link_status') !== 'up') return undefined;
      }
      return true;
    });
  } catch (err) {
    await stopAll(nodes, root);
    throw err;
  }
  return {
    settings: { url: `redis://${HOST}:${nodes[0]!.port}`, cluster: { nodes: nodes.map((n) => ({ host: HOST, port: n.port })) } },
    stop: () => stopAll(nodes, root),
  };
}

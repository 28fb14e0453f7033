import type { Cluster } from 'ioredis';

/**
 * Makes an ioredis Cluster's `disconnect()` always end it, for the cluster and every duplicate made of it.
 *
 * Why (docs/contracts.md §4.1): in ioredis 6.0 a `disconnect()` made while the cluster is still `connecting`
 * (resolving its startup nodes) is lost. The status turns `disconnecting`, the connection pool is still empty so no node ever ends, the pending
 * connect is discarded, and the cluster never emits `close` or `end`. BullMQ's `Worker.close()` waits for that `end`
 * on the worker's blocking connection (a duplicate of the client it was given, which it reconnects between blocking
 * calls), so a service closing at that moment never finished closing and its timers kept the process alive.
 *
 * The fix keeps to public calls: a disconnect asked for while connecting waits until the cluster is `ready`, then
 * disconnects it; if the cluster gives up connecting instead (its retry strategy stops once the owner closes), it
 * ends by itself. Duplicates (BullMQ makes its connections with `duplicate()`) get the same treatment.
 */
export function closableCluster<C extends Cluster>(cluster: C): C {
  const disconnect = cluster.disconnect.bind(cluster);
  const duplicate = cluster.duplicate.bind(cluster);
  cluster.disconnect = (reconnect = false): void => {
    if (reconnect || cluster.status !== 'connecting') {
      disconnect(reconnect);
      return;
    }
    const settle = (): void => {
      cluster.off('ready', settle);
      cluster.off('end', settle);
      if (cluster.status !== 'end') disconnect(false);
    };
    cluster.once('ready', settle);
    cluster.once('end', settle);
  };
  cluster.duplicate = ((...args: Parameters<Cluster['duplicate']>) => closableCluster(duplicate(...args))) as C['duplicate'];
  return cluster;
}

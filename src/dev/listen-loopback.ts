import type { Server } from 'node:http';

export interface LoopbackListener {
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Closes the listener and every open connection (keep-alive included). Idempotent. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 on a port the kernel picks (port 0): an in-process server needs no `freePort()` first, and so
 * no retry for a port taken in between. Never binds another address.
 */
export async function listenOnLoopback(server: Server): Promise<LoopbackListener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

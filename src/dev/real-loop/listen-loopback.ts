import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from '../free-port.ts';

export interface LoopbackListener {
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Closes the listener and every open connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Listens on a free 127.0.0.1 port. Another process may take the port between freePort() and listen(), so an
 * "address in use" is retried on a new port (three tries). `close()` also ends keep-alive connections.
 */
export async function listenOnLoopback(server: Server): Promise<LoopbackListener> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  for (let tries = 1; ; tries++) {
    const port = await freePort();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      let closed: Promise<void> | undefined;
      return {
        port,
        url: `http://127.0.0.1:${port}`,
        close() {
          closed ??= new Promise<void>((resolve) => {
            server.close(() => resolve());
            for (const s of sockets) s.destroy();
          });
          return closed;
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 3) throw err;
    }
  }
}

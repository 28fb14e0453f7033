import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';
import { SIM_TLS_CERT, SIM_TLS_KEY } from './tls-fixture.ts';

/**
 * One loopback port that speaks both plain HTTP and HTTPS: the first byte of a connection decides (0x16 starts a TLS
 * handshake). Plain http is what tests and client-node use; kubectl needs TLS because it will not send a bearer token
 * over plain http.
 */
export interface DualListener {
  close(): Promise<void>;
}

export async function listenDual(port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<DualListener> {
  const http = createHttpServer(handler);
  const https = createHttpsServer({ key: SIM_TLS_KEY, cert: SIM_TLS_CERT }, handler);
  http.keepAliveTimeout = 5_000;
  https.keepAliveTimeout = 5_000;
  const sockets = new Set<Socket>();
  const net = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === 0x16 ? https : http).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        net.close(() => resolve());
        for (const s of sockets) s.destroy();
        http.closeAllConnections();
      }),
  };
}

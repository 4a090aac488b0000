/**
 * The one Node loopback-listener helper: `login`'s callback receiver, the emulator's port and
 * the token server's Node adapter all bind a `node:http` server the same way and report the
 * same URL. Internal to the Node-only parts; nothing here is Spotify logic, so the emulator
 * may share it while importing nothing of the library.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where a server listens. */
export interface BoundAddress {
  /** `http://host:port`, IPv6 hosts in brackets: ready to use as a base URL. */
  url: string;
  /** The port actually bound (the one picked when `0` was asked for). */
  port: number;
}

/**
 * Binds `server` to `host:port` and resolves once it listens; rejects with the listen
 * error (e.g. `EADDRINUSE`) instead of emitting it.
 */
export async function bindServer(
  server: Server,
  port: number,
  host: string,
): Promise<BoundAddress> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${shownHost}:${address.port}`, port: address.port };
}

/** Stops accepting connections and cuts the open ones, keep-alive included, at once. */
export function closeNow(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    server.closeAllConnections();
  });
}

import type { Server } from 'node:http';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { bindServer, closeNow } from '../node/internal.js';
import { EmulatorDroppedConnection } from './_faults.js';

/** The interface {@link Emulator.listen} binds when given none: loopback only. */
export const DEFAULT_EMULATOR_HOST = '127.0.0.1';

/** Options of {@link Emulator.listen}. */
export interface ListenOptions {
  /**
   * TCP port; `0` picks a free one (read it from the result).
   * @default 0
   */
  port?: number;
  /**
   * Interface to bind. Keep a loopback address: the emulator is a test double
   * with well-known demo secrets. Besides loopback names, the control API
   * (`/__emulator/*`) answers requests addressed to this host (unless it is a
   * wildcard such as `0.0.0.0`).
   * @default '127.0.0.1'
   */
  host?: string;
}

/** A running emulator server. */
export interface EmulatorServer {
  /** Base URL, e.g. `http://127.0.0.1:4510`: use it as a library's `accountsUrl`. */
  url: string;
  /** The bound port. */
  port: number;
  /** Stops the server and closes every connection, keep-alive ones included. */
  close(): Promise<void>;
}

/** Serves `fetchHandler` over HTTP/1.1 with @hono/node-server. */
export async function listenOn(
  fetchHandler: (request: Request) => Promise<Response>,
  options: ListenOptions = {},
): Promise<EmulatorServer> {
  const host = options.host ?? DEFAULT_EMULATOR_HOST;
  const server = createAdaptorServer({
    fetch: async (request: Request, env: HttpBindings | unknown) => {
      try {
        return await fetchHandler(request);
      } catch (error) {
        if (error instanceof EmulatorDroppedConnection) {
          // The fault: close the TCP connection without a byte of answer.
          (env as HttpBindings).incoming.socket.destroy();
          return new Response(null, { status: 204 });
        }
        throw error;
      }
    },
  }) as Server;

  const { url, port } = await bindServer(server, options.port ?? 0, host);
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= closeNow(server);
      return closing;
    },
  };
}

/**
 * Running the token server on Node: an HTTP listener (@hono/node-server), Redis-shared
 * rate limits when a URL is given, Prometheus metrics, and a graceful shutdown that lets
 * in-flight requests finish.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { serve } from '@hono/node-server';
import { resolveLogger, type TokenServerOptions } from './_options.js';
import { COMMON_HEADERS } from './_responses.js';
import { createPrometheusMetrics } from './prometheus.js';
import { createRedisRateLimitStore } from './redis.js';
import { createTokenServer, type TokenServer } from './token-server.js';

export { createPrometheusMetrics, type PrometheusMetricsOptions } from './prometheus.js';
export {
  createRedisRateLimitStore,
  type RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
} from './redis.js';

/** Options of {@link serveTokenServer}: the token server's, plus where to listen. */
export interface ServeTokenServerOptions extends TokenServerOptions {
  /**
   * Interface to listen on. `0.0.0.0` (or `::`) to accept connections from other machines.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Port; `0` picks a free one (see the returned `port`).
   * @default 3000
   */
  port?: number;
  /**
   * Redis URL for rate limits shared between instances; ignored when `rateLimitStore` is set.
   * @default undefined (per-process limits)
   */
  redisUrl?: string;
  /**
   * Milliseconds `close()` waits for in-flight requests before cutting connections.
   * @default 10_000
   */
  shutdownGracePeriod?: number;
}

/** A listening token server. */
export interface RunningTokenServer {
  /** `http://host:port` */
  url: string;
  /** The port actually bound. */
  port: number;
  /** The token server behind the listener. */
  tokenServer: TokenServer;
  /** The Node HTTP server. */
  server: Server;
  /**
   * Graceful stop: `/readyz` turns 503, no new connections are accepted, in-flight
   * requests finish (up to the grace period, then connections are cut), Redis is closed.
   */
  close(): Promise<void>;
}

/**
 * Starts the token server on a port.
 *
 * ```ts
 * const running = await serveTokenServer({ clientId, clientSecret, redirectUris,
 *   encryptionKeys: process.env.TOKEN_ENCRYPTION_KEYS, port: 3000 });
 * process.once('SIGTERM', () => running.close().then(() => process.exit(0)));
 * ```
 */
export async function serveTokenServer(
  options: ServeTokenServerOptions,
): Promise<RunningTokenServer> {
  const { host = '127.0.0.1', port = 3000, redisUrl, shutdownGracePeriod = 10_000 } = options;
  const tokenOptions: TokenServerOptions = { ...options };
  for (const key of ['host', 'port', 'redisUrl', 'shutdownGracePeriod'] as const) {
    delete (tokenOptions as Partial<ServeTokenServerOptions>)[key];
  }
  const logger = resolveLogger(options.logger);
  const rateLimitStore =
    options.rateLimitStore ??
    (redisUrl === undefined ? undefined : createRedisRateLimitStore({ url: redisUrl, logger }));
  let tokenServer: TokenServer;
  try {
    tokenServer = createTokenServer({
      ...tokenOptions,
      logger,
      metrics: options.metrics ?? createPrometheusMetrics(),
      ...(rateLimitStore === undefined ? {} : { rateLimitStore }),
    });
  } catch (error) {
    await rateLimitStore?.close();
    throw error;
  }

  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve({ fetch: tokenServer.fetch, hostname: host, port }, () =>
      resolve(created as Server),
    ) as Server;
    created.once('error', reject);
  });
  // Requests Node cannot parse never reach the handler; Node would answer them with a bare
  // status line. Answer JSON with the usual headers there too (the SDKs parse every answer).
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({
      error: 'invalid_request',
      error_description: tooLarge ? 'Request headers are too large' : 'Malformed HTTP request',
    });
    const headers = Object.entries(COMMON_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `${headers.join('')}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  tokenServer.logger.info({ url }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      tokenServer.drain();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections go idle as their last response is sent: close them then.
      const sweeper = setInterval(() => server.closeIdleConnections(), 25);
      sweeper.unref();
      server.closeIdleConnections();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), shutdownGracePeriod);
        timer.unref();
      });
      if ((await Promise.race([closed, timedOut])) === 'timeout') {
        tokenServer.logger.warn('grace period over: closing remaining connections');
        server.closeAllConnections();
        await closed;
      }
      clearTimeout(timer);
      clearInterval(sweeper);
      await tokenServer.close();
      tokenServer.logger.info('stopped');
    })();
    return closing;
  };
  return { url, port: address.port, tokenServer, server, close };
}

/**
 * Stops `running` gracefully on SIGTERM or SIGINT, then exits with code 0 (1 when the
 * shutdown itself failed). Returns a function that removes the handlers.
 */
export function closeOnSignals(running: Pick<RunningTokenServer, 'close'>): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal}: finishing in-flight requests, then exiting\n`);
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}

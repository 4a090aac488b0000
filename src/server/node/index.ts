/**
 * Running the token server on Node: an HTTP listener (@hono/node-server), Redis-shared
 * rate limits when a URL is given, Prometheus metrics, and a graceful shutdown that lets
 * in-flight requests finish.
 */
import { createServer, type Server } from 'node:http';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import type { Logger } from 'pino';
import { ConfigurationError } from '../../core/errors/index.js';
import { type BoundAddress, bindServer } from '../../node/_listen.js';
import { stdoutLogDestination, writeBestEffort } from '../../node/_stdio.js';
import { resolveLogger } from '../_resolve-options.js';
import { json } from '../_responses.js';
import type { TokenServerOptions } from '../options.js';
import { resolveSetting, SETTING_ROWS, settingRelationProblems } from '../settings.js';
import {
  createTokenServerWith,
  type DirectTokenRoutes,
  type TokenServer,
} from '../token-server.js';
import { directTokenListener, hostRoute } from './_direct-routes.js';
import { installRawAnswers } from './_raw-answers.js';
import { createNodeUpstream } from './_upstream.js';
import { createNodeAead } from './aead.js';
import { createPrometheusMetrics } from './prometheus.js';
import { createRedisRateLimitStore } from './redis.js';

export { createNodeAead } from './aead.js';
export { createPrometheusMetrics, type PrometheusMetricsOptions } from './prometheus.js';
export {
  createRedisRateLimitStore,
  type RedisRateLimitClient,
  type RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
} from './redis.js';

/** Options of {@link serveTokenServer}: the token server's, plus where and how to listen. */
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
   * With `redisUrl`: milliseconds one rate-limit check waits for Redis before counting in
   * memory (see `createRedisRateLimitStore`'s `commandTimeout`).
   * @default 50
   */
  redisCommandTimeout?: number;
  /**
   * Milliseconds `close()` keeps answering (with `/readyz` at 503 `draining`) before it
   * stops accepting connections, so a load balancer sees the instance leave and stops
   * sending first. Set it to your balancer's health-check interval × unhealthy threshold.
   * @default 0
   */
  drainDelay?: number;
  /**
   * Milliseconds `close()` then waits for in-flight requests before cutting connections.
   * @default 10_000
   */
  shutdownGracePeriod?: number;
  /**
   * Milliseconds a client has to send the request line and headers (Node's
   * `headersTimeout`); a slower client gets `408` and the connection is closed.
   * @default 10_000
   */
  headersTimeout?: number;
  /**
   * Milliseconds a client has to send the whole request, body included (Node's
   * `requestTimeout`): a body dripped byte by byte gets `408`. It does not limit how long
   * the answer takes (that is `upstreamTimeout`).
   * @default 30_000
   */
  requestTimeout?: number;
  /**
   * Milliseconds an idle keep-alive connection stays open. Behind a load balancer, make it
   * longer than the balancer's own idle timeout.
   * @default 5_000
   */
  keepAliveTimeout?: number;
  /**
   * Requests served on one connection before it is closed (`Connection: close`); `0` =
   * no limit.
   * @default 1_000
   */
  maxRequestsPerSocket?: number;
  /**
   * Most connections open at once; further ones are closed at once, unanswered, until
   * some close. Keep it below the process's open-file limit (`ulimit -n`).
   * @default 1_000
   */
  maxConnections?: number;
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
   * Graceful stop: `/readyz` turns 503 `draining`; after `drainDelay` no new connections
   * are accepted, in-flight requests finish (up to `shutdownGracePeriod`, then
   * connections are cut), Redis is closed.
   */
  close(): Promise<void>;
}

/** The listener's settings: the settings table's `listener` rows, by option name. */
type ListenerSettings = Omit<
  Required<Omit<ServeTokenServerOptions, keyof TokenServerOptions>>,
  'redisUrl'
> & { redisUrl: string | undefined };

/** The table's rows of the listener's options (`host`, `port`, `redisUrl`, the timeouts…). */
const LISTENER_ROWS = SETTING_ROWS.filter((row) => row.part === 'listener');

/** Each listener option checked by its row, or its default (`redisUrl` may stay unset). */
function resolveListenerSettings(options: ServeTokenServerOptions): ListenerSettings {
  const given = options as unknown as Readonly<Record<string, unknown>>;
  const settings: Record<string, unknown> = {};
  for (const row of LISTENER_ROWS) {
    const option = row.option as string;
    settings[option] = resolveSetting(row, given[option], option);
  }
  // Node refuses headersTimeout > requestTimeout; say so, naming the options, instead.
  const [related] = settingRelationProblems(
    (row) => settings[row.option as string],
    (row) => row.option as string,
  );
  if (related !== undefined) throw new ConfigurationError(related.name, related.message);
  return settings as ListenerSettings;
}

const malformed = () =>
  json(
    400,
    { error: 'invalid_request', error_description: 'Malformed HTTP request' },
    { Connection: 'close' },
  );

/**
 * The neutral handler, given Node's socket address as `env.clientIp`. A request the `Host`
 * rule calls malformed (HTTP/1.1 without one) is refused here, in JSON.
 */
function nodeHandler(tokenServer: TokenServer) {
  return (request: Request, env: HttpBindings) => {
    const { incoming } = env;
    if (hostRoute(incoming.headers.host, incoming.httpVersion) === 'malformed') {
      return malformed();
    }
    return tokenServer.fetch(request, { ...env, clientIp: incoming.socket.remoteAddress });
  };
}

/**
 * Starts the token server on a port.
 *
 * ```ts
 * const running = await serveTokenServer({ clientId, clientSecret, redirectUris,
 *   encryptionKeys: process.env.TOKEN_ENCRYPTION_KEYS, port: 3000 });
 * process.once('SIGTERM', () => running.close().then(() => process.exit(0)));
 * ```
 *
 * @throws ConfigurationError for options that cannot work (naming the option).
 */
export async function serveTokenServer(
  options: ServeTokenServerOptions,
): Promise<RunningTokenServer> {
  const settings = resolveListenerSettings(options);
  const { host, port, redisUrl } = settings;
  const tokenOptions: TokenServerOptions = { ...options };
  for (const row of LISTENER_ROWS) {
    delete (tokenOptions as unknown as Record<string, unknown>)[row.option as string];
  }
  const logger = resolveLogger(options.logger, stdoutLogDestination);
  const metrics = options.metrics ?? createPrometheusMetrics();
  let rateLimitStore = options.rateLimitStore;
  if (rateLimitStore === undefined && redisUrl !== undefined) {
    metrics.observeRateLimitStore?.('redis', 'down');
    rateLimitStore = createRedisRateLimitStore({
      url: redisUrl,
      logger,
      commandTimeout: settings.redisCommandTimeout,
      onStatusChange: (status) => metrics.observeRateLimitStore?.('redis', status),
    });
  }
  const upstream = createNodeUpstream();
  let tokenServer: TokenServer;
  let direct: DirectTokenRoutes | undefined;
  try {
    // Node's faster parts, same behaviour: node:crypto AES-GCM, a keep-alive upstream client.
    ({ server: tokenServer, direct } = createTokenServerWith(
      {
        ...tokenOptions,
        logger,
        metrics,
        ...(rateLimitStore === undefined ? {} : { rateLimitStore }),
      },
      { aead: createNodeAead(), fetch: upstream.fetch },
    ));
  } catch (error) {
    await rateLimitStore?.close();
    throw error;
  }

  const fetchListener = getRequestListener(nodeHandler(tokenServer) as never, {
    hostname: host,
    // Requests @hono/node-server refuses before the handler (bad Host, `*` target,
    // backslash in the path): JSON like every other answer.
    errorHandler: () => malformed(),
  });
  // The token routes skip the web Request/Response objects (same routes, same answers).
  const listener =
    direct === undefined ? fetchListener : directTokenListener(direct, fetchListener);
  const server = createServer(
    {
      headersTimeout: settings.headersTimeout,
      requestTimeout: settings.requestTimeout,
      keepAliveTimeout: settings.keepAliveTimeout,
      // Node checks the two timeouts on this interval (30 s by default): check often
      // enough for the timeouts to mean what they say.
      connectionsCheckingInterval: Math.min(1_000, settings.headersTimeout),
      // A missing Host is refused by nodeHandler, in JSON, instead of Node's empty 400.
      requireHostHeader: false,
    },
    listener,
  );
  server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
  server.maxConnections = settings.maxConnections;
  installRawAnswers(server);
  // Connections over maxConnections are closed by Node before any byte is read; say so,
  // at most once a minute, with how many.
  let dropped = 0;
  let lastDropLog = Number.NEGATIVE_INFINITY;
  server.on('drop', () => {
    dropped++;
    const now = performance.now();
    if (now - lastDropLog < 60_000) return;
    lastDropLog = now;
    tokenServer.logger.warn(
      { maxConnections: settings.maxConnections, dropped },
      'connection limit reached: new connections are closed unanswered',
    );
    dropped = 0;
  });
  let bound: BoundAddress;
  try {
    bound = await bindServer(server, port, host);
  } catch (error) {
    // e.g. EADDRINUSE: release Redis and timers before the caller reports it.
    await tokenServer.close();
    throw error;
  }
  const { url } = bound;
  tokenServer.logger.info({ url }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      tokenServer.drain();
      if (settings.drainDelay > 0) {
        tokenServer.logger.info(
          { drainDelayMs: settings.drainDelay },
          'draining: /readyz answers 503 before the listener closes',
        );
        await new Promise((resolve) => setTimeout(resolve, settings.drainDelay));
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections go idle as their last response is sent: close them then.
      const sweeper = setInterval(() => server.closeIdleConnections(), 25);
      sweeper.unref();
      server.closeIdleConnections();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), settings.shutdownGracePeriod);
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
      upstream.close();
      tokenServer.logger.info('stopped');
    })();
    return closing;
  };
  return { url, port: bound.port, tokenServer, server, close };
}

/**
 * Stops `running` gracefully on SIGTERM or SIGINT, then exits with code 0 (1 when the
 * shutdown itself failed). The notice is a JSON log line on `logger` (the server's own,
 * when `running` is a {@link RunningTokenServer}), like every other line the server
 * writes. Returns a function that removes the handlers.
 */
export function closeOnSignals(
  running: Pick<RunningTokenServer, 'close'> & { tokenServer?: { logger: Logger } },
  logger: Logger | undefined = running.tokenServer?.logger,
): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (logger === undefined) {
      writeBestEffort(process.stderr, `${signal}: finishing in-flight requests, then exiting\n`);
    } else logger.info({ signal }, 'finishing in-flight requests, then exiting');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger?.error(
          { err: { name: (error as Error)?.name, message: (error as Error)?.message } },
          'shutdown failed',
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}

/**
 * The token swap and refresh service for Spotify's mobile SDKs (https://developer.spotify.com/documentation/ios/concepts/token-swap-and-refresh) as a Hono
 * fetch handler. Web-standard globals only, so it runs on Node, Deno, Bun and Workers; the
 * Node listener, Redis and Prometheus live in their own files, and on Node the adapter
 * injects faster parts (a `node:crypto` AES-GCM, a keep-alive upstream client) through
 * {@link createTokenServerWith}.
 *
 * Middleware, in order: request id + headers + access log + metrics (`_request-log.ts`),
 * CORS (optional), the per-IP limit (`_rate-limit-middleware.ts`), then the routes
 * (`_swap.ts`, `_refresh.ts`, `_health.ts`).
 */
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { ConfigurationError } from '../core/errors/index.js';
import { type ClientConfig, resolveClientConfig, withTokenRequestReplay } from '../core/grants.js';
import type { FetchLike } from '../core/internal.js';
import { createTokenRequestReplay } from '../core/internal.js';
import { corsHeaders, corsMiddleware } from './_cors.js';
import { healthRoutes, readiness } from './_health.js';
import { createIpLimit, type IpLimit, ipRateLimit } from './_rate-limit-middleware.js';
import { refreshRoute } from './_refresh.js';
import { type RequestRecorder, requestLog, requestRecorder } from './_request-log.js';
import { type ResolvedTokenServerOptions, resolveTokenServerOptions } from './_resolve-options.js';
import { type Answer, answerResponse, json, oauthAnswer, oauthError } from './_responses.js';
import type { TokenRouteContext } from './_route-context.js';
import { swapRoute } from './_swap.js';
import { honoTokenRoute, type TokenRoute } from './_token-request.js';
import type { Aead } from './aead.js';
import { Keyring, readKeyList } from './keyring.js';
import type { UpstreamOutcome } from './metrics.js';
import type { TokenServerOptions } from './options.js';
import type { RateLimitStoreHealth } from './rate-limit.js';

/** The Hono app's per-request variables, set by the request-log middleware and the routes. */
export type AppEnv = {
  Variables: {
    /** The request's id (a sane incoming `X-Request-Id`, else a new UUID). */
    requestId: string;
    /** Route pattern for logs and metrics (`unmatched` until a route sets it). */
    route: string;
    /** How the call to Spotify went, when there was one. */
    upstream: { outcome: UpstreamOutcome; ms: number } | undefined;
  };
};

/** What `ready()` and `GET /readyz` report. */
export interface ReadyState {
  /** `true` when the server can answer token requests (also when `degraded`). */
  ready: boolean;
  /**
   * `ready`; `degraded` (the shared rate-limit store is down: limits are per process until
   * it is back); `not_ready` (the keys could not be imported); `draining` (shutting down).
   */
  status: 'ready' | 'degraded' | 'not_ready' | 'draining';
  checks: {
    /** `invalid` when the encryption keys could not be imported. */
    config: 'ok' | 'invalid';
    /** Where rate-limit counters live and whether it answers. */
    rateLimitStore: { kind: string; status: RateLimitStoreHealth };
  };
}

/** The server {@link createTokenServer} returns. */
export interface TokenServer {
  /** The fetch handler: `(request, env?, ctx?) → Response` (Workers/Deno/Bun/Node adapters). */
  fetch(request: Request, env?: unknown, ctx?: unknown): Promise<Response>;
  /** The Hono app (tests may call `app.request()`). */
  app: Hono<AppEnv>;
  /** Whether the server can serve, as `/readyz` reports it. */
  ready(): Promise<ReadyState>;
  /** From now on `/readyz` answers 503 `draining`, so load balancers stop sending. */
  drain(): void;
  /** Drains and closes the rate-limit store (Redis connections). */
  close(): Promise<void>;
  /** The logger the server writes to (with redaction). */
  logger: Logger;
}

/**
 * Faster implementations a runtime adapter may inject; each does exactly what the
 * web-standard default does. Internal: the Node adapter passes them.
 */
export interface TokenServerPlatform {
  /** AES-256-GCM for the keyring (default WebCrypto). */
  aead?: Aead | undefined;
  /** `fetch` to Spotify when the options give none (default `globalThis.fetch`). */
  fetch?: FetchLike | undefined;
}

function methodNotAllowed(allow: string, requestId: string): Response {
  return oauthError(
    405,
    'invalid_request',
    `Method not allowed: use ${allow}`,
    { Allow: allow },
    requestId,
  );
}

/**
 * What a runtime adapter needs to answer `POST /swap` and `/refresh` itself, without the
 * web `Request`/`Response` objects Hono works on: the same routes, limit and recorder the
 * Hono app runs. Internal: the Node adapter uses it.
 */
export interface DirectTokenRoutes {
  /** `POST` routes by exact path (base path included). */
  routes: ReadonlyMap<string, TokenRoute>;
  /** The per-IP limit, when on. */
  ipLimit: IpLimit | undefined;
  /** Proxies trusted for `X-Forwarded-For` (see `trustProxy`). */
  trustProxy: number;
  /** Metrics and the access log. */
  record: RequestRecorder;
  /** The answer to an error a route threw (a bug), logged without request data. */
  unhandled(error: unknown, requestId: string): Answer;
  /**
   * The CORS headers of an answer (`corsHeaders`, as the fetch handler's middleware adds
   * them), given the request's `Origin`; `undefined` without CORS origins.
   */
  corsHeaders: ((origin: string | undefined) => Record<string, string>) | undefined;
}

/**
 * Spotify client configuration for the grant functions, resolved once (core checks the
 * accounts URL there, naming `accountsUrl`). Requests are replayed: oauth4webapi builds the
 * first of each kind, later ones reuse its shape.
 */
function clientConfig(config: ResolvedTokenServerOptions): ClientConfig {
  const resolved = resolveClientConfig({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    ...(config.accountsUrl === undefined ? {} : { accountsUrl: config.accountsUrl }),
    fetch: config.fetch,
    // A whole number of milliseconds within the setting's bounds (settings.ts).
    timeout: config.upstreamTimeout,
    now: config.now,
  });
  return withTokenRequestReplay(resolved, createTokenRequestReplay());
}

/**
 * Creates the token swap and refresh server.
 *
 * ```ts
 * import { createTokenServer } from '@spotify-session/cli/server';
 *
 * declare const env: { SPOTIFY_CLIENT_ID: string; SPOTIFY_CLIENT_SECRET: string; TOKEN_ENCRYPTION_KEYS: string };
 * const server = createTokenServer({
 *   clientId: env.SPOTIFY_CLIENT_ID,
 *   clientSecret: env.SPOTIFY_CLIENT_SECRET,
 *   redirectUris: ['myapp://callback'],
 *   encryptionKeys: env.TOKEN_ENCRYPTION_KEYS,
 * });
 * export default { fetch: server.fetch }; // Workers, Deno, Bun; on Node: serveTokenServer()
 * ```
 *
 * @throws ConfigurationError for options that cannot work, keys included (naming the
 *   option: `encryptionKeys`, `keyring`, …), synchronously: a server that was created
 *   never answers 500 for its configuration.
 */
export function createTokenServer(options: TokenServerOptions): TokenServer {
  return createTokenServerWith(options, {}).server;
}

/** {@link createTokenServer} with runtime-specific parts (see {@link TokenServerPlatform}). */
export function createTokenServerWith(
  options: TokenServerOptions,
  platform: TokenServerPlatform,
): {
  server: TokenServer;
  /**
   * `undefined` when a route needs the web `Request`: with a `clientIp` option (it is
   * given the `Request`).
   */
  direct: DirectTokenRoutes | undefined;
} {
  const aead = platform.aead;
  if (options.keyring !== undefined && !(options.keyring instanceof Keyring)) {
    throw new ConfigurationError(
      'keyring',
      'keyring must be a Keyring (from Keyring.parse or Keyring.fromKeys)',
    );
  }
  const config = resolveTokenServerOptions(
    {
      ...options,
      ...(options.keyring === undefined || aead === undefined
        ? {}
        : { keyring: options.keyring.withAead(aead) }),
      ...(options.fetch === undefined && platform.fetch !== undefined
        ? { fetch: platform.fetch as typeof fetch }
        : {}),
    },
    (text) => {
      // Checked here, synchronously (createTokenServer throws); imported asynchronously.
      const keys = readKeyList(text, 'encryptionKeys');
      const imported = Keyring.fromKeys(keys, aead === undefined ? {} : { aead });
      imported
        .finally(() => {
          for (const key of keys) key.secret.fill(0);
        })
        .catch(() => {});
      return imported;
    },
  );
  const { logger, metrics, basePath } = config;
  const client = clientConfig(config);

  const window = config.rateLimit.window;
  const store = config.rateLimitStore;
  const ipLimiter =
    config.rateLimit.ip > 0
      ? store.limiter({ name: 'ip', points: config.rateLimit.ip, duration: window })
      : undefined;
  const tokenLimiter =
    config.rateLimit.token > 0
      ? store.limiter({ name: 'token', points: config.rateLimit.token, duration: window })
      : undefined;

  let draining = false;
  let keysLoaded: boolean | undefined;
  const ctx: TokenRouteContext = {
    config,
    client,
    keyring: config.keyring,
    tokenLimiter,
    logger,
    metrics,
  };
  config.keyring.then(
    (keyring) => {
      keysLoaded = true;
      ctx.loadedKeyring = keyring;
    },
    (error: unknown) => {
      keysLoaded = false;
      logger.error(
        { err: { name: (error as Error)?.name, message: (error as Error)?.message } },
        'encryption keys could not be imported: token routes answer 500 until fixed',
      );
    },
  );
  const ready = readiness({
    keysLoaded: async () =>
      keysLoaded ??
      config.keyring.then(
        () => true,
        () => false,
      ),
    store,
    draining: () => draining,
  });

  const swapPath = `${basePath}/swap`;
  const refreshPath = `${basePath}/refresh`;
  const routes = new Map<string, TokenRoute>([
    [swapPath, swapRoute(ctx)],
    [refreshPath, refreshRoute(ctx)],
  ]);
  const record = requestRecorder({ logger, metrics });
  const ipLimit =
    ipLimiter === undefined ? undefined : createIpLimit({ limiter: ipLimiter, logger, metrics });
  const unhandled = (error: unknown, requestId: string): Answer => {
    // A bug, never bad input: log what it was (no request data) and answer JSON.
    const { name, message, stack } =
      error instanceof Error ? error : { name: typeof error, message: '', stack: undefined };
    logger.error({ requestId, err: { name, message, stack } }, 'unhandled error');
    return oauthAnswer(500, 'server_error', 'Internal server error');
  };
  const app = new Hono<AppEnv>();

  app.use(requestLog(record));
  const { corsOrigins } = config;
  if (corsOrigins.length > 0) {
    const cors = corsMiddleware(corsOrigins);
    app.use(swapPath, cors);
    app.use(refreshPath, cors);
  }
  if (ipLimit !== undefined) {
    for (const path of routes.keys()) {
      app.post(
        path,
        ipRateLimit({
          limit: ipLimit,
          route: path,
          trustProxy: config.trustProxy,
          clientIp: config.clientIp,
        }),
      );
    }
  }
  for (const [path, route] of routes) app.post(path, honoTokenRoute(route, path));
  for (const route of [swapPath, refreshPath]) {
    app.all(route, (c) => {
      c.set('route', route);
      return methodNotAllowed('POST', c.get('requestId'));
    });
  }
  healthRoutes(app, { ready, metrics });

  app.notFound((c) =>
    json(
      404,
      { error: 'not_found', error_description: 'Not found' },
      undefined,
      c.get('requestId'),
    ),
  );
  app.onError((error, c) =>
    answerResponse(unhandled(error, c.get('requestId')), c.get('requestId')),
  );

  const server: TokenServer = {
    app,
    logger,
    fetch: (request, env, executionCtx) =>
      Promise.resolve(app.fetch(request, env as never, executionCtx as never)),
    ready,
    drain() {
      draining = true;
    },
    async close() {
      draining = true;
      await store.close();
    },
  };
  const direct =
    config.clientIp !== undefined
      ? undefined
      : {
          routes,
          ipLimit,
          trustProxy: config.trustProxy,
          record,
          unhandled,
          corsHeaders:
            corsOrigins.length > 0
              ? (origin: string | undefined) => corsHeaders(corsOrigins, origin)
              : undefined,
        };
  return { server, direct };
}

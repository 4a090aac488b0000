/**
 * The token swap and refresh service for Spotify's mobile SDKs (accounts.md §5) as a Hono
 * fetch handler. Web-standard globals only, so it runs on Node, Deno, Bun and Workers;
 * the Node listener, Redis and Prometheus live in their own files.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { Logger } from 'pino';
import { Session, TimeoutError } from '../core/index.js';
import { readParams } from './_body.js';
import { clientAddress } from './_client-ip.js';
import {
  type ResolvedTokenServerOptions,
  resolveTokenServerOptions,
  type TokenServerOptions,
} from './_options.js';
import {
  COMMON_HEADERS,
  invalidRefreshToken,
  json,
  oauthError,
  type UpstreamOutcome,
  upstreamFailure,
} from './_responses.js';
import { Keyring, sealedTokenId } from './keyring.js';
import { methodLabel } from './metrics.js';
import type { RateLimiter, RateLimitStoreHealth } from './rate-limit.js';

/** What `ready()` and `GET /readyz` report. */
export interface ReadyState {
  /** `true` when the server can answer token requests (also when `degraded`). */
  ready: boolean;
  /**
   * `ready`; `degraded` (the shared rate-limit store is down: limits are per process until
   * it is back); `not_ready` (the configuration cannot work, e.g. unreadable keys);
   * `draining` (shutting down).
   */
  status: 'ready' | 'degraded' | 'not_ready' | 'draining';
  checks: {
    /** `invalid` when the encryption keys could not be loaded. */
    config: 'ok' | 'invalid';
    /** Where rate-limit counters live and whether it answers. */
    rateLimitStore: { kind: string; status: RateLimitStoreHealth };
  };
}

type AppEnv = {
  Variables: {
    requestId: string;
    route: string;
    upstream: { outcome: UpstreamOutcome; ms: number } | undefined;
  };
};

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

const SWAP_PARAMS = ['code', 'code_verifier', 'redirect_uri', 'client_id', 'grant_type'] as const;
const REFRESH_PARAMS = ['refresh_token', 'client_id', 'grant_type'] as const;
const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;
const REQUEST_ID_PATTERN = /^[\w.:=-]{1,128}$/;
const encoder = new TextEncoder();

/**
 * The per-token rate-limit key, never the token itself: for an envelope its key id and
 * nonce (read from the text, no hashing: the nonce is random per seal), for anything else a
 * truncated SHA-256, so garbage is limited per string as well.
 */
async function tokenRateLimitKey(sealed: string): Promise<string> {
  const id = sealedTokenId(sealed);
  if (id !== undefined) return id;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(sealed)));
  const hex = Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, '0'));
  return `sha256:${hex.join('')}`;
}

function invalidRequest(description: string): Response {
  return oauthError(400, 'invalid_request', description);
}

function methodNotAllowed(allow: string): Response {
  return oauthError(405, 'invalid_request', `Method not allowed: use ${allow}`, { Allow: allow });
}

/**
 * Creates the token swap and refresh server.
 *
 * ```ts
 * const server = createTokenServer({
 *   clientId, clientSecret, redirectUris: ['myapp://callback'],
 *   keyring: await Keyring.parse(process.env.TOKEN_ENCRYPTION_KEYS!),
 * });
 * export default { fetch: server.fetch }; // Workers, Deno, Bun; on Node: serveTokenServer()
 * ```
 *
 * @throws ConfigurationError for options that cannot work (naming the option).
 */
export function createTokenServer(options: TokenServerOptions): TokenServer {
  const config = resolveTokenServerOptions(options, (text) => Keyring.parse(text));
  const { logger, metrics, basePath } = config;

  const window = config.rateLimit.window;
  const store = config.rateLimitStore;
  const ipLimiter: RateLimiter | undefined =
    config.rateLimit.ip > 0
      ? store.limiter({ name: 'ip', points: config.rateLimit.ip, duration: window })
      : undefined;
  const tokenLimiter: RateLimiter | undefined =
    config.rateLimit.token > 0
      ? store.limiter({ name: 'token', points: config.rateLimit.token, duration: window })
      : undefined;

  let draining = false;
  let keysState: 'pending' | 'ok' | 'invalid' = 'pending';
  config.keyring.then(
    () => {
      keysState = 'ok';
    },
    (error: unknown) => {
      keysState = 'invalid';
      logger.error(
        { err: { name: (error as Error)?.name, message: (error as Error)?.message } },
        'encryption keys could not be loaded: token routes answer 500 until fixed',
      );
    },
  );

  const swapRoute = `${basePath}/swap`;
  const refreshRoute = `${basePath}/refresh`;
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const started = performance.now();
    const incomingId = c.req.header('x-request-id');
    const requestId =
      incomingId !== undefined && REQUEST_ID_PATTERN.test(incomingId)
        ? incomingId
        : crypto.randomUUID();
    c.set('requestId', requestId);
    c.set('route', 'unmatched');
    c.set('upstream', undefined);
    await next();
    const headers = c.res.headers;
    // /metrics is Prometheus text; everything else is JSON (a CORS preflight has no body).
    if (c.get('route') !== '/metrics' || c.res.status !== 200) {
      headers.set('Content-Type', COMMON_HEADERS['Content-Type'] as string);
    }
    headers.set('Cache-Control', 'no-store');
    headers.set('Pragma', 'no-cache');
    headers.set('X-Request-Id', requestId);
    const seconds = (performance.now() - started) / 1000;
    const route = c.get('route');
    const status = c.res.status;
    metrics?.observeRequest({ route, method: methodLabel(c.req.method), status }, seconds);
    const upstream = c.get('upstream');
    const entry = {
      requestId,
      method: methodLabel(c.req.method),
      route,
      status,
      durationMs: Math.round(seconds * 1000),
      ...(upstream === undefined ? {} : { upstream }),
    };
    if (status >= 500) logger.warn(entry, 'request');
    else logger.info(entry, 'request');
  });

  if (config.corsOrigins.length > 0) {
    const corsMiddleware = cors({
      origin: [...config.corsOrigins],
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'X-Request-Id'],
      exposeHeaders: ['X-Request-Id', 'Retry-After'],
      maxAge: 600,
    });
    app.use(swapRoute, corsMiddleware);
    app.use(refreshRoute, corsMiddleware);
  }

  async function limit(
    limiter: RateLimiter | undefined,
    name: 'ip' | 'token',
    key: string,
  ): Promise<Response | undefined> {
    if (limiter === undefined) return undefined;
    const decision = await limiter.consume(key);
    if (decision.allowed) return undefined;
    metrics?.observeRateLimited(name);
    return oauthError(
      429,
      'temporarily_unavailable',
      `Too many requests; retry in ${decision.retryAfter} seconds`,
      { 'Retry-After': String(decision.retryAfter) },
    );
  }

  async function loadKeyring(): Promise<Keyring | undefined> {
    try {
      return await config.keyring;
    } catch {
      return undefined;
    }
  }

  /** Calls Spotify; the answer on failure, the tokens on success. Never retried. */
  async function callSpotify<T>(
    c: { set(key: 'upstream', value: { outcome: UpstreamOutcome; ms: number }): void },
    grant: 'authorization_code' | 'refresh_token',
    call: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
    const started = performance.now();
    const record = (outcome: UpstreamOutcome) => {
      const seconds = (performance.now() - started) / 1000;
      metrics?.observeUpstream({ grant, outcome }, seconds);
      c.set('upstream', { outcome, ms: Math.round(seconds * 1000) });
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Session times out through the fetch's AbortSignal; a custom fetch that ignores the
    // signal must not hold the request open forever, so there is a backstop here too.
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(config.upstreamTimeout)),
        config.upstreamTimeout + 250,
      );
    });
    try {
      const value = await Promise.race([call(), backstop]);
      record('ok');
      return { ok: true, value };
    } catch (error) {
      const failure = upstreamFailure(error);
      if (failure === undefined) throw error;
      record(failure.outcome);
      return { ok: false, response: failure.response };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Seals Spotify's refresh token; `undefined` when it cannot be (absurdly long, say). */
  async function sealOrUndefined(
    keyring: Keyring,
    refreshToken: string,
    issuedAt: number,
  ): Promise<string | undefined> {
    try {
      return await keyring.seal(refreshToken, { clientId: config.clientId, issuedAt });
    } catch {
      logger.warn('Spotify sent a refresh token that cannot be sealed');
      return undefined;
    }
  }
  const unsealable = () =>
    oauthError(502, 'server_error', 'Spotify sent a refresh token this server cannot seal');

  const misconfigured = () =>
    oauthError(500, 'server_error', 'The token server is misconfigured (encryption keys)');

  /**
   * What `/swap` and `/refresh` check alike: the per-IP limit, the parameters, and the
   * optional `grant_type` and `client_id` newer SDKs send. The parameters, or the answer.
   */
  async function readTokenRequest(
    c: { req: { raw: Request }; env: unknown },
    names: readonly string[],
    grantType: 'authorization_code' | 'refresh_token',
  ): Promise<{ params: Map<string, string> } | { response: Response }> {
    if (ipLimiter !== undefined) {
      const limited = await limit(ipLimiter, 'ip', clientIp(c.req.raw, c.env));
      if (limited !== undefined) return { response: limited };
    }
    const read = await readParams(c.req.raw, names);
    if (!read.ok) {
      const { status, error, description } = read.problem;
      return { response: oauthError(status, error, description) };
    }
    const params = read.params;
    const sentGrantType = params.get('grant_type');
    if (sentGrantType !== undefined && sentGrantType !== grantType) {
      return { response: invalidRequest(`grant_type must be ${grantType}`) };
    }
    const clientId = params.get('client_id');
    if (clientId !== undefined && clientId !== config.clientId) {
      return { response: invalidRequest('client_id is not the client this server serves') };
    }
    return { params };
  }

  app.post(swapRoute, async (c) => {
    c.set('route', swapRoute);
    const read = await readTokenRequest(c, SWAP_PARAMS, 'authorization_code');
    if ('response' in read) return read.response;
    const { params } = read;
    const code = params.get('code');
    if (code === undefined) return invalidRequest('code is missing');
    const redirectUri = params.get('redirect_uri') ?? config.redirectUris[0];
    if (redirectUri === undefined || !config.redirectUris.includes(redirectUri)) {
      return invalidRequest('redirect_uri is not one this server allows');
    }
    const codeVerifier = params.get('code_verifier');
    if (codeVerifier !== undefined && !CODE_VERIFIER_PATTERN.test(codeVerifier)) {
      return invalidRequest(
        'code_verifier is malformed (43-128 characters of A-Z a-z 0-9 . _ ~ -)',
      );
    }
    const keyring = await loadKeyring();
    if (keyring === undefined) return misconfigured();
    const session = newSession(config, redirectUri);
    const result = await callSpotify(c, 'authorization_code', () =>
      session.requestAccessToken(code, codeVerifier),
    );
    if (!result.ok) return result.response;
    const tokens = result.value;
    let sealed: string | undefined;
    if (tokens.refreshToken === undefined) {
      logger.warn({ requestId: c.get('requestId') }, 'Spotify sent no refresh token with a code');
    } else {
      const issuedAt = Math.floor(config.now() / 1000);
      sealed = await sealOrUndefined(keyring, tokens.refreshToken, issuedAt);
      if (sealed === undefined) return unsealable();
    }
    return json(200, {
      access_token: tokens.accessToken,
      token_type: tokens.tokenType,
      expires_in: Math.max(0, Math.round(tokens.expiresIn)),
      ...(sealed === undefined ? {} : { refresh_token: sealed }),
      scope: tokens.scope.join(' '),
    });
  });

  app.post(refreshRoute, async (c) => {
    c.set('route', refreshRoute);
    const read = await readTokenRequest(c, REFRESH_PARAMS, 'refresh_token');
    if ('response' in read) return read.response;
    const sealed = read.params.get('refresh_token');
    if (sealed === undefined) return invalidRequest('refresh_token is missing');
    const tokenLimited = await limit(tokenLimiter, 'token', await tokenRateLimitKey(sealed));
    if (tokenLimited !== undefined) return tokenLimited;
    const keyring = await loadKeyring();
    if (keyring === undefined) return misconfigured();
    let unsealed: { refreshToken: string; issuedAt: number };
    try {
      unsealed = await keyring.unseal(sealed, {
        clientId: config.clientId,
        maxAge: config.refreshTokenMaxAge,
        now: config.now,
      });
    } catch {
      return invalidRefreshToken();
    }
    const session = newSession(config, config.redirectUris[0] as string);
    const result = await callSpotify(c, 'refresh_token', () =>
      session.refreshAccessToken(unsealed.refreshToken),
    );
    if (!result.ok) return result.response;
    const tokens = result.value;
    let rotated: string | undefined;
    if (tokens.refreshToken !== undefined && tokens.refreshToken !== unsealed.refreshToken) {
      // Keep the ORIGINAL authorization time: rotation does not extend the six months.
      rotated = await sealOrUndefined(keyring, tokens.refreshToken, unsealed.issuedAt);
      if (rotated === undefined) return unsealable();
    }
    return json(200, {
      access_token: tokens.accessToken,
      token_type: tokens.tokenType,
      expires_in: Math.max(0, Math.round(tokens.expiresIn)),
      scope: tokens.scope.join(' '),
      ...(rotated === undefined ? {} : { refresh_token: rotated }),
    });
  });

  app.all(swapRoute, (c) => {
    c.set('route', swapRoute);
    return methodNotAllowed('POST');
  });
  app.all(refreshRoute, (c) => {
    c.set('route', refreshRoute);
    return methodNotAllowed('POST');
  });

  async function ready(): Promise<ReadyState> {
    if (keysState === 'pending') await loadKeyring();
    const storeStatus = await store.health().catch((): RateLimitStoreHealth => 'down');
    const checks: ReadyState['checks'] = {
      config: keysState === 'invalid' ? 'invalid' : 'ok',
      rateLimitStore: { kind: store.kind, status: storeStatus },
    };
    if (draining) return { ready: false, status: 'draining', checks };
    if (checks.config === 'invalid') return { ready: false, status: 'not_ready', checks };
    if (storeStatus === 'down') return { ready: true, status: 'degraded', checks };
    return { ready: true, status: 'ready', checks };
  }

  app.get('/healthz', (c) => {
    c.set('route', '/healthz');
    return json(200, { status: 'ok' });
  });
  app.get('/readyz', async (c) => {
    c.set('route', '/readyz');
    const state = await ready();
    return json(state.ready ? 200 : 503, state);
  });
  app.get('/metrics', async (c) => {
    c.set('route', '/metrics');
    if (metrics === undefined)
      return json(404, { error: 'not_found', error_description: 'Not found' });
    const { contentType, body } = await metrics.render();
    return new Response(body, { status: 200, headers: { 'Content-Type': contentType } });
  });
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    app.all(path, (c) => {
      c.set('route', path);
      return methodNotAllowed('GET, HEAD');
    });
  }

  app.notFound(() => json(404, { error: 'not_found', error_description: 'Not found' }));
  app.onError((error, c) => {
    // A bug, never bad input: log what it was (no request data) and answer JSON.
    logger.error(
      {
        requestId: c.get('requestId'),
        err: { name: error.name, message: error.message, stack: error.stack },
      },
      'unhandled error',
    );
    return oauthError(500, 'server_error', 'Internal server error');
  });

  let warnedUnknownIp = false;
  function clientIp(request: Request, env: unknown): string {
    const address = clientAddress(request, env, config.trustProxy, config.clientIp);
    if (address === 'unknown' && !warnedUnknownIp) {
      // Every client would share one per-IP bucket: say so once, with the fix.
      warnedUnknownIp = true;
      logger.warn(
        'client IP unknown: all clients share one per-IP rate limit; pass env.clientIp or the clientIp option',
      );
    }
    return address;
  }

  return {
    app,
    logger,
    fetch: (request, env, ctx) => Promise.resolve(app.fetch(request, env as never, ctx as never)),
    ready,
    drain() {
      draining = true;
    },
    async close() {
      draining = true;
      await store.close();
    },
  };
}

/** A Session for one upstream call: stateless, so instances never share tokens. */
function newSession(config: ResolvedTokenServerOptions, redirectUri: string): Session {
  return new Session({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    redirectUri,
    accountsUrl: config.accountsUrl,
    fetch: config.fetch,
    timeout: config.upstreamTimeout,
  });
}

/**
 * The one options interface of {@link createTokenServer}. Defaults and bounds are the
 * settings table's (`settings.ts`); `_resolve-options.ts` applies them.
 */
import type { Logger, LoggerOptions } from 'pino';
import type { Keyring } from './keyring.js';
import type { TokenServerMetrics } from './metrics.js';
import type { RateLimitStore } from './rate-limit.js';

export { DEFAULT_REFRESH_TOKEN_MAX_AGE } from './settings.js';

/** Largest request body read, in bytes; a bigger one is answered 413 before it is all read. */
export const MAX_BODY_BYTES = 8 * 1024;
/** Largest value of one form/JSON field, in UTF-8 bytes; a bigger one is `invalid_request`. */
export const MAX_FIELD_BYTES = 2 * 1024;

/** Rate limits: requests per `window` seconds. `0` turns a limit off. */
export interface RateLimitOptions {
  /**
   * Requests per window per client IP, on `/swap` and `/refresh` together. Mobile carriers
   * put many users behind one address (CGNAT), so keep it generous.
   * @default 120
   */
  ip?: number;
  /**
   * Refreshes per window per sealed refresh token, counted only once the token unsealed
   * (keyed by the envelope's verified GCM tag, never the token itself; a token that does not
   * unseal counts against the sender's IP only). A healthy app refreshes about once an hour.
   * @default 10
   */
  token?: number;
  /**
   * Window length in seconds.
   * @default 60
   */
  window?: number;
}

/** Options of {@link createTokenServer}. */
export interface TokenServerOptions {
  /** Client id of your Spotify app. A `client_id` sent by the app must equal it. */
  clientId: string;
  /** Client secret of your Spotify app; it never leaves the server and is never logged. */
  clientSecret: string;
  /**
   * Redirect URIs the app may use (the allowlist). A `redirect_uri` sent with a swap must be
   * one of them; when none is sent, the first is used (the iOS SDK sends none).
   */
  redirectUris: readonly string[];
  /**
   * Keys that seal the refresh tokens handed to the app. Give this or `encryptionKeys`.
   * @default parsed from `encryptionKeys`
   */
  keyring?: Keyring;
  /**
   * `TOKEN_ENCRYPTION_KEYS` text (comma-separated `kid:secret`, active key first), parsed
   * with `Keyring.parse` when `keyring` is not given.
   * @default undefined
   */
  encryptionKeys?: string;
  /**
   * Base URL of Spotify's Accounts service (the emulator's URL in tests).
   * @default 'https://accounts.spotify.com'
   */
  accountsUrl?: string;
  /**
   * Prefix of the token routes: `''` serves `/swap` and `/refresh`, `'/v1'` serves
   * `/v1/swap` and `/v1/refresh`. Health and metrics routes stay at the root.
   * @default ''
   */
  basePath?: string;
  /**
   * `fetch` used for every request to Spotify.
   * @default globalThis.fetch (on Node, `serveTokenServer` uses a keep-alive `node:http` client)
   */
  fetch?: typeof fetch;
  /**
   * Milliseconds to wait for Spotify before answering 504. Requests are never retried.
   * @default 10_000
   */
  upstreamTimeout?: number;
  /**
   * Oldest sealed refresh token accepted, in seconds from the original authorization.
   * @default 15_552_000 (180 days, Spotify's own limit)
   */
  refreshTokenMaxAge?: number;
  /**
   * Rate limits per client IP and per refresh token.
   * @default { ip: 120, token: 10, window: 60 }
   */
  rateLimit?: RateLimitOptions;
  /**
   * Where rate-limit counters live; the server closes it on `close()`. Use
   * `createRedisRateLimitStore()` to share limits between instances.
   * @default createMemoryRateLimitStore()
   */
  rateLimitStore?: RateLimitStore;
  /**
   * Origins allowed to call the token routes from a browser. Empty: no CORS headers at all.
   * @default []
   */
  corsOrigins?: readonly string[];
  /**
   * How many proxies in front of the server append to `X-Forwarded-For`. `false`/`0`: the
   * header is ignored and the socket address is the client. `true` = 1. With N, the N-th
   * address from the RIGHT is the client (the one your outermost proxy saw); the left-most
   * entries are written by the client and never believed.
   * @default false
   */
  trustProxy?: boolean | number;
  /**
   * Client IP when the runtime has no socket the server can see (Workers, Deno, Bun).
   * Called before `X-Forwarded-For` is considered; return `undefined` to fall back.
   * The address may be written any way (`::ffff:1.2.3.4`, `[2001:db8::1]:443`): it is
   * canonicalised, and IPv6 is counted per /64.
   * @default reads `env.clientIp` (the Node adapter puts its socket's address there)
   */
  clientIp?: (request: Request, env: unknown) => string | undefined;
  /**
   * A pino logger, pino options to build one, or `false` for no logs. Redaction of
   * secrets is always added.
   * @default pino({ level: 'info' }) writing JSON lines to stdout
   */
  logger?: Logger | LoggerOptions | false;
  /**
   * Where request and upstream metrics go; `GET /metrics` answers 404 without it. On Node,
   * `createPrometheusMetrics()` (prom-client).
   * @default undefined
   */
  metrics?: TokenServerMetrics;
  /**
   * Clock in milliseconds (tests move it).
   * @default Date.now
   */
  now?: () => number;
}

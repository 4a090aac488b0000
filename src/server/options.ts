/**
 * The one options interface of {@link createTokenServer} and the one place its defaults
 * are resolved.
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { ConfigurationError } from '../core/errors/index.js';
import { validateAccountsUrl, validateRedirectUri } from '../core/internal.js';
import { assertOption } from './_assert.js';
import type { Keyring } from './keyring.js';
import type { TokenServerMetrics } from './metrics.js';
import { createMemoryRateLimitStore, type RateLimitStore } from './rate-limit.js';

/** Largest request body read, in bytes; a bigger one is answered 413 before it is all read. */
export const MAX_BODY_BYTES = 8 * 1024;
/** Largest value of one form/JSON field, in UTF-8 bytes; a bigger one is `invalid_request`. */
export const MAX_FIELD_BYTES = 2 * 1024;
/** Spotify's refresh tokens last six months from the original authorization (https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens). */
export const DEFAULT_REFRESH_TOKEN_MAX_AGE = 15_552_000;

/** Defaults of {@link TokenServerOptions} that the env/flag loader also shows and uses. */
export const TOKEN_SERVER_DEFAULTS = {
  upstreamTimeout: 10_000,
  rateLimit: { ip: 120, token: 10, window: 60 },
} as const;

/** Default of the Redis rate-limit store's per-check wait, in milliseconds. */
export const REDIS_COMMAND_TIMEOUT = 50;

/**
 * Defaults of the Node listener's settings (`serveTokenServer`, `spotify-session serve`),
 * here so the neutral env/flag loader and the Node adapter share them.
 */
export const LISTENER_DEFAULTS = {
  drainDelay: 0,
  shutdownGracePeriod: 10_000,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  maxRequestsPerSocket: 1_000,
  maxConnections: 1_000,
} as const;

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

/** Every option with its default applied. */
export interface ResolvedTokenServerOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: readonly string[];
  keyring: Promise<Keyring>;
  accountsUrl: string;
  basePath: string;
  fetch: typeof fetch;
  upstreamTimeout: number;
  refreshTokenMaxAge: number;
  rateLimit: Required<RateLimitOptions>;
  rateLimitStore: RateLimitStore;
  corsOrigins: readonly string[];
  trustProxy: number;
  clientIp: ((request: Request, env: unknown) => string | undefined) | undefined;
  logger: Logger;
  metrics: TokenServerMetrics | undefined;
  now: () => number;
}

/**
 * Paths pino blanks out, as a second line of defence: the server never passes a secret
 * to the logger in the first place.
 */
const REDACT_PATHS = [
  'code',
  'code_verifier',
  'refresh_token',
  'access_token',
  'client_secret',
  'clientSecret',
  'authorization',
  'password',
  '*.code',
  '*.code_verifier',
  '*.refresh_token',
  '*.access_token',
  '*.client_secret',
  '*.clientSecret',
  '*.authorization',
  '*.Authorization',
  '*.headers.authorization',
  '*.headers.cookie',
];

/**
 * Builds (or wraps) the logger, always with {@link REDACT_PATHS}. A logger built here writes
 * to `destination()` when given (the Node adapter's stdout that a closed reader cannot
 * stall), else to pino's default; options with a `transport` keep their transport.
 */
export function resolveLogger(
  option: TokenServerOptions['logger'],
  destination?: () => DestinationStream,
): Logger {
  const redact = { paths: REDACT_PATHS, censor: '[Redacted]' };
  if (option === false) return pino({ enabled: false });
  if (typeof (option as Logger | undefined)?.child === 'function') {
    return (option as Logger).child({}, { redact });
  }
  const options: LoggerOptions = {
    level: 'info',
    ...(option as LoggerOptions | undefined),
    redact,
  };
  return options.transport === undefined && destination !== undefined
    ? pino(options, destination())
    : pino(options);
}

function positiveNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  assertOption(
    typeof value === 'number' && Number.isFinite(value) && value > 0,
    name,
    `${name} must be a positive number of milliseconds/seconds`,
  );
  return value;
}

function limitNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  assertOption(
    Number.isInteger(value) && value >= 0,
    name,
    `${name} must be a whole number >= 0 (0 turns it off)`,
  );
  return value;
}

/**
 * Normalises `'/v1/'` and `'v1'` to `'/v1'`, and `'/'` to `''`. Refuses characters outside
 * `A-Z a-z 0-9 . _ ~ -` and the dot segments `.` and `..`, which URL parsers remove
 * (RFC 3986 §5.2.4): `/v1/../x` would never match a request path.
 */
export function normaliseBasePath(basePath: string, option = 'basePath'): string {
  assertOption(typeof basePath === 'string', option, `${option} must be a string like "/v1"`);
  const trimmed = basePath.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  const withSlash = trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  const segments = withSlash.slice(1).split('/');
  assertOption(
    /^(\/[A-Za-z0-9._~-]+)+$/.test(withSlash) &&
      segments.every((segment) => segment !== '.' && segment !== '..'),
    option,
    `${option} must be a path like "/v1" (letters, digits, . _ ~ - between slashes; no "." or ".." segments)`,
  );
  return withSlash;
}

/**
 * Applies the defaults. Throws ConfigurationError (naming the option) for values that
 * cannot work; secrets never appear in the message.
 */
export function resolveTokenServerOptions(
  options: TokenServerOptions,
  parseKeys: (text: string) => Promise<Keyring>,
): ResolvedTokenServerOptions {
  assertOption(
    typeof options.clientId === 'string' && options.clientId.trim() !== '',
    'clientId',
    "clientId is required: your app's client id from https://developer.spotify.com/dashboard",
  );
  assertOption(
    typeof options.clientSecret === 'string' && options.clientSecret !== '',
    'clientSecret',
    "clientSecret is required: your app's client secret",
  );
  assertOption(
    Array.isArray(options.redirectUris) && options.redirectUris.length > 0,
    'redirectUris',
    'redirectUris needs at least one redirect URI (the first is the default)',
  );
  // Checked here, not per request: a URI Spotify refuses must stop the server from starting.
  for (const [index, uri] of options.redirectUris.entries()) {
    try {
      validateRedirectUri(uri);
    } catch (error) {
      const reason = error instanceof ConfigurationError ? error.message : 'is not valid';
      throw new ConfigurationError(`redirectUris[${index}]`, `redirectUris[${index}]: ${reason}`, {
        cause: error,
      });
    }
  }
  if (options.accountsUrl !== undefined) validateAccountsUrl(options.accountsUrl);
  let keyring: Promise<Keyring>;
  if (options.keyring !== undefined) keyring = Promise.resolve(options.keyring);
  else if (options.encryptionKeys !== undefined) keyring = parseKeys(options.encryptionKeys);
  else {
    throw new ConfigurationError(
      'keyring',
      'keyring (or encryptionKeys) is required: create a key with `spotify-session keys generate`',
    );
  }
  // A bad key string is reported by ready() and by the token routes; never unhandled.
  keyring.catch(() => {});
  const trustProxy =
    options.trustProxy === true ? 1 : options.trustProxy === false ? 0 : (options.trustProxy ?? 0);
  assertOption(
    Number.isInteger(trustProxy) && trustProxy >= 0,
    'trustProxy',
    'trustProxy must be true, false or a hop count',
  );
  const rateLimit = options.rateLimit ?? {};
  return {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    redirectUris: [...options.redirectUris],
    keyring,
    accountsUrl: options.accountsUrl ?? 'https://accounts.spotify.com',
    basePath: normaliseBasePath(options.basePath ?? ''),
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    upstreamTimeout: positiveNumber(
      'upstreamTimeout',
      options.upstreamTimeout,
      TOKEN_SERVER_DEFAULTS.upstreamTimeout,
    ),
    refreshTokenMaxAge: positiveNumber(
      'refreshTokenMaxAge',
      options.refreshTokenMaxAge,
      DEFAULT_REFRESH_TOKEN_MAX_AGE,
    ),
    rateLimit: {
      ip: limitNumber('rateLimit.ip', rateLimit.ip, TOKEN_SERVER_DEFAULTS.rateLimit.ip),
      token: limitNumber('rateLimit.token', rateLimit.token, TOKEN_SERVER_DEFAULTS.rateLimit.token),
      window:
        limitNumber('rateLimit.window', rateLimit.window, TOKEN_SERVER_DEFAULTS.rateLimit.window) ||
        TOKEN_SERVER_DEFAULTS.rateLimit.window,
    },
    rateLimitStore: options.rateLimitStore ?? createMemoryRateLimitStore(),
    corsOrigins: [...(options.corsOrigins ?? [])],
    trustProxy,
    clientIp: options.clientIp,
    logger: resolveLogger(options.logger),
    metrics: options.metrics,
    now: options.now ?? Date.now,
  };
}

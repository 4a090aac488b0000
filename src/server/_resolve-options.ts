/**
 * The one place `createTokenServer`'s options get their defaults and checks: each option by
 * its row of the settings table (`settings.ts`), so a bound or a default is the same here as
 * in the environment, and a message names the option as it was given.
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { ConfigurationError } from '../core/errors/index.js';
import type { Keyring } from './keyring.js';
import type { TokenServerMetrics } from './metrics.js';
import type { RateLimitOptions, TokenServerOptions } from './options.js';
import { createMemoryRateLimitStore, type RateLimitStore } from './rate-limit.js';
import { resolveSetting, TOKEN_SERVER_SETTINGS as SETTING } from './settings.js';

/** Every option with its default applied. */
export interface ResolvedTokenServerOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: readonly string[];
  keyring: Promise<Keyring>;
  /** Core applies its default (`resolveClientConfig`). */
  accountsUrl: string | undefined;
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

/**
 * Applies the defaults. Throws ConfigurationError (naming the option) for values that
 * cannot work; secrets never appear in the message. The accounts URL and the client's own
 * checks are core's (`resolveClientConfig`, called when the server is created).
 */
export function resolveTokenServerOptions(
  options: TokenServerOptions,
  parseKeys: (text: string) => Promise<Keyring>,
): ResolvedTokenServerOptions {
  const clientId = resolveSetting(SETTING.clientId, options.clientId, 'clientId');
  const clientSecret = resolveSetting(SETTING.clientSecret, options.clientSecret, 'clientSecret');
  // Checked here, not per request: a URI Spotify refuses must stop the server from starting.
  const redirectUris = resolveSetting(SETTING.redirectUris, options.redirectUris, 'redirectUris');
  let keyring: Promise<Keyring>;
  if (options.keyring !== undefined) keyring = Promise.resolve(options.keyring);
  else if (options.encryptionKeys !== undefined) {
    keyring = parseKeys(
      resolveSetting(SETTING.encryptionKeys, options.encryptionKeys, 'encryptionKeys'),
    );
  } else {
    throw new ConfigurationError(
      'keyring',
      'keyring (or encryptionKeys) is required: create a key with `spotify-session keys generate`',
    );
  }
  // A bad key string is reported by ready() and by the token routes; never unhandled.
  keyring.catch(() => {});
  const rateLimit: RateLimitOptions = options.rateLimit ?? {};
  return {
    clientId,
    clientSecret,
    redirectUris,
    keyring,
    accountsUrl: options.accountsUrl,
    basePath: resolveSetting(SETTING.basePath, options.basePath, 'basePath'),
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    upstreamTimeout: resolveSetting(
      SETTING.upstreamTimeout,
      options.upstreamTimeout,
      'upstreamTimeout',
    ),
    refreshTokenMaxAge: resolveSetting(
      SETTING.refreshTokenMaxAge,
      options.refreshTokenMaxAge,
      'refreshTokenMaxAge',
    ),
    rateLimit: {
      ip: resolveSetting(SETTING.rateLimitIp, rateLimit.ip, 'rateLimit.ip'),
      token: resolveSetting(SETTING.rateLimitToken, rateLimit.token, 'rateLimit.token'),
      window: resolveSetting(SETTING.rateLimitWindow, rateLimit.window, 'rateLimit.window'),
    },
    rateLimitStore: options.rateLimitStore ?? createMemoryRateLimitStore(),
    corsOrigins: resolveSetting(SETTING.corsOrigins, options.corsOrigins, 'corsOrigins'),
    trustProxy: resolveSetting(SETTING.trustProxy, options.trustProxy, 'trustProxy'),
    clientIp: options.clientIp,
    logger: resolveLogger(options.logger),
    metrics: options.metrics,
    now: options.now ?? Date.now,
  };
}

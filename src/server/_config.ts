/**
 * Configuration of `spotify-session serve` from environment variables and flags.
 *
 * Pure: an env object and flags in, a configuration or the list of problems out (one
 * clear message per problem, never a secret's value). The CLI prints the problems and
 * exits with code 2.
 */
import * as v from 'valibot';
import { validateAccountsUrl, validateRedirectUri } from '../core/_urls.js';
import { ConfigurationError } from '../core/index.js';
import { DEFAULT_REFRESH_TOKEN_MAX_AGE, normaliseBasePath } from './_options.js';
import { Keyring } from './keyring.js';

/** Flags of `serve`; each overrides the environment variable named beside it. */
export interface ServeFlags {
  /** `--client-id` (SPOTIFY_CLIENT_ID) */
  clientId?: string | undefined;
  /** `--redirect-uri` (SPOTIFY_REDIRECT_URI) */
  redirectUri?: string | undefined;
  /** `--accounts-url` (SPOTIFY_ACCOUNTS_URL) */
  accountsUrl?: string | undefined;
  /** `--host` (HOST) */
  host?: string | undefined;
  /** `--port` (PORT) */
  port?: string | undefined;
  /** `--base-path` (BASE_PATH) */
  basePath?: string | undefined;
  /** `--redis-url` (REDIS_URL) */
  redisUrl?: string | undefined;
  /** `--cors-origins` (CORS_ORIGINS) */
  corsOrigins?: string | undefined;
  /** `--trust-proxy` (TRUST_PROXY) */
  trustProxy?: string | undefined;
  /** `--log-level` (LOG_LEVEL) */
  logLevel?: string | undefined;
  /** `--rate-limit-ip` (RATE_LIMIT_IP) */
  rateLimitIp?: string | undefined;
  /** `--rate-limit-token` (RATE_LIMIT_TOKEN) */
  rateLimitToken?: string | undefined;
  /** `--upstream-timeout-ms` (UPSTREAM_TIMEOUT_MS) */
  upstreamTimeoutMs?: string | undefined;
}

/** Log levels pino knows, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A valid configuration. */
export interface ServeConfig {
  /**
   * `spotify`: real credentials. `embedded`: no credentials outside production — the CLI
   * runs the emulator in-process and a throw-away key.
   */
  mode: 'spotify' | 'embedded';
  /** Empty in embedded mode (the emulator's demo app is used). */
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Parsed TOKEN_ENCRYPTION_KEYS; `undefined` in embedded mode when none was given. */
  keyring: Keyring | undefined;
  accountsUrl: string;
  host: string;
  port: number;
  basePath: string;
  redisUrl: string | undefined;
  corsOrigins: string[];
  trustProxy: number;
  logLevel: (typeof LOG_LEVELS)[number];
  rateLimit: { ip: number; token: number; window: number };
  upstreamTimeout: number;
  refreshTokenMaxAge: number;
  shutdownGracePeriod: number;
}

/** What {@link loadServeConfig} found. */
export type ServeConfigResult =
  | { ok: true; config: ServeConfig }
  | { ok: false; problems: string[] };

type Env = Readonly<Record<string, string | undefined>>;

function wholeNumber(name: string, min: number, max: number) {
  const message = `${name} must be a whole number from ${min} to ${max}`;
  return v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d{1,10}$/, message),
    v.transform(Number),
    v.minValue(min, message),
    v.maxValue(max, message),
  );
}

const portSchema = wholeNumber('PORT', 0, 65_535);
const logLevelSchema = v.picklist(LOG_LEVELS, `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
const redisUrlSchema = v.pipe(
  v.string(),
  v.trim(),
  v.check((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'REDIS_URL must look like redis://host:6379 (or rediss:// for TLS)'),
);
const originSchema = v.pipe(
  v.string(),
  v.check((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
    } catch {
      return false;
    }
  }),
);
const trustProxySchema = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.regex(
    /^(true|false|\d{1,2})$/,
    'TRUST_PROXY must be false, true (one proxy) or the number of proxies in front (0-99)',
  ),
  v.transform((value) => (value === 'true' ? 1 : value === 'false' ? 0 : Number(value))),
);

/** First issue of a valibot parse, or the value. */
function parse<T>(
  schema: v.GenericSchema<string, T>,
  value: string,
  problems: string[],
): T | undefined {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  problems.push(result.issues[0]?.message ?? 'invalid value');
  return undefined;
}

function pick(flag: string | undefined, env: string | undefined): string | undefined {
  const value = flag ?? env;
  return value === undefined || value.trim() === '' ? undefined : value;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/**
 * Reads the configuration. Flags win over environment variables. Every problem gives
 * one message naming the variable and what to do; values of secrets are never repeated.
 */
export async function loadServeConfig(
  env: Env,
  flags: ServeFlags = {},
): Promise<ServeConfigResult> {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  const clientId = pick(flags.clientId, env.SPOTIFY_CLIENT_ID)?.trim();
  const clientSecret = pick(undefined, env.SPOTIFY_CLIENT_SECRET)?.trim();
  const mode: ServeConfig['mode'] =
    clientId === undefined && clientSecret === undefined && !production ? 'embedded' : 'spotify';

  const host = pick(flags.host, env.HOST)?.trim() ?? '127.0.0.1';
  const port = parse(portSchema, pick(flags.port, env.PORT) ?? '3000', problems);

  let basePath = '';
  const basePathText = pick(flags.basePath, env.BASE_PATH);
  if (basePathText !== undefined) {
    try {
      basePath = normaliseBasePath(basePathText);
    } catch {
      problems.push('BASE_PATH must be a path like /v1 (letters, digits, . _ ~ - between slashes)');
    }
  }

  const redisText = pick(flags.redisUrl, env.REDIS_URL);
  const redisUrl = redisText === undefined ? undefined : parse(redisUrlSchema, redisText, problems);

  const corsOrigins = list(pick(flags.corsOrigins, env.CORS_ORIGINS));
  for (const [index, origin] of corsOrigins.entries()) {
    if (!v.safeParse(originSchema, origin).success) {
      problems.push(
        `CORS_ORIGINS entry ${index + 1} ("${origin.slice(0, 80)}") must be an origin like https://app.example.com (scheme, host and port only; no path, no *)`,
      );
    }
  }

  const trustText = pick(flags.trustProxy, env.TRUST_PROXY);
  const trustProxy = trustText === undefined ? 0 : parse(trustProxySchema, trustText, problems);

  const levelText = pick(flags.logLevel, env.LOG_LEVEL)?.trim().toLowerCase();
  const logLevel = levelText === undefined ? 'info' : parse(logLevelSchema, levelText, problems);

  /** A whole-number setting: the flag or variable, else `fallback`. */
  const whole = (
    name: string,
    text: string | undefined,
    fallback: number,
    min: number,
    max: number,
  ) => (text === undefined ? fallback : parse(wholeNumber(name, min, max), text, problems));
  const rateLimitIp = whole(
    'RATE_LIMIT_IP',
    pick(flags.rateLimitIp, env.RATE_LIMIT_IP),
    120,
    0,
    1_000_000,
  );
  const rateLimitToken = whole(
    'RATE_LIMIT_TOKEN',
    pick(flags.rateLimitToken, env.RATE_LIMIT_TOKEN),
    10,
    0,
    1_000_000,
  );
  const rateLimitWindow = whole(
    'RATE_LIMIT_WINDOW_S',
    pick(undefined, env.RATE_LIMIT_WINDOW_S),
    60,
    1,
    86_400,
  );
  const upstreamTimeout = whole(
    'UPSTREAM_TIMEOUT_MS',
    pick(flags.upstreamTimeoutMs, env.UPSTREAM_TIMEOUT_MS),
    10_000,
    1,
    120_000,
  );
  const refreshTokenMaxAge = whole(
    'REFRESH_TOKEN_MAX_AGE_S',
    pick(undefined, env.REFRESH_TOKEN_MAX_AGE_S),
    DEFAULT_REFRESH_TOKEN_MAX_AGE,
    1,
    DEFAULT_REFRESH_TOKEN_MAX_AGE,
  );
  const shutdownGracePeriod = whole(
    'SHUTDOWN_GRACE_MS',
    pick(undefined, env.SHUTDOWN_GRACE_MS),
    10_000,
    0,
    600_000,
  );

  let accountsUrl = 'https://accounts.spotify.com';
  const redirectUris: string[] = [];
  let keyring: Keyring | undefined;
  const keysText = pick(undefined, env.TOKEN_ENCRYPTION_KEYS);

  if (mode === 'spotify') {
    const hint = production ? ' (NODE_ENV=production: the embedded emulator is not started)' : '';
    if (clientId === undefined) {
      problems.push(
        `SPOTIFY_CLIENT_ID is required: your app's client id from https://developer.spotify.com/dashboard${hint}`,
      );
    }
    if (clientSecret === undefined) {
      problems.push(
        `SPOTIFY_CLIENT_SECRET is required: your app's client secret (environment only, never a flag)${hint}`,
      );
    }
    const redirectText = pick(flags.redirectUri, env.SPOTIFY_REDIRECT_URI);
    if (redirectText === undefined) {
      problems.push(
        'SPOTIFY_REDIRECT_URI is required: the redirect URI(s) your app registered, comma-separated, the default first (e.g. myapp://callback)',
      );
    }
    for (const [index, uri] of list(redirectText).entries()) {
      try {
        validateRedirectUri(uri);
        if (redirectUris.includes(uri)) {
          problems.push(`SPOTIFY_REDIRECT_URI entry ${index + 1} repeats an earlier entry`);
        } else redirectUris.push(uri);
      } catch (error) {
        const message = error instanceof ConfigurationError ? error.message : 'is not valid';
        problems.push(`SPOTIFY_REDIRECT_URI entry ${index + 1}: ${message}`);
      }
    }
    const accountsText = pick(flags.accountsUrl, env.SPOTIFY_ACCOUNTS_URL)?.trim();
    if (accountsText !== undefined) {
      try {
        validateAccountsUrl(accountsText);
        accountsUrl = accountsText;
      } catch (error) {
        const message = error instanceof ConfigurationError ? error.message : 'is not a usable URL';
        problems.push(`SPOTIFY_ACCOUNTS_URL: ${message}`);
      }
    }
    if (keysText === undefined) {
      problems.push(
        'TOKEN_ENCRYPTION_KEYS is required: create a key with `spotify-session keys generate` and keep it secret (active key first, comma-separated)',
      );
    }
  }
  if (keysText !== undefined) {
    try {
      keyring = await Keyring.parse(keysText);
    } catch (error) {
      problems.push(
        error instanceof ConfigurationError
          ? error.message
          : 'TOKEN_ENCRYPTION_KEYS could not be read',
      );
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: {
      mode,
      clientId: clientId ?? '',
      clientSecret: clientSecret ?? '',
      redirectUris,
      keyring,
      accountsUrl,
      host,
      port: port as number,
      basePath,
      redisUrl,
      corsOrigins,
      trustProxy: trustProxy as number,
      logLevel: logLevel as ServeConfig['logLevel'],
      rateLimit: {
        ip: rateLimitIp as number,
        token: rateLimitToken as number,
        window: rateLimitWindow as number,
      },
      upstreamTimeout: upstreamTimeout as number,
      refreshTokenMaxAge: refreshTokenMaxAge as number,
      shutdownGracePeriod: shutdownGracePeriod as number,
    },
  };
}

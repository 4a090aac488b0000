/**
 * The one options pipeline from environment variables (and `serve`'s flags) to
 * {@link TokenServerOptions}: `spotify-session serve` and the Cloudflare Worker example both
 * call {@link loadTokenServerOptions}.
 *
 * Neutral and pure: an env object and flags in (never `process.env` itself), options or the
 * list of problems out — one clear message per problem, naming the variable (or the flag,
 * when the flag gave the value), never a secret's value.
 */
import * as v from 'valibot';
import { ConfigurationError } from '../core/errors/index.js';
import { validateAccountsUrl, validateRedirectUri } from '../core/internal.js';
import { isIpAddress } from './_client-ip.js';
import { nearMissMessage, nearMissNames } from './_env-near-miss.js';
import { readKeyList } from './keyring.js';
import {
  DEFAULT_REFRESH_TOKEN_MAX_AGE,
  LISTENER_DEFAULTS,
  normaliseBasePath,
  REDIS_COMMAND_TIMEOUT,
  TOKEN_SERVER_DEFAULTS,
  type TokenServerOptions,
} from './options.js';

/** Flags of `serve`; each overrides the environment variable named beside it. */
export interface TokenServerFlags {
  /** `--client-id` (SPOTIFY_CLIENT_ID) */
  clientId?: string | undefined;
  /** `--redirect-uri`, repeatable, each comma-separated (SPOTIFY_REDIRECT_URI) */
  redirectUri?: string | readonly string[] | undefined;
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
  /** `--max-connections` (MAX_CONNECTIONS) */
  maxConnections?: string | undefined;
}

const DEFAULT_LIMITS = TOKEN_SERVER_DEFAULTS.rateLimit;

/** Log levels pino knows, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One setting: its variable, its flag (if any), its default and what it does. */
export interface SettingDescription {
  env: string;
  flag?: string;
  /** Shown as the default; `undefined` for required or unset-by-default settings. */
  default?: string;
  description: string;
}

/**
 * Every setting {@link loadTokenServerOptions} reads, in the order `serve --help` and the
 * docs list them. The secrets have no flag: flags show up in `ps` and shell history.
 */
export const SETTINGS: readonly SettingDescription[] = [
  { env: 'SPOTIFY_CLIENT_ID', flag: '--client-id', description: "your app's client id" },
  {
    env: 'SPOTIFY_CLIENT_SECRET',
    description: "your app's client secret (environment only, never a flag)",
  },
  {
    env: 'SPOTIFY_REDIRECT_URI',
    flag: '--redirect-uri',
    description: 'allowed redirect URIs, comma-separated or a repeated flag, the default first',
  },
  {
    env: 'TOKEN_ENCRYPTION_KEYS',
    description:
      '"kid:secret" keys, comma-separated, sealing key first (environment only; `spotify-session keys generate`)',
  },
  {
    env: 'SPOTIFY_ACCOUNTS_URL',
    flag: '--accounts-url',
    default: 'https://accounts.spotify.com',
    description: 'Accounts service base URL',
  },
  { env: 'HOST', flag: '--host', default: '127.0.0.1', description: 'interface to listen on' },
  { env: 'PORT', flag: '--port', default: '3000', description: 'port, 0 = any free one' },
  { env: 'BASE_PATH', flag: '--base-path', description: 'prefix of /swap and /refresh, e.g. /v1' },
  { env: 'REDIS_URL', flag: '--redis-url', description: 'share rate limits through Redis' },
  {
    env: 'REDIS_COMMAND_TIMEOUT_MS',
    default: String(REDIS_COMMAND_TIMEOUT),
    description: 'longest wait for Redis per rate-limit check, then memory counts',
  },
  {
    env: 'RATE_LIMIT_IP',
    flag: '--rate-limit-ip',
    default: String(DEFAULT_LIMITS.ip),
    description: 'requests per window per client IP, 0 = off',
  },
  {
    env: 'RATE_LIMIT_TOKEN',
    flag: '--rate-limit-token',
    default: String(DEFAULT_LIMITS.token),
    description: 'refreshes per window per refresh token, 0 = off',
  },
  {
    env: 'RATE_LIMIT_WINDOW_S',
    default: String(DEFAULT_LIMITS.window),
    description: 'rate-limit window in seconds',
  },
  {
    env: 'TRUST_PROXY',
    flag: '--trust-proxy',
    default: 'false',
    description: 'false, true or the number of proxies in front (X-Forwarded-For)',
  },
  {
    env: 'CORS_ORIGINS',
    flag: '--cors-origins',
    description: 'browser origins allowed, comma-separated',
  },
  {
    env: 'UPSTREAM_TIMEOUT_MS',
    flag: '--upstream-timeout-ms',
    default: String(TOKEN_SERVER_DEFAULTS.upstreamTimeout),
    description: 'how long to wait for Spotify before answering 504',
  },
  {
    env: 'REFRESH_TOKEN_MAX_AGE_S',
    default: String(DEFAULT_REFRESH_TOKEN_MAX_AGE),
    description: 'oldest sealed refresh token accepted (seconds since the authorization)',
  },
  {
    env: 'MAX_CONNECTIONS',
    flag: '--max-connections',
    default: String(LISTENER_DEFAULTS.maxConnections),
    description: 'most connections open at once; more are closed unanswered',
  },
  {
    env: 'HEADERS_TIMEOUT_MS',
    default: String(LISTENER_DEFAULTS.headersTimeout),
    description: 'time a client has to send its headers (then 408)',
  },
  {
    env: 'REQUEST_TIMEOUT_MS',
    default: String(LISTENER_DEFAULTS.requestTimeout),
    description: 'time a client has to send its whole request (then 408)',
  },
  {
    env: 'KEEP_ALIVE_TIMEOUT_MS',
    default: String(LISTENER_DEFAULTS.keepAliveTimeout),
    description: 'how long an idle keep-alive connection stays open',
  },
  {
    env: 'MAX_REQUESTS_PER_SOCKET',
    default: String(LISTENER_DEFAULTS.maxRequestsPerSocket),
    description: 'requests on one connection before it is closed, 0 = no limit',
  },
  {
    env: 'DRAIN_DELAY_MS',
    default: String(LISTENER_DEFAULTS.drainDelay),
    description: 'on SIGTERM, how long /readyz says "draining" before the listener closes',
  },
  {
    env: 'SHUTDOWN_GRACE_MS',
    default: String(LISTENER_DEFAULTS.shutdownGracePeriod),
    description: 'then, how long in-flight requests may take before connections are cut',
  },
  {
    env: 'LOG_LEVEL',
    flag: '--log-level',
    default: 'info',
    description: LOG_LEVELS.join('|'),
  },
  {
    env: 'NODE_ENV',
    description:
      'production: the Spotify settings are required; unset, development or test without credentials: embedded emulator',
  },
];

/** Where and how `serve` listens (the Node adapter's settings beyond TokenServerOptions). */
export interface ServeSettings {
  host: string;
  port: number;
  redisUrl: string | undefined;
  redisCommandTimeout: number;
  drainDelay: number;
  shutdownGracePeriod: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  maxRequestsPerSocket: number;
  maxConnections: number;
}

/** {@link TokenServerOptions} without the app's credentials (the embedded mode's). */
export type EmbeddedTokenServerOptions = Omit<
  TokenServerOptions,
  'clientId' | 'clientSecret' | 'redirectUris'
>;

/** Settings that cannot work: one message per problem, naming the variable or flag. */
export interface TokenServerConfigProblems {
  ok: false;
  problems: string[];
}

/** Options for a server with real Spotify credentials. */
export interface LoadedSpotifyOptions {
  ok: true;
  mode: 'spotify';
  /** Ready for `createTokenServer` (add runtime parts such as `clientIp`). */
  options: TokenServerOptions;
  /** The Node listener's settings (`serveTokenServer`); other runtimes ignore them. */
  serve: ServeSettings;
  /**
   * Variables that are almost a setting's name (`SPOTIFY_CLIENTID`), so are not read: say
   * them before starting. With `NODE_ENV=production` they are problems instead.
   */
  warnings: string[];
}

/** What {@link loadTokenServerOptions} found. */
export type LoadedTokenServerOptions =
  | LoadedSpotifyOptions
  | {
      ok: true;
      /**
       * No credentials and `embedded: true` was allowed (development): the caller supplies
       * an emulator's client and a throw-away key.
       */
      mode: 'embedded';
      options: EmbeddedTokenServerOptions;
      serve: ServeSettings;
      /** As {@link LoadedSpotifyOptions.warnings}. */
      warnings: string[];
    }
  | TokenServerConfigProblems;

/** Options of {@link loadTokenServerOptions}. */
export interface LoadTokenServerOptionsOptions {
  /**
   * Allow the embedded mode (no credentials, `NODE_ENV` unset, `development` or `test`).
   * Without it missing credentials are problems, as in production.
   * @default false
   */
  embedded?: boolean;
}

/** `NODE_ENV` values that allow the embedded emulator when no credentials are set. */
const DEVELOPMENT_ENVS = new Set(['', 'development', 'dev', 'test']);

/** One value, the flag winning over the variable, and the name the user wrote it under. */
interface Given {
  text: string;
  name: string;
}

/**
 * Reads the token server's settings. Flags win over environment variables. Every problem
 * gives one message naming the variable (or flag) and what to do; values of secrets are
 * never repeated.
 *
 * ```ts
 * import { createTokenServer, loadTokenServerOptions } from '@spotify-session/cli/server';
 *
 * declare const env: Record<string, string | undefined>;
 * const loaded = loadTokenServerOptions(env);
 * if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
 * const server = createTokenServer(loaded.options);
 * ```
 */
export function loadTokenServerOptions(
  env: object,
  flags?: TokenServerFlags,
  settings?: LoadTokenServerOptionsOptions & { embedded?: false | undefined },
): LoadedSpotifyOptions | TokenServerConfigProblems;
export function loadTokenServerOptions(
  env: object,
  flags: TokenServerFlags | undefined,
  settings: LoadTokenServerOptionsOptions,
): LoadedTokenServerOptions;
export function loadTokenServerOptions(
  env: object,
  flags: TokenServerFlags = {},
  settings: LoadTokenServerOptionsOptions = {},
): LoadedTokenServerOptions {
  const vars = env as Readonly<Record<string, unknown>>;
  const problems: string[] = [];
  const flagNames: Record<string, string> = {};
  for (const setting of SETTINGS) if (setting.flag) flagNames[setting.env] = setting.flag;

  /** The flag's value, else the variable's; blank counts as unset. */
  const given = (name: string, flag?: string | undefined): Given | undefined => {
    if (flag !== undefined && flag.trim() !== '') {
      return { text: flag, name: flagNames[name] ?? name };
    }
    const value = vars[name];
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    return { text: value, name };
  };
  const whole = (
    name: string,
    flag: string | undefined,
    fallback: number,
    min: number,
    max: number,
  ): number => {
    const value = given(name, flag);
    if (value === undefined) return fallback;
    const text = value.text.trim();
    const number = Number(text);
    if (!/^\d{1,10}$/.test(text) || number < min || number > max) {
      problems.push(`${value.name} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return number;
  };
  /** Comma-separated entries; an empty one (doubled or trailing comma) is a problem. */
  const entries = (value: Given | undefined): string[] => {
    if (value === undefined) return [];
    const parts = value.text.split(',').map((part) => part.trim());
    for (const [index, part] of parts.entries()) {
      if (part === '') {
        problems.push(
          `${value.name} entry ${index + 1} is empty (look for a doubled or trailing comma)`,
        );
      }
    }
    return parts.filter((part) => part !== '');
  };

  const nodeEnvText = typeof vars.NODE_ENV === 'string' ? vars.NODE_ENV.trim() : '';
  const production = nodeEnvText === 'production';
  // A misspelt variable is ignored: in production that is a server without the setting
  // someone meant to give it, so it does not start (the messages join the problems below).
  const warnings = nearMissNames(
    vars,
    SETTINGS.map((setting) => setting.env),
  ).map(nearMissMessage);
  const clientId = given('SPOTIFY_CLIENT_ID', flags.clientId)?.text.trim();
  const clientSecret = given('SPOTIFY_CLIENT_SECRET')?.text.trim();
  const credentialsGiven = clientId !== undefined || clientSecret !== undefined;
  let mode: 'spotify' | 'embedded' = 'spotify';
  if (!credentialsGiven && settings.embedded === true && !production) {
    if (DEVELOPMENT_ENVS.has(nodeEnvText.toLowerCase())) mode = 'embedded';
    else {
      // `prod` or `PRODUCTION` was meant as production: never fall back to the emulator.
      problems.push(
        `NODE_ENV is "${nodeEnvText.slice(0, 40)}": set NODE_ENV=production (exactly) with the Spotify settings below, ` +
          'or leave it unset (or development/test) to run against the embedded emulator',
      );
    }
  }

  // Listener.
  const hostGiven = given('HOST', flags.host);
  let host = '127.0.0.1';
  if (hostGiven !== undefined) {
    const text = hostGiven.text.trim();
    if (isIpAddress(text) || isHostName(text)) {
      host = text.startsWith('[') ? text.slice(1, -1) : text;
    } else {
      problems.push(
        `${hostGiven.name} must be an IP address (0.0.0.0, ::, 127.0.0.1) or a host name`,
      );
    }
  }
  const port = whole('PORT', flags.port, 3000, 0, 65_535);
  const basePathGiven = given('BASE_PATH', flags.basePath);
  let basePath = '';
  if (basePathGiven !== undefined) {
    try {
      basePath = normaliseBasePath(basePathGiven.text, basePathGiven.name);
    } catch (error) {
      problems.push(error instanceof ConfigurationError ? error.message : 'BASE_PATH is invalid');
    }
  }
  const redisGiven = given('REDIS_URL', flags.redisUrl);
  let redisUrl: string | undefined;
  if (redisGiven !== undefined) {
    const result = v.safeParse(redisUrlSchema, redisGiven.text);
    if (result.success) redisUrl = result.output;
    else problems.push(`${redisGiven.name} must look like redis://host:6379 (rediss:// for TLS)`);
  }

  const corsGiven = given('CORS_ORIGINS', flags.corsOrigins);
  const corsOrigins = entries(corsGiven);
  for (const [index, origin] of corsOrigins.entries()) {
    if (!isOrigin(origin)) {
      problems.push(
        `${corsGiven?.name} entry ${index + 1} ("${origin.slice(0, 80)}") must be an origin like https://app.example.com (scheme, host and port only; no path, no *)`,
      );
    }
  }

  const trustGiven = given('TRUST_PROXY', flags.trustProxy);
  let trustProxy = 0;
  if (trustGiven !== undefined) {
    const text = trustGiven.text.trim().toLowerCase();
    if (/^(true|false|\d{1,2})$/.test(text)) {
      trustProxy = text === 'true' ? 1 : text === 'false' ? 0 : Number(text);
    } else {
      problems.push(
        `${trustGiven.name} must be false, true (one proxy) or the number of proxies in front (0-99)`,
      );
    }
  }

  const levelGiven = given('LOG_LEVEL', flags.logLevel);
  let logLevel: (typeof LOG_LEVELS)[number] = 'info';
  if (levelGiven !== undefined) {
    const text = levelGiven.text.trim().toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(text)) {
      logLevel = text as (typeof LOG_LEVELS)[number];
    } else problems.push(`${levelGiven.name} must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const rateLimit = {
    ip: whole('RATE_LIMIT_IP', flags.rateLimitIp, DEFAULT_LIMITS.ip, 0, 1_000_000),
    token: whole('RATE_LIMIT_TOKEN', flags.rateLimitToken, DEFAULT_LIMITS.token, 0, 1_000_000),
    window: whole('RATE_LIMIT_WINDOW_S', undefined, DEFAULT_LIMITS.window, 1, 86_400),
  };
  const upstreamTimeout = whole(
    'UPSTREAM_TIMEOUT_MS',
    flags.upstreamTimeoutMs,
    TOKEN_SERVER_DEFAULTS.upstreamTimeout,
    1,
    120_000,
  );
  const refreshTokenMaxAge = whole(
    'REFRESH_TOKEN_MAX_AGE_S',
    undefined,
    DEFAULT_REFRESH_TOKEN_MAX_AGE,
    1,
    DEFAULT_REFRESH_TOKEN_MAX_AGE,
  );
  const serve: ServeSettings = {
    host,
    port,
    redisUrl,
    redisCommandTimeout: whole(
      'REDIS_COMMAND_TIMEOUT_MS',
      undefined,
      REDIS_COMMAND_TIMEOUT,
      1,
      10_000,
    ),
    drainDelay: whole('DRAIN_DELAY_MS', undefined, LISTENER_DEFAULTS.drainDelay, 0, 600_000),
    shutdownGracePeriod: whole(
      'SHUTDOWN_GRACE_MS',
      undefined,
      LISTENER_DEFAULTS.shutdownGracePeriod,
      0,
      600_000,
    ),
    headersTimeout: whole(
      'HEADERS_TIMEOUT_MS',
      undefined,
      LISTENER_DEFAULTS.headersTimeout,
      1,
      600_000,
    ),
    requestTimeout: whole(
      'REQUEST_TIMEOUT_MS',
      undefined,
      LISTENER_DEFAULTS.requestTimeout,
      1,
      600_000,
    ),
    keepAliveTimeout: whole(
      'KEEP_ALIVE_TIMEOUT_MS',
      undefined,
      LISTENER_DEFAULTS.keepAliveTimeout,
      0,
      600_000,
    ),
    maxRequestsPerSocket: whole(
      'MAX_REQUESTS_PER_SOCKET',
      undefined,
      LISTENER_DEFAULTS.maxRequestsPerSocket,
      0,
      1_000_000,
    ),
    maxConnections: whole(
      'MAX_CONNECTIONS',
      flags.maxConnections,
      LISTENER_DEFAULTS.maxConnections,
      1,
      1_000_000,
    ),
  };
  if (serve.headersTimeout > serve.requestTimeout) {
    problems.push('HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS');
  }

  const common = {
    basePath,
    corsOrigins,
    trustProxy,
    rateLimit,
    upstreamTimeout,
    refreshTokenMaxAge,
    logger: { level: logLevel },
  };
  const keysText = given('TOKEN_ENCRYPTION_KEYS')?.text;
  const checkKeys = () => {
    if (keysText === undefined) return;
    try {
      // The syntax only (synchronously); createTokenServer imports the keys.
      for (const key of readKeyList(keysText, 'TOKEN_ENCRYPTION_KEYS')) key.secret.fill(0);
    } catch (error) {
      problems.push(
        error instanceof ConfigurationError
          ? error.message
          : 'TOKEN_ENCRYPTION_KEYS could not be read',
      );
    }
  };

  if (mode === 'embedded') {
    checkKeys();
    if (problems.length > 0) return { ok: false, problems: [...problems, ...warnings] };
    return {
      ok: true,
      mode,
      options: { ...common, ...(keysText === undefined ? {} : { encryptionKeys: keysText }) },
      serve,
      warnings,
    };
  }

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
  const redirectUris: string[] = [];
  const redirectFlags =
    flags.redirectUri === undefined
      ? []
      : typeof flags.redirectUri === 'string'
        ? [flags.redirectUri]
        : [...flags.redirectUri];
  const redirectGiven: Given[] =
    redirectFlags.length > 0
      ? redirectFlags.map((text) => ({ text, name: '--redirect-uri' }))
      : [given('SPOTIFY_REDIRECT_URI')].filter((value) => value !== undefined);
  if (redirectGiven.length === 0) {
    problems.push(
      'SPOTIFY_REDIRECT_URI is required: the redirect URI(s) your app registered, comma-separated, the default first (e.g. myapp://callback)',
    );
  }
  let entryNumber = 0;
  for (const value of redirectGiven) {
    const name = value.name;
    for (const uri of entries(value)) {
      entryNumber++;
      try {
        validateRedirectUri(uri);
        if (redirectUris.includes(uri)) {
          problems.push(`${name} entry ${entryNumber} repeats an earlier entry`);
        } else redirectUris.push(uri);
      } catch (error) {
        const message = error instanceof ConfigurationError ? error.message : 'is not valid';
        problems.push(`${name} entry ${entryNumber}: ${message}`);
      }
    }
  }
  const accountsGiven = given('SPOTIFY_ACCOUNTS_URL', flags.accountsUrl);
  let accountsUrl: string | undefined;
  if (accountsGiven !== undefined) {
    try {
      validateAccountsUrl(accountsGiven.text.trim());
      accountsUrl = accountsGiven.text.trim();
    } catch (error) {
      const message = error instanceof ConfigurationError ? error.message : 'is not a usable URL';
      problems.push(`${accountsGiven.name}: ${message}`);
    }
  }
  checkKeys();
  if (keysText === undefined) {
    problems.push(
      'TOKEN_ENCRYPTION_KEYS is required: create a key with `spotify-session keys generate` and keep it secret (active key first, comma-separated)',
    );
  }

  if (problems.length > 0 || (production && warnings.length > 0)) {
    return { ok: false, problems: [...problems, ...warnings] };
  }
  return {
    ok: true,
    mode: 'spotify',
    warnings,
    options: {
      ...common,
      clientId: clientId as string,
      clientSecret: clientSecret as string,
      redirectUris,
      encryptionKeys: keysText as string,
      ...(accountsUrl === undefined ? {} : { accountsUrl }),
    },
    serve,
  };
}

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
  }),
);

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

/** A DNS host name (RFC 1123 labels), e.g. `localhost` or `tokens.internal`. */
function isHostName(text: string): boolean {
  return (
    text.length <= 253 &&
    /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
      text,
    ) &&
    // All-numeric dotted text is an (invalid) IPv4 address, not a name: 1.2.3.4.5.6.
    !/^[\d.]+$/.test(text)
  );
}

/**
 * The one options pipeline from environment variables (and `serve`'s flags) to
 * {@link TokenServerOptions}: `spotify-session serve` and the Cloudflare Worker example both
 * call {@link loadTokenServerOptions}. Which variables and flags there are, their defaults
 * and what they accept is the settings table's (`settings.ts`); this file only decides the
 * mode and the order of the problems.
 *
 * Neutral and pure: an env object and flags in (never `process.env` itself), options or the
 * list of problems out — one clear message per problem, naming the variable (or the flag,
 * when the flag gave the value), never a secret's value.
 */
import { nearMissMessage, nearMissNames } from './_env-near-miss.js';
import type { TokenServerOptions } from './options.js';
import {
  checkSetting,
  flagKey,
  SETTING_ROWS,
  type Setting,
  settingRelationProblems,
  TOKEN_SERVER_SETTINGS,
} from './settings.js';

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

/** Whether {@link loadTokenServerOptions} may choose the embedded mode. */
export interface EmbeddedModeOptions {
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

/** Sets `value` at a dotted `path` (`rateLimit.ip`) of `target`. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node = target;
  for (const key of keys) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[last] = value;
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
  mode?: EmbeddedModeOptions & { embedded?: false | undefined },
): LoadedSpotifyOptions | TokenServerConfigProblems;
export function loadTokenServerOptions(
  env: object,
  flags: TokenServerFlags | undefined,
  mode: EmbeddedModeOptions,
): LoadedTokenServerOptions;
export function loadTokenServerOptions(
  env: object,
  flags: TokenServerFlags = {},
  modeOptions: EmbeddedModeOptions = {},
): LoadedTokenServerOptions {
  const vars = env as Readonly<Record<string, unknown>>;
  const flagValues = flags as Readonly<Record<string, string | readonly string[] | undefined>>;
  const problems: string[] = [];

  /** The flag's value, else the variable's; blank counts as unset. */
  const given = (row: Setting): Given | undefined => {
    const flag = row.flag === undefined ? undefined : flagValues[flagKey(row.flag)];
    // A repeated flag's values are entries of one list, numbered on from one to the next.
    const flagText = typeof flag === 'string' || flag === undefined ? flag : flag.join(',');
    if (flagText !== undefined && flagText.trim() !== '') {
      return { text: flagText, name: row.flag as string };
    }
    const value = vars[row.env];
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    return { text: value, name: row.env };
  };

  const nodeEnvText = typeof vars.NODE_ENV === 'string' ? vars.NODE_ENV.trim() : '';
  const production = nodeEnvText === 'production';
  // A misspelt variable is ignored: in production that is a server without the setting
  // someone meant to give it, so it does not start (the messages join the problems below).
  const warnings = nearMissNames(
    vars,
    SETTING_ROWS.map((row) => row.env),
  ).map(nearMissMessage);
  const credentialsGiven =
    given(TOKEN_SERVER_SETTINGS.clientId) !== undefined ||
    given(TOKEN_SERVER_SETTINGS.clientSecret) !== undefined;
  let mode: 'spotify' | 'embedded' = 'spotify';
  if (!credentialsGiven && modeOptions.embedded === true && !production) {
    if (DEVELOPMENT_ENVS.has(nodeEnvText.toLowerCase())) mode = 'embedded';
    else {
      // `prod` or `PRODUCTION` was meant as production: never fall back to the emulator.
      problems.push(
        `NODE_ENV is "${nodeEnvText.slice(0, 40)}": set NODE_ENV=production (exactly) with the Spotify settings below, ` +
          'or leave it unset (or development/test) to run against the embedded emulator',
      );
    }
  }

  const options: Record<string, unknown> = {};
  const serve: Record<string, unknown> = {};
  const hint = production ? ' (NODE_ENV=production: the embedded emulator is not started)' : '';
  const read = (row: Setting) => {
    if (row.rule === undefined || row.option === undefined) return;
    if (mode === 'embedded' && row.emulated) return;
    const target = row.part === 'listener' ? serve : options;
    const value = given(row);
    if (value === undefined) {
      if (row.default !== undefined) setPath(target, row.option, row.default);
      else if (row.required !== undefined && mode === 'spotify') {
        problems.push(`${row.env} is required: ${row.required}${hint}`);
      }
      return;
    }
    const checked = checkSetting(row, value.text, value.name, 'text');
    if (checked.ok) setPath(target, row.option, checked.value);
    else {
      problems.push(...checked.problems.map((problem) => problem.message));
      if (row.default !== undefined) setPath(target, row.option, row.default);
    }
  };
  // The server's own settings first, the app's credentials and keys after them.
  for (const row of SETTING_ROWS) if (row.part !== 'app') read(row);
  for (const row of SETTING_ROWS) if (row.part === 'app') read(row);
  for (const problem of settingRelationProblems(
    (row) => (row.part === 'listener' ? serve : options)[row.option as string],
    (row) => row.env,
  )) {
    problems.push(problem.message);
  }
  serve.redisUrl ??= undefined;

  if (problems.length > 0 || (production && warnings.length > 0)) {
    return { ok: false, problems: [...problems, ...warnings] };
  }
  if (mode === 'embedded') {
    return {
      ok: true,
      mode,
      options: options as EmbeddedTokenServerOptions,
      serve: serve as unknown as ServeSettings,
      warnings,
    };
  }
  return {
    ok: true,
    mode,
    options: options as unknown as TokenServerOptions,
    serve: serve as unknown as ServeSettings,
    warnings,
  };
}

/**
 * Every setting of the token server in one table: per setting its environment variable, its
 * `serve` flag, the option it sets (of `createTokenServer` or `serveTokenServer`), its
 * default, the values it takes (a valibot schema for a program's value and one for a
 * variable's text, both from one rule) and its help text. Everything else is derived from
 * this table: `loadTokenServerOptions` (variables and flags), `createTokenServer`'s and
 * `serveTokenServer`'s option checks, `serve --help`, the configuration tables of README.md
 * and docs/server.md (`npm run docs:settings`, checked by a test), and the near-miss
 * detection of misspelt variables. A new setting is one row.
 *
 * A rule's messages are what follows the name the user wrote, so one rule says it for the
 * variable, the flag and the option alike: `PORT`, `--port` or `port` + ` must be a whole
 * number from 0 to 65535`; a list's entries are `SPOTIFY_REDIRECT_URI entry 2` in text and
 * `redirectUris[1]` in code. Web-standard globals only (the loader runs on Workers too).
 */
import * as v from 'valibot';
import { ConfigurationError } from '../core/errors/index.js';
import { DEFAULT_ACCOUNTS_URL } from '../core/grants.js';
import { validateAccountsUrl, validateRedirectUri } from '../core/internal.js';
import { isIpAddress } from './_client-ip.js';
import { keyListProblem } from './keyring.js';

/** What a setting's values must be: one rule for a program's value and a variable's text. */
export interface Rule<T> {
  /** A value given in code → the value used. */
  readonly value: v.GenericSchema<unknown, T>;
  /** The text of a variable or flag → the value used (parsed, then the same checks). */
  readonly text: v.GenericSchema<string, T>;
  /** The values it takes, as the docs and `serve --help` show them (`0–65535`). */
  readonly values?: string | undefined;
}

/**
 * Where a setting goes: `app` and `server` set `TokenServerOptions` (the app's credentials
 * and keys are checked after the server's own settings, so their problems come last),
 * `listener` the Node listener (`ServeSettings`, `ServeTokenServerOptions`), `mode` only
 * decides which mode `serve` runs in.
 */
export type SettingPart = 'app' | 'server' | 'listener' | 'mode';

/** One setting: everything about it. */
export interface Setting<T = unknown> {
  /** The environment variable. */
  readonly env: string;
  /** The `serve` flag; none for secrets (flags show up in `ps` and shell history). */
  readonly flag?: `--${string}` | undefined;
  /** The flag may be repeated (each value comma-separated as well). */
  readonly repeatable?: boolean | undefined;
  readonly part: SettingPart;
  /** The option it sets, as a dotted path (`rateLimit.ip`); none for `NODE_ENV`. */
  readonly option?: string | undefined;
  /** The value when none is given, applied by the loader and the option resolvers. */
  readonly default?: T | undefined;
  /** The default as shown, when `String(default)` is not it. */
  readonly shownDefault?: string | undefined;
  /** What leaving it unset means, when it has no default (markdown, for the docs). */
  readonly unset?: string | undefined;
  /**
   * Required with real Spotify credentials: the rest of the message
   * `<VARIABLE> is required: <this>`.
   */
  readonly required?: string | undefined;
  /** The embedded emulator supplies it in development: then it is not read. */
  readonly emulated?: boolean | undefined;
  /** The key of a setting this one must not exceed (`headersTimeout` ≤ `requestTimeout`). */
  readonly notAbove?: string | undefined;
  /** One line for `serve --help`, also the start of the docs' meaning column. */
  readonly help: string;
  /** More for the docs' meaning column (markdown). */
  readonly details?: string | undefined;
  readonly rule?: Rule<T> | undefined;
}

/** Log levels pino knows, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Spotify's refresh tokens last six months from the original authorization (https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens). */
export const DEFAULT_REFRESH_TOKEN_MAX_AGE = 15_552_000;

const ENTRY_EMPTY = ' is empty (look for a doubled or trailing comma)';

/** The message a check failed with, for the rest of a message: `: <reason>`. */
function reasonOf(error: unknown, fallback: string): string {
  return error instanceof ConfigurationError ? error.message : fallback;
}

function wholeNumber(min: number, max: number): Rule<number> {
  const message = ` must be a whole number from ${min} to ${max}`;
  const value = v.message(
    v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max)),
    message,
  );
  const text = v.message(
    v.pipe(
      v.string(),
      v.trim(),
      v.transform((digits) => (/^\d{1,10}$/.test(digits) ? Number(digits) : Number.NaN)),
      value,
    ),
    message,
  );
  return { value, text, values: `${min}–${max}` };
}

/** A string that is not blank; its text is trimmed. `required`: the rest of the message. */
function nonBlank(required: string): Rule<string> {
  const message = ` is required: ${required}`;
  return {
    value: v.message(
      v.pipe(
        v.string(),
        v.check((value) => value.trim() !== ''),
      ),
      message,
    ),
    text: v.message(v.pipe(v.string(), v.trim(), v.nonEmpty()), message),
  };
}

/** The same rule for a value and for text that needs no parsing. */
function same<T>(schema: v.GenericSchema<string, T>, values?: string): Rule<T> {
  return { value: schema, text: schema, values };
}

/** Comma-separated entries, trimmed; an empty one (doubled or trailing comma) is refused. */
function entriesOf<T>(entry: v.GenericSchema<string, T>) {
  return v.pipe(
    v.string(),
    v.transform((text) => text.split(',').map((part) => part.trim())),
    v.array(v.pipe(v.string(), v.nonEmpty(ENTRY_EMPTY), entry)),
  );
}

/** Refuses a list with an entry equal to an earlier one, naming the later entry. */
function noRepeats() {
  return v.rawCheck<string[]>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const list = dataset.value;
    const index = list.findIndex((entry, at) => list.indexOf(entry) !== at);
    if (index < 0) return;
    addIssue({
      message: ' repeats an earlier entry',
      path: [{ type: 'array', origin: 'value', input: list, key: index, value: list[index] }],
    });
  });
}

const redirectUri = v.pipe(
  v.string(),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      validateRedirectUri(dataset.value);
    } catch (error) {
      addIssue({ message: `: ${reasonOf(error, 'is not valid')}` });
    }
  }),
);
const NEEDS_A_REDIRECT_URI = ' needs at least one redirect URI (the first is the default)';

const origin = v.pipe(
  v.string(),
  v.check(
    isOrigin,
    (issue) =>
      ` ("${String(issue.input).slice(0, 80)}") must be an origin like https://app.example.com (scheme, host and port only; no path, no *)`,
  ),
);

const encryptionKeys = v.pipe(
  v.string(),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = keyListProblem(dataset.value);
    if (problem !== undefined) addIssue({ message: problem });
  }),
);

const BASE_PATH_SEGMENTS = /^(\/[A-Za-z0-9._~-]+)+$/;
/**
 * `'/v1/'` and `'v1'` are `'/v1'`, `'/'` is `''`. Characters outside `A-Z a-z 0-9 . _ ~ -`
 * and the dot segments `.` and `..` are refused: URL parsers remove those (RFC 3986
 * §5.2.4), so `/v1/../x` would never match a request path.
 */
const basePath = v.pipe(
  v.string(' must be a string like "/v1"'),
  v.transform((text) => {
    const trimmed = text.trim().replace(/\/+$/, '');
    return trimmed === '' || trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  }),
  v.check(
    (path) =>
      path === '' ||
      (BASE_PATH_SEGMENTS.test(path) &&
        path
          .slice(1)
          .split('/')
          .every((segment) => segment !== '.' && segment !== '..')),
    ' must be a path like "/v1" (letters, digits, . _ ~ - between slashes; no "." or ".." segments)',
  ),
);

const host = v.message(
  v.pipe(
    v.string(),
    v.trim(),
    v.check((text) => isIpAddress(text) || isHostName(text)),
    v.transform((text) => (text.startsWith('[') ? text.slice(1, -1) : text)),
  ),
  ' must be an IP address (0.0.0.0, ::, 127.0.0.1) or a host name',
);

const redisUrl = v.pipe(
  v.string(),
  v.trim(),
  v.check(isRedisUrl, ' must look like redis://host:6379 (rediss:// for TLS)'),
);

const TRUST_PROXY_MESSAGE =
  ' must be false, true (one proxy) or the number of proxies in front (0-99)';
const proxyCount = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(99));
const trustProxy: Rule<number> = {
  value: v.message(
    v.pipe(
      v.union([v.boolean(), proxyCount]),
      v.transform((given) => (given === true ? 1 : given === false ? 0 : given)),
    ),
    TRUST_PROXY_MESSAGE,
  ),
  text: v.message(
    v.pipe(
      v.string(),
      v.trim(),
      v.toLowerCase(),
      v.regex(/^(true|false|\d{1,2})$/),
      v.transform((text) => (text === 'true' ? 1 : text === 'false' ? 0 : Number(text))),
    ),
    TRUST_PROXY_MESSAGE,
  ),
  values: '`false`, `true` (= 1) or 0–99',
};

const LOG_LEVEL_MESSAGE = ` must be one of ${LOG_LEVELS.join(', ')}`;
const logLevel: Rule<(typeof LOG_LEVELS)[number]> = {
  value: v.picklist(LOG_LEVELS, LOG_LEVEL_MESSAGE),
  text: v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist(LOG_LEVELS, LOG_LEVEL_MESSAGE)),
  values: LOG_LEVELS.map((level) => `\`${level}\``).join(', '),
};

/** Typed rows: `setting()` only infers `T` from the rule. */
function setting<T>(row: Setting<T>): Setting<T> {
  return row;
}

/** The table, by key. The order is the order of `serve --help` and the docs. */
export const TOKEN_SERVER_SETTINGS = {
  clientId: setting({
    env: 'SPOTIFY_CLIENT_ID',
    flag: '--client-id',
    part: 'app',
    option: 'clientId',
    emulated: true,
    required: "your app's client id from https://developer.spotify.com/dashboard",
    unset: '— (required in production)',
    help: "your app's client id",
    details: 'giving it (or the secret) turns the embedded emulator off',
    rule: nonBlank("your app's client id from https://developer.spotify.com/dashboard"),
  }),
  clientSecret: setting({
    env: 'SPOTIFY_CLIENT_SECRET',
    part: 'app',
    option: 'clientSecret',
    emulated: true,
    required: "your app's client secret (environment only, never a flag)",
    unset: '— (required in production)',
    help: "your app's client secret (environment only, never a flag)",
    details: 'flags show up in `ps` and shell history',
    rule: nonBlank("your app's client secret"),
  }),
  redirectUris: setting({
    env: 'SPOTIFY_REDIRECT_URI',
    flag: '--redirect-uri',
    repeatable: true,
    part: 'app',
    option: 'redirectUris',
    emulated: true,
    required:
      'the redirect URI(s) your app registered, comma-separated, the default first (e.g. myapp://callback)',
    unset: '— (required in production)',
    help: 'allowed redirect URIs, comma-separated or a repeated flag, the default first',
    details: 'the first is used when a swap sends none; an empty or repeated entry is refused',
    rule: {
      values:
        "Spotify's rules: `https://…`, `http://127.0.0.1:PORT/…`, `http://[::1]:PORT/…` or an app scheme (`myapp://callback`); not `localhost`",
      value: v.pipe(
        v.array(redirectUri, NEEDS_A_REDIRECT_URI),
        v.minLength(1, NEEDS_A_REDIRECT_URI),
        noRepeats(),
      ),
      text: v.pipe(entriesOf(redirectUri), noRepeats()),
    },
  }),
  encryptionKeys: setting({
    env: 'TOKEN_ENCRYPTION_KEYS',
    part: 'app',
    option: 'encryptionKeys',
    required:
      'create a key with `spotify-session keys generate` and keep it secret (active key first, comma-separated)',
    unset: '— (required in production)',
    help: '"kid:secret" keys, comma-separated, sealing key first (environment only; `spotify-session keys generate`)',
    details: 'every key unseals, the first one seals: put a new key first to rotate',
    rule: same(encryptionKeys, '`kid:secret`: a key id and 32 random bytes in base64url'),
  }),
  accountsUrl: setting({
    env: 'SPOTIFY_ACCOUNTS_URL',
    flag: '--accounts-url',
    part: 'app',
    option: 'accountsUrl',
    emulated: true,
    // Core's default, applied by core (resolveClientConfig) when none is given.
    shownDefault: DEFAULT_ACCOUNTS_URL,
    help: 'Accounts service base URL',
    details: 'a proxy, the emulator',
    rule: {
      values: '`https://…`; plain `http://` only to a loopback host',
      // Core's resolveClientConfig checks a program's value (validateAccountsUrl, naming
      // accountsUrl) when the server is created; the text gets the same check here.
      value: v.string(),
      text: v.pipe(
        v.string(),
        v.trim(),
        v.rawCheck<string>(({ dataset, addIssue }) => {
          if (!dataset.typed) return;
          try {
            validateAccountsUrl(dataset.value);
          } catch (error) {
            addIssue({ message: `: ${reasonOf(error, 'is not a usable URL')}` });
          }
        }),
      ),
    },
  }),
  host: setting({
    env: 'HOST',
    flag: '--host',
    part: 'listener',
    option: 'host',
    default: '127.0.0.1',
    help: 'interface to listen on',
    details: '`0.0.0.0` (or `::`) in a container',
    rule: same(host, 'an IP address or a host name'),
  }),
  port: setting({
    env: 'PORT',
    flag: '--port',
    part: 'listener',
    option: 'port',
    default: 3000,
    help: 'port, 0 = any free one',
    details: 'the port picked is logged in the `listening` line',
    rule: wholeNumber(0, 65_535),
  }),
  basePath: setting({
    env: 'BASE_PATH',
    flag: '--base-path',
    part: 'server',
    option: 'basePath',
    default: '',
    shownDefault: "''",
    help: 'prefix of /swap and /refresh, e.g. /v1',
    details: '`v1/` means `/v1`; health and metrics stay at the root',
    rule: same(basePath, 'letters, digits, `. _ ~ -` between slashes; no `.` or `..` segment'),
  }),
  redisUrl: setting({
    env: 'REDIS_URL',
    flag: '--redis-url',
    part: 'listener',
    option: 'redisUrl',
    unset: '— (per-process limits)',
    help: 'share rate limits through Redis',
    details:
      'every instance counts in one place; while Redis is down each counts in its own memory, and no request is refused for it',
    rule: same(redisUrl, '`redis://host:6379` or `rediss://…` (TLS)'),
  }),
  redisCommandTimeout: setting({
    env: 'REDIS_COMMAND_TIMEOUT_MS',
    part: 'listener',
    option: 'redisCommandTimeout',
    default: 50,
    help: 'longest wait for Redis per rate-limit check, then memory counts',
    details:
      'with `REDIS_URL`; past it (or with Redis down) limits are counted in process memory, so a request waits on Redis about twice this at most',
    rule: wholeNumber(1, 10_000),
  }),
  rateLimitIp: setting({
    env: 'RATE_LIMIT_IP',
    flag: '--rate-limit-ip',
    part: 'server',
    option: 'rateLimit.ip',
    default: 120,
    help: 'requests per window per client IP, 0 = off',
    details:
      'on `/swap` and `/refresh` together. Mobile carriers put many users behind one IP (CGNAT): keep it generous',
    rule: wholeNumber(0, 1_000_000),
  }),
  rateLimitToken: setting({
    env: 'RATE_LIMIT_TOKEN',
    flag: '--rate-limit-token',
    part: 'server',
    option: 'rateLimit.token',
    default: 10,
    help: 'refreshes per window per refresh token, 0 = off',
    details:
      "counted once the sealed token unsealed, keyed by the envelope's verified GCM tag, never the token (forged or broken tokens count per IP only)",
    rule: wholeNumber(0, 1_000_000),
  }),
  rateLimitWindow: setting({
    env: 'RATE_LIMIT_WINDOW_S',
    part: 'server',
    option: 'rateLimit.window',
    default: 60,
    help: 'rate-limit window in seconds',
    rule: wholeNumber(1, 86_400),
  }),
  trustProxy: setting({
    env: 'TRUST_PROXY',
    flag: '--trust-proxy',
    part: 'server',
    option: 'trustProxy',
    default: 0,
    shownDefault: 'false',
    help: 'how many proxies in front append to X-Forwarded-For',
    details:
      'the client is the N-th `X-Forwarded-For` entry from the right (the left-most ones are written by the client, never believed)',
    rule: trustProxy,
  }),
  corsOrigins: setting({
    env: 'CORS_ORIGINS',
    flag: '--cors-origins',
    part: 'server',
    option: 'corsOrigins',
    default: [] as readonly string[],
    unset: '— (CORS off)',
    help: 'browser origins allowed, comma-separated',
    details: 'e.g. `https://app.example.com`; no path, no `*`',
    rule: {
      value: v.array(origin),
      text: entriesOf(origin),
      values: 'origins: scheme, host and port',
    } as Rule<readonly string[]>,
  }),
  upstreamTimeout: setting({
    env: 'UPSTREAM_TIMEOUT_MS',
    flag: '--upstream-timeout-ms',
    part: 'server',
    option: 'upstreamTimeout',
    default: 10_000,
    help: 'how long to wait for Spotify before answering 504',
    details: 'a request to Spotify is never retried',
    rule: wholeNumber(1, 120_000),
  }),
  refreshTokenMaxAge: setting({
    env: 'REFRESH_TOKEN_MAX_AGE_S',
    part: 'server',
    option: 'refreshTokenMaxAge',
    default: DEFAULT_REFRESH_TOKEN_MAX_AGE,
    help: 'oldest sealed refresh token accepted (seconds since the authorization)',
    details: "180 days by default: it cannot outlive Spotify's own limit",
    rule: wholeNumber(1, DEFAULT_REFRESH_TOKEN_MAX_AGE),
  }),
  maxConnections: setting({
    env: 'MAX_CONNECTIONS',
    flag: '--max-connections',
    part: 'listener',
    option: 'maxConnections',
    default: 1_000,
    help: 'most connections open at once; more are closed unanswered',
    details: 'keep it below `ulimit -n`',
    rule: wholeNumber(1, 1_000_000),
  }),
  headersTimeout: setting({
    env: 'HEADERS_TIMEOUT_MS',
    part: 'listener',
    option: 'headersTimeout',
    default: 10_000,
    notAbove: 'requestTimeout',
    help: 'time a client has to send its headers (then 408)',
    details: 'the request line and headers; the answer is a JSON `408`',
    rule: wholeNumber(1, 600_000),
  }),
  requestTimeout: setting({
    env: 'REQUEST_TIMEOUT_MS',
    part: 'listener',
    option: 'requestTimeout',
    default: 30_000,
    help: 'time a client has to send its whole request (then 408)',
    details:
      "body included (a body dripped byte by byte gets `408`); the answer's own time is `UPSTREAM_TIMEOUT_MS`",
    rule: wholeNumber(1, 600_000),
  }),
  keepAliveTimeout: setting({
    env: 'KEEP_ALIVE_TIMEOUT_MS',
    part: 'listener',
    option: 'keepAliveTimeout',
    default: 5_000,
    help: 'how long an idle keep-alive connection stays open',
    details: "behind a load balancer, longer than the balancer's idle timeout",
    rule: wholeNumber(0, 600_000),
  }),
  maxRequestsPerSocket: setting({
    env: 'MAX_REQUESTS_PER_SOCKET',
    part: 'listener',
    option: 'maxRequestsPerSocket',
    default: 1_000,
    help: 'requests on one connection before it is closed, 0 = no limit',
    details: 'the last answer says `Connection: close`',
    rule: wholeNumber(0, 1_000_000),
  }),
  drainDelay: setting({
    env: 'DRAIN_DELAY_MS',
    part: 'listener',
    option: 'drainDelay',
    default: 0,
    help: 'on SIGTERM, how long /readyz says "draining" before the listener closes',
    details:
      "requests are still served meanwhile: set it to your load balancer's health-check interval × unhealthy threshold",
    rule: wholeNumber(0, 600_000),
  }),
  shutdownGracePeriod: setting({
    env: 'SHUTDOWN_GRACE_MS',
    part: 'listener',
    option: 'shutdownGracePeriod',
    default: 10_000,
    help: 'then, how long in-flight requests may take before connections are cut',
    rule: wholeNumber(0, 600_000),
  }),
  logLevel: setting({
    env: 'LOG_LEVEL',
    flag: '--log-level',
    part: 'server',
    option: 'logger.level',
    default: 'info',
    help: 'what the server logs, as JSON lines on stdout',
    rule: logLevel,
  }),
  nodeEnv: setting<never>({
    env: 'NODE_ENV',
    part: 'mode',
    help: 'production: the Spotify settings are required; unset, development or test without credentials: embedded emulator',
    unset: '— (development)',
    details:
      '`production` must be written exactly; any other value (`prod`, `PRODUCTION`, …) without credentials is refused',
  }),
};

/** The key of a row of {@link TOKEN_SERVER_SETTINGS}. */
export type SettingKey = keyof typeof TOKEN_SERVER_SETTINGS;

/** Every row, in the table's order. */
export const SETTING_ROWS: readonly Setting[] =
  /* @__PURE__ */ Object.values(TOKEN_SERVER_SETTINGS);

/** One setting as `serve --help` and the docs list it. */
export interface SettingDescription {
  env: string;
  flag?: string;
  /** The flag may be given more than once. */
  repeatable?: boolean;
  /** Shown as the default; `undefined` for required or unset-by-default settings. */
  default?: string;
  /** What leaving it unset means, when it has no default (markdown). */
  unset?: string;
  /** The values it takes (`0–65535`), when the rule says (markdown). */
  values?: string;
  /** One line. */
  description: string;
  /** More for the docs (markdown). */
  details?: string;
}

/** The default as shown: `undefined` when nothing is applied (or nothing worth showing). */
function shownDefault(row: Setting): string | undefined {
  if (row.shownDefault !== undefined) return row.shownDefault;
  if (row.default === undefined || Array.isArray(row.default)) return undefined;
  return String(row.default);
}

/** The values as shown, with the limit another setting puts on them. */
function shownValues(row: Setting): string | undefined {
  if (row.notAbove === undefined) return row.rule?.values;
  const limit = TOKEN_SERVER_SETTINGS[row.notAbove as SettingKey].env;
  return `${row.rule?.values ?? ''}, at most \`${limit}\``;
}

/** Every setting the loader reads, as `serve --help` and the docs list them, in order. */
export const SETTINGS: readonly SettingDescription[] = /* @__PURE__ */ SETTING_ROWS.map((row) => {
  const shown = shownDefault(row);
  const values = shownValues(row);
  return {
    env: row.env,
    ...(row.flag === undefined ? {} : { flag: row.flag }),
    ...(row.repeatable ? { repeatable: true } : {}),
    ...(shown === undefined ? {} : { default: shown }),
    ...(row.unset === undefined ? {} : { unset: row.unset }),
    ...(values === undefined ? {} : { values }),
    description: row.help,
    ...(row.details === undefined ? {} : { details: row.details }),
  };
});

/** Commander's camelCase name of a `--kebab-case` flag: its key in `TokenServerFlags`. */
export function flagKey(flag: string): string {
  return flag.slice(2).replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** A problem with a given value: the message and the name it is about (entries indexed). */
export interface SettingProblem {
  /** What the user wrote it under: `PORT`, `--port`, `port`, `redirectUris[1]`. */
  name: string;
  message: string;
}

/**
 * Checks `input` by `row`'s rule: the value used, or every problem (each a message naming
 * `name`; a list's entries as `name entry N` for text, `name[i]` for a program's value).
 */
export function checkSetting<T>(
  row: Setting<T>,
  input: unknown,
  name: string,
  form: 'text' | 'value',
): { ok: true; value: T } | { ok: false; problems: SettingProblem[] } {
  const rule = row.rule as Rule<T>;
  const result = v.safeParse(form === 'text' ? rule.text : rule.value, input, {
    abortPipeEarly: true,
  });
  if (result.success) return { ok: true, value: result.output };
  return {
    ok: false,
    problems: result.issues.map((issue) => {
      const index = issue.path?.find((item) => item.type === 'array')?.key;
      const subject =
        typeof index !== 'number'
          ? name
          : form === 'text'
            ? `${name} entry ${index + 1}`
            : `${name}[${index}]`;
      return { name: subject, message: `${subject}${issue.message}` };
    }),
  };
}

/**
 * A program's value of `row`'s option, checked, or the row's default when it is not given.
 * Throws `ConfigurationError` naming the option as the caller wrote it (`name`).
 */
export function resolveSetting<T>(row: Setting<T>, input: unknown, name: string): T {
  if (input === undefined && row.required === undefined) return row.default as T;
  const checked = checkSetting(row, input, name, 'value');
  if (checked.ok) return checked.value;
  const [problem] = checked.problems as [SettingProblem];
  throw new ConfigurationError(problem.name, problem.message);
}

/**
 * The rules between settings (`headersTimeout` must not exceed `requestTimeout`): the
 * problems, none when they hold. `nameOf` names a setting as the user wrote it.
 */
export function settingRelationProblems(
  valueFor: (row: Setting) => unknown,
  nameOf: (row: Setting) => string,
): SettingProblem[] {
  const problems: SettingProblem[] = [];
  for (const row of SETTING_ROWS) {
    if (row.notAbove === undefined) continue;
    const limit: Setting = TOKEN_SERVER_SETTINGS[row.notAbove as SettingKey];
    if ((valueFor(row) as number) > (valueFor(limit) as number)) {
      const name = nameOf(row);
      problems.push({ name, message: `${name} must not exceed ${nameOf(limit)}` });
    }
  }
  return problems;
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
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

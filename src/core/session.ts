import {
  assertDuration,
  assertFunction,
  assertMilliseconds,
  assertPkce,
  assertSignal,
  assertToken,
  MAX_TIMER_MS,
} from './_assert.js';
import { type FetchLike, untilAborted } from './_http.js';
import type {
  Adopted,
  NoRefreshTokenSituation,
  RefreshTarget,
  Replaces,
  StoreSettings,
  StoreSync,
  Superseded,
} from './_session-store.js';
import { sessionStores } from './_shared-rate-limit.js';
import { validateRedirectUri } from './_urls.js';
import { type CallbackInput, getCodeFromCallback } from './callback.js';
import {
  AbortedError,
  ConfigurationError,
  InvalidArgumentError,
  NetworkError,
  NoRefreshTokenError,
  RefreshTokenRevokedError,
  SpotifyError,
  StoreError,
  TimeoutError,
  TokenCallbackError,
} from './errors/index.js';
import {
  authorizationCodeGrant,
  type ClientConfig,
  clientCredentialsGrant,
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_EXPIRES_IN_SECONDS,
  DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS,
  DEFAULT_TIMEOUT_MS,
  type Grant,
  normaliseScopes,
  refreshTokenGrant,
  resolveClientConfig,
  type TokenEndpointResult,
} from './grants.js';
import {
  generateCodeChallenge,
  generateCodeVerifier,
  generateState,
  isCodeChallenge,
} from './pkce.js';
import { closestKnownScope, isKnownScope, type Scope } from './scopes.js';
import type { TokenStore } from './store.js';
import {
  DEFAULT_SKEW_SECONDS,
  isAccessTokenValid,
  parseSessionTokens,
  refreshTokenFingerprint,
  type SessionTokens,
} from './tokens.js';

export {
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_EXPIRES_IN_SECONDS,
  DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS,
  DEFAULT_TIMEOUT_MS,
};

/** Seconds before the login ends at which `onLoginExpiring` is called, when `loginExpiringMarginSeconds` is not given (7 days). */
export const DEFAULT_LOGIN_EXPIRING_MARGIN_SECONDS = 604_800;

/** Milliseconds a store lock lives unless released, when `lockTtl` is not given. */
export const DEFAULT_LOCK_TTL_MS = 30_000;
/**
 * Milliseconds to wait for a store lock, when `lockWait` is not given: longer
 * than the default `lockTtl`, so waiters outlast a holder that died.
 */
export const DEFAULT_LOCK_WAIT_MS = 35_000;
/**
 * Least milliseconds a sent refresh request may run (`refreshHardLimit` is this or three times
 * `timeout`, whichever is longer): as long as the usual idle limit of the proxies and load
 * balancers between a client and Spotify, so an answer that comes at all comes within it.
 */
const DEFAULT_REFRESH_HARD_LIMIT_MS = 60_000;

/** Why `onTokens` was called. */
export interface TokensEvent {
  /** The grant whose request changed the tokens. */
  grant: Grant;
  /** `true` when Spotify returned a new refresh token that replaces the old one. */
  rotated: boolean;
  /**
   * `true` when Spotify refused the refresh token (`invalid_grant`) and the
   * Session dropped it: `tokens` no longer has one. Replace your stored copy
   * (it is dead) and send the user through authorization again.
   */
  revoked: boolean;
}

/**
 * Persists tokens. Awaited before the method that changed them resolves.
 * Whatever it returns (or resolves to) is ignored.
 *
 * @param tokens - everything the Session now holds, as `toJSON()` returns it.
 */
export type OnTokens = (tokens: SessionTokens, event: TokensEvent) => unknown | Promise<unknown>;

/** What {@link SessionOptions.onLoginExpiring} is told. */
export interface LoginExpiring {
  /** When the refresh token stops working, in Unix seconds (`getRefreshTokenExpiresAt()`). */
  expiresAt: number;
  /** Seconds left until then; `0` when it has passed already. */
  remaining: number;
}

/** Warns that the login ends soon; see {@link SessionOptions.onLoginExpiring}. */
export type OnLoginExpiring = (warning: LoginExpiring) => unknown;

/** Options of {@link Session}. */
export interface SessionOptions {
  /** Your app's client ID from Spotify's developer dashboard. Required. */
  clientId: string;
  /**
   * Your app's client secret. Leave it out in browsers and mobile apps: the
   * Session is then a public (PKCE) client and sends `client_id` in the body
   * instead of HTTP Basic authentication.
   * @default undefined (public client, PKCE)
   */
  clientSecret?: string | undefined;
  /**
   * The redirect URI registered for the app; needed for the authorization
   * code flows only. Checked against Spotify's rules at construction:
   * `https://`, `http://127.0.0.1:PORT/…` or `http://[::1]:PORT/…`, or an app
   * scheme (`myapp://callback`). `localhost` and other plain-http hosts throw
   * `ConfigurationError`.
   * @default undefined (only refresh and client credentials are possible)
   */
  redirectUri?: string | undefined;
  /**
   * Base URL of the Accounts service (`/authorize` and `/api/token` are
   * appended). Point it at the emulator, a proxy or a test server. Plain
   * http is allowed only for loopback hosts.
   * @default 'https://accounts.spotify.com'
   */
  accountsUrl?: string | undefined;
  /**
   * The `fetch` used for every request (wrap it to log, trace or test).
   * @default globalThis.fetch
   */
  fetch?: FetchLike | undefined;
  /**
   * Milliseconds a token request may take in total (connection, answer and
   * body) before it fails with `TimeoutError`. For a refresh, it is how long
   * the caller waits once the request is sent: the request itself goes on
   * (up to `refreshHardLimit`), and its answer is still stored, because a
   * refresh token Spotify rotated would otherwise be lost.
   * @default 10_000
   */
  timeout?: number | undefined;
  /**
   * Milliseconds a refresh request, once sent, may run before it is given
   * up, whether or not its caller still waits (`timeout` and `signal` end
   * only the caller's wait). An answer within it is checked and stored;
   * none within it means the rotated token, if any, is lost. At least
   * `timeout`. `await session.settled()` before exiting waits for it.
   * @default the longer of 60_000 and 3 × timeout
   */
  refreshHardLimit?: number | undefined;
  /**
   * Clock in milliseconds since the epoch, for expiry and `Retry-After`
   * dates. Replace it in tests.
   * @default Date.now
   */
  now?: (() => number) | undefined;
  /**
   * Called, and awaited, whenever the tokens change through a request: code
   * exchange, refresh (including a rotated refresh token), client
   * credentials, and a refresh token dropped because Spotify revoked it
   * (`event.revoked`). The method resolves only after it, so a rotated
   * refresh token is stored before the new access token is used. If it
   * throws, the method rejects with `TokenCallbackError` (`cause` is your
   * error); the Session still holds the new tokens. The `set…()` methods do
   * not call it. With a `store`, it runs after the store's write.
   * @default undefined
   */
  onTokens?: OnTokens | undefined;
  /**
   * Tokens to start from, as `toJSON()` returned them (object or JSON text).
   * Validated: a malformed value throws `InvalidArgumentError`. Not allowed
   * together with `store` (the store is the source of the tokens).
   * @default undefined (no tokens)
   */
  tokens?: SessionTokens | string | undefined;
  /**
   * Where the tokens live between runs (`MemoryStore`, `FileStore`,
   * `RedisStore` or your own {@link TokenStore}). The tokens under
   * `storeKey` are loaded before first use, and every change is written
   * and awaited before a new access token is handed out. With a store that
   * can `lock`, a refresh is coordinated across processes.
   * @default undefined (tokens live in this object only)
   */
  store?: TokenStore | undefined;
  /**
   * The key of this Session's tokens in `store` (a user id, a profile name).
   * Required with `store`.
   * @default undefined
   */
  storeKey?: string | undefined;
  /**
   * Milliseconds the store lock lives without renewal: a process that dies
   * (or stalls) while refreshing blocks the others no longer than this. A
   * live holder renews it every third of it while its request runs (with a
   * lock that has `extend`). Must be longer than `timeout`.
   * @default 30_000
   */
  lockTtl?: number | undefined;
  /**
   * Milliseconds to wait for the store lock held by another process before
   * failing with `LockTimeoutError`. Longer than `lockTtl` means a waiter
   * outlasts a holder that died (its lock expires first).
   * @default 35_000
   */
  lockWait?: number | undefined;
  /**
   * Seconds a refresh token works after the user's original authorization
   * (`tokens.authorizedAt`), however often it is refreshed or rotated:
   * Spotify's six months
   * (https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens),
   * counted as 180 days. Change it when Spotify changes the lifetime. It sets
   * `getRefreshTokenExpiresAt()` and `onLoginExpiring`; refreshes are never
   * refused by it (Spotify's `invalid_grant` is).
   * @default 15_552_000 (180 days)
   */
  refreshTokenLifetimeSeconds?: number | undefined;
  /**
   * `onLoginExpiring` is called once fewer than this many seconds of the
   * login remain.
   * @default 604_800 (7 days)
   */
  loginExpiringMarginSeconds?: number | undefined;
  /**
   * Called once per authorization when fewer than `loginExpiringMarginSeconds`
   * remain until the refresh token stops working (`getRefreshTokenExpiresAt()`),
   * so the app can ask the user to log in again at a good moment rather than
   * meet `RefreshTokenRevokedError` later. Checked whenever the Session takes
   * tokens — restored (`tokens`, a store load), exchanged, refreshed — and
   * called soon after (not within the call that took them). Once per Session
   * for each `authorizedAt`: a new login may warn again. Never for tokens
   * without `authorizedAt` (the end is unknown). What it returns is ignored,
   * and so is an error it throws: a warning never fails a token call.
   * @default undefined
   */
  onLoginExpiring?: OnLoginExpiring | undefined;
}

/** Per-call options of the token methods. */
export interface RequestOptions {
  /**
   * Cancels the call: it rejects with `AbortedError`. The session `timeout`
   * still applies. For a refresh, aborting (like the `timeout`) ends your
   * wait only: a request already sent goes on and its tokens are stored,
   * because a rotated refresh token would otherwise be lost.
   * @default undefined
   */
  signal?: AbortSignal | undefined;
}

/** Options of {@link Session.requestCredentialsToken}. */
export interface CredentialsTokenOptions extends RequestOptions {
  /**
   * Scopes to send. Spotify grants no user scopes to client-credentials
   * tokens; this exists so the PHP examples translate line by line.
   * @default undefined (no `scope` parameter)
   */
  scope?: readonly Scope[] | string | undefined;
}

/** Options of {@link Session.getValidAccessToken}. */
export interface ValidAccessTokenOptions extends RequestOptions {
  /** Seconds before expiry at which the token is renewed. @default 60 */
  skewSeconds?: number | undefined;
}

/** Options of {@link Session.getAuthorizeUrl}. */
export interface AuthorizeUrlOptions {
  /** Scopes to ask for (array, or a space-separated string). @default no scope */
  scope?: readonly Scope[] | string | undefined;
  /**
   * Opaque value echoed back on the callback; check it with
   * `getCodeFromCallback()`. Always send one (use `Session.generateState()`).
   * @default undefined (no state: not recommended)
   */
  state?: string | undefined;
  /** `true` forces the consent dialog even if the user already approved. @default undefined (Spotify's default, false) */
  showDialog?: boolean | undefined;
  /**
   * PKCE S256 challenge from `Session.generateCodeChallenge(verifier)`.
   * Required when the Session has no `clientSecret`.
   * @default undefined
   */
  codeChallenge?: string | undefined;
  /** Only `S256` exists at Spotify (and is sent whenever `codeChallenge` is). @default 'S256' */
  codeChallengeMethod?: 'S256' | undefined;
  /**
   * Send scopes this library does not know (one Spotify added after this
   * release). Without it, an unknown scope (usually a typo) throws
   * `InvalidArgumentError` naming it and the closest documented scope.
   * @default false
   */
  allowUnknownScopes?: boolean | undefined;
}

/** A successful answer of the token endpoint. */
export interface TokenResponse {
  /** The access token. */
  accessToken: string;
  /** `Bearer`. */
  tokenType: string;
  /** Seconds the access token is valid for, as Spotify sent it (3600). */
  expiresIn: number;
  /** When the access token expires, Unix seconds. */
  expiresAt: number;
  /** Granted scopes; for a refresh answer without `scope`, the scopes held before. */
  scope: string[];
  /**
   * Present only when this answer carried a refresh token (code exchange,
   * rotation). When absent, the Session keeps the refresh token it had.
   */
  refreshToken?: string;
}

interface ResolvedOptions {
  config: ClientConfig;
  /** `config` with `refreshHardLimit` as its deadline: the refresh requests' own. */
  refreshConfig: ClientConfig;
  timeout: number;
  redirectUri: string | undefined;
  authorizeEndpoint: string;
  now: () => number;
  onTokens: OnTokens | undefined;
  tokens: SessionTokens;
  store: StoreSettings | undefined;
  refreshTokenLifetimeSeconds: number;
  loginExpiringMarginSeconds: number;
  onLoginExpiring: OnLoginExpiring | undefined;
}

function resolveStore(options: SessionOptions, timeout: number): StoreSettings | undefined {
  const { store, storeKey } = options;
  if (store === undefined) {
    if (storeKey !== undefined) {
      throw new ConfigurationError('storeKey', 'storeKey was given without a store');
    }
    return undefined;
  }
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function' ||
    typeof store.delete !== 'function' ||
    (store.lock !== undefined && typeof store.lock !== 'function')
  ) {
    throw new ConfigurationError(
      'store',
      'store must be a TokenStore: an object with get, set and delete methods (and optionally lock)',
    );
  }
  if (typeof storeKey !== 'string' || storeKey === '') {
    throw new ConfigurationError(
      'storeKey',
      'A Session with a store needs storeKey: the key of its tokens in the store (a user id, a profile name)',
    );
  }
  if (options.tokens !== undefined) {
    throw new ConfigurationError(
      'tokens',
      'Pass either tokens or a store, not both: with a store the tokens are loaded from it',
    );
  }
  const { lockTtl = DEFAULT_LOCK_TTL_MS, lockWait = DEFAULT_LOCK_WAIT_MS } = options;
  assertMilliseconds(lockTtl, 'lockTtl');
  if (lockTtl <= timeout) {
    throw new ConfigurationError(
      'lockTtl',
      `lockTtl (${lockTtl} ms) must be longer than timeout (${timeout} ms), or a slow refresh could outlive its lock`,
    );
  }
  assertMilliseconds(lockWait, 'lockWait');
  return { store, key: storeKey, lockTtl, lockWait };
}

/** Every default is resolved here, and every option checked. */
function resolveOptions(options: SessionOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'new Session() needs an options object with clientId');
  }
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  assertMilliseconds(timeout, 'timeout');
  const client = {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    accountsUrl: options.accountsUrl,
    fetch: options.fetch,
    now: options.now,
  };
  const config = resolveClientConfig({ ...client, timeout });
  const refreshHardLimit =
    options.refreshHardLimit ??
    Math.min(MAX_TIMER_MS, Math.max(DEFAULT_REFRESH_HARD_LIMIT_MS, 3 * timeout));
  assertMilliseconds(refreshHardLimit, 'refreshHardLimit');
  if (refreshHardLimit < timeout) {
    throw new ConfigurationError(
      'refreshHardLimit',
      `refreshHardLimit (${refreshHardLimit} ms) must be at least timeout (${timeout} ms): it is how long a sent refresh request may run, and timeout only how long its caller waits`,
    );
  }
  assertFunction(options.onTokens, 'onTokens');
  assertFunction(options.onLoginExpiring, 'onLoginExpiring');
  const {
    refreshTokenLifetimeSeconds = DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS,
    loginExpiringMarginSeconds = DEFAULT_LOGIN_EXPIRING_MARGIN_SECONDS,
  } = options;
  assertDuration(refreshTokenLifetimeSeconds, 'refreshTokenLifetimeSeconds', 'seconds');
  assertDuration(loginExpiringMarginSeconds, 'loginExpiringMarginSeconds', 'seconds');
  const store = resolveStore(options, timeout);
  return {
    config,
    refreshConfig: resolveClientConfig({ ...client, timeout: refreshHardLimit }),
    timeout,
    redirectUri:
      options.redirectUri === undefined ? undefined : validateRedirectUri(options.redirectUri),
    authorizeEndpoint: `${config.accountsUrl}/authorize`,
    now: options.now ?? Date.now,
    onTokens: options.onTokens,
    tokens: options.tokens === undefined ? {} : parseSessionTokens(options.tokens),
    store,
    refreshTokenLifetimeSeconds,
    loginExpiringMarginSeconds,
    onLoginExpiring: options.onLoginExpiring,
  };
}

function assertKnownScopes(scopes: readonly string[]): void {
  const unknown = scopes.filter((scope) => !isKnownScope(scope));
  if (unknown.length === 0) return;
  const described = unknown
    .map((scope) => {
      const closest = closestKnownScope(scope);
      return closest === undefined ? `"${scope}"` : `"${scope}" (did you mean "${closest}"?)`;
    })
    .join(', ');
  throw new InvalidArgumentError(
    'scope',
    `Unknown scope ${described}: Spotify would answer invalid_scope. Use the names in SCOPES, or pass allowUnknownScopes: true for a scope newer than this library`,
  );
}

/**
 * Spotify authorization: builds the authorize URL, reads the callback,
 * exchanges codes (with or without PKCE), refreshes and rotates tokens, and
 * gets client-credentials tokens, keeping the tokens (and, with a `store`,
 * persisting them). The token requests are the stateless grant functions
 * (`authorizationCodeGrant`, `refreshTokenGrant`, `clientCredentialsGrant`).
 *
 * Method names follow the PHP library spotify-web-api-php, so its examples
 * translate line by line.
 *
 * @example
 * ```ts
 * import { Session } from 'spotify-session';
 *
 * declare const clientId: string;
 * declare const clientSecret: string;
 * declare const callbackUrl: string;
 *
 * const session = new Session({
 *   clientId,
 *   clientSecret,
 *   redirectUri: 'https://example.com/callback',
 * });
 * const state = Session.generateState();
 * const url = session.getAuthorizeUrl({ scope: ['user-read-private'], state });
 * // … the user approves at `url`; Spotify redirects to callbackUrl:
 * await session.requestAccessToken(session.getCodeFromCallback(callbackUrl, state));
 * ```
 */
export class Session {
  readonly #options: ResolvedOptions;
  /** Refreshes under way (their answers not yet stored), by the refresh token they spend. */
  readonly #refreshes = new Map<string, Flight>();
  #accessToken: string | undefined;
  #refreshToken: string | undefined;
  #expiresAt: number | undefined;
  #scope: string[] | undefined;
  /** When the user authorized, Unix seconds (`SessionTokens.authorizedAt`); `undefined` when unknown. */
  #authorizedAt: number | undefined;
  /** The `authorizedAt` whose login `onLoginExpiring` was called for: once per authorization. */
  #warnedFor: number | undefined;
  /** The tokens came from client credentials: renew them with that grant, not a refresh. */
  #appOnly = false;
  #credentialsFlight: Promise<TokenResponse> | undefined;
  /**
   * Bumped on every change of the tokens, so a slow load never overwrites newer ones. With a
   * store it also says whether the tokens were loaded: `0` until the first load or change.
   */
  #version = 0;
  /** With a store: its part of the Session (`_session-store.ts`), loaded on first use. */
  #store: Promise<StoreSync> | undefined;
  /** The same, once loaded. */
  #sync: StoreSync | undefined;
  /** Spotify refused the last refresh token (or the store says so): for the error messages. */
  #refused = false;

  /**
   * @throws {ConfigurationError} an option cannot work (the message says what to use instead).
   * @throws {InvalidArgumentError} `tokens` is malformed.
   */
  constructor(options: SessionOptions) {
    this.#options = resolveOptions(options);
    this.#apply(this.#options.tokens);
    // With a store, its part is needed by the first call: start loading it now. A failure
    // is reported by that call (and the load tried again).
    this.#storeSync()?.catch(() => {});
    // For the Web API client's shared rate limit (_shared-rate-limit.ts).
    sessionStores.set(this, this.#options.store?.store);
  }

  /** A Session restored from `toJSON()` output (object or JSON text); same as `new Session({ ...options, tokens })`. */
  static fromJSON(
    options: Omit<SessionOptions, 'tokens'>,
    tokens: SessionTokens | string,
  ): Session {
    return new Session({ ...options, tokens });
  }

  /**
   * A Session on `store` under `storeKey`, with its tokens already loaded;
   * same as `new Session({ ...options, store, storeKey })` then `load()`.
   *
   * @throws {StoreError} the store failed to read, or holds malformed tokens.
   */
  static async fromStore(
    store: TokenStore,
    storeKey: string,
    options: Omit<SessionOptions, 'tokens' | 'store' | 'storeKey'>,
  ): Promise<Session> {
    const session = new Session({ ...options, store, storeKey });
    await session.load();
    return session;
  }

  /** A fresh random `state` (43 base64url characters, 256 bits). */
  static generateState(): string {
    return generateState();
  }

  /** A fresh PKCE code verifier: `length` (43–128, default 64) unreserved characters. */
  static generateCodeVerifier(length?: number): string {
    return generateCodeVerifier(length);
  }

  /** The S256 code challenge of a verifier: base64url(SHA-256(verifier)). */
  static generateCodeChallenge(codeVerifier: string): Promise<string> {
    return generateCodeChallenge(codeVerifier);
  }

  /** The client ID this Session uses. */
  getClientId(): string {
    return this.#options.config.clientId;
  }

  /** The validated redirect URI, if one was given. */
  getRedirectUri(): string | undefined {
    return this.#options.redirectUri;
  }

  /**
   * Reads the tokens from the store now (again, if they were read before),
   * replacing those held. The token methods load by themselves before first
   * use; call this before the synchronous getters (`getAccessToken()`, …),
   * or to pick up tokens another process wrote. Without a store it does
   * nothing.
   *
   * @throws {StoreError} the store failed, or holds something that is not
   *   `SessionTokens` (`cause` says what).
   */
  load(): Promise<void> {
    const versionAtStart = this.#version;
    return this.#storeSync()?.then((sync) => sync.load(versionAtStart)) ?? Promise.resolve();
  }

  /**
   * Writes the tokens held now to the store (after `set…()` calls, which do
   * not write). Without a store it does nothing.
   *
   * @throws {StoreError} the write failed.
   */
  async save(): Promise<void> {
    const tokens = this.toJSON();
    await (await this.#storeSync())?.save(tokens);
  }

  /**
   * Logs the user out: forgets the tokens held and, with a store, deletes them from it
   * while holding the store's lock (with this Session's `lockTtl` and `lockWait`), so that a
   * refresh under way in another tab or process finishes first instead of writing them back
   * afterwards. A refresh of this Session still under way keeps nothing it gets afterwards.
   *
   * Spotify has no endpoint to revoke a token: the refresh token stays valid at Spotify
   * until the user removes the app from their account (spotify.com/account/apps).
   *
   * @throws {LockTimeoutError} another process held the store lock longer than `lockWait`.
   * @throws {StoreError} the store failed; the Session still holds the tokens.
   */
  async logout(): Promise<void> {
    await (await this.#storeSync())?.logout();
    this.#replace({});
  }

  /**
   * The URL to send the user to (`GET /authorize`).
   *
   * @throws {ConfigurationError} the Session has no `redirectUri`.
   * @throws {InvalidArgumentError} a malformed scope, state or challenge, or
   *   no `codeChallenge` on a Session without `clientSecret`.
   */
  getAuthorizeUrl(options: AuthorizeUrlOptions = {}): string {
    const { redirectUri, config, authorizeEndpoint } = this.#options;
    if (redirectUri === undefined) {
      throw new ConfigurationError(
        'redirectUri',
        'getAuthorizeUrl() needs the Session’s redirectUri: pass it to new Session({ clientId, redirectUri })',
      );
    }
    const url = new URL(authorizeEndpoint);
    const params = url.searchParams;
    params.set('client_id', config.clientId);
    params.set('response_type', 'code');
    params.set('redirect_uri', redirectUri);
    if (options.scope !== undefined) {
      const scopes = normaliseScopes(options.scope, 'scope');
      if (options.allowUnknownScopes !== true) assertKnownScopes(scopes);
      if (scopes.length > 0) params.set('scope', scopes.join(' '));
    }
    if (options.state !== undefined) {
      if (typeof options.state !== 'string' || options.state === '') {
        throw new InvalidArgumentError(
          'state',
          'state must be a non-empty string (use Session.generateState())',
        );
      }
      params.set('state', options.state);
    }
    if (options.showDialog !== undefined) {
      if (typeof options.showDialog !== 'boolean') {
        throw new InvalidArgumentError('showDialog', 'showDialog must be true or false');
      }
      params.set('show_dialog', String(options.showDialog));
    }
    if (options.codeChallengeMethod !== undefined && options.codeChallengeMethod !== 'S256') {
      throw new InvalidArgumentError(
        'codeChallengeMethod',
        'Spotify supports only the S256 code challenge method',
      );
    }
    if (options.codeChallenge !== undefined) {
      if (!isCodeChallenge(options.codeChallenge)) {
        throw new InvalidArgumentError(
          'codeChallenge',
          'codeChallenge must be an S256 challenge: 43 base64url characters from Session.generateCodeChallenge(verifier)',
        );
      }
      params.set('code_challenge_method', 'S256');
      params.set('code_challenge', options.codeChallenge);
    } else if (!config.confidential) {
      throw new InvalidArgumentError(
        'codeChallenge',
        'A Session without clientSecret is a public client and must use PKCE: pass codeChallenge (from Session.generateCodeChallenge(verifier))',
      );
    }
    // URLSearchParams writes spaces as `+`, which Spotify reads like `%20`.
    return url.href;
  }

  /**
   * Reads the authorization code from the redirect back from `/authorize`;
   * see {@link getCodeFromCallback} (reads `code`, `state`, `error` by name
   * and compares `state` in constant time).
   *
   * @throws {AuthorizationError} `state_mismatch`, `access_denied` (or the
   *   `error` sent), `missing_code`, `invalid_callback`.
   */
  getCodeFromCallback(callback: CallbackInput, expectedState: string | undefined): string {
    return getCodeFromCallback(callback, expectedState);
  }

  /**
   * Exchanges an authorization code for tokens and keeps them (and writes
   * them to the store, when there is one).
   *
   * @param code - the `code` from the callback.
   * @param codeVerifier - the PKCE verifier whose challenge went into the
   *   authorize URL; required on a Session without `clientSecret`.
   */
  async requestAccessToken(
    code: string,
    codeVerifier?: string,
    options: RequestOptions = {},
  ): Promise<TokenResponse> {
    assertToken(code, 'code');
    assertSignal(options.signal);
    const { redirectUri, config } = this.#options;
    assertPkce(
      config.confidential,
      codeVerifier,
      'A Session without clientSecret must pass the PKCE codeVerifier to requestAccessToken(code, codeVerifier)',
    );
    if (redirectUri === undefined) {
      throw new ConfigurationError(
        'redirectUri',
        'requestAccessToken() needs the redirectUri used in the authorize URL: pass it to new Session()',
      );
    }
    // Taken before the request: the login's end is never believed later than Spotify's.
    const authorizedAt = Math.floor(this.#options.now() / 1000);
    const result = await authorizationCodeGrant(config, {
      code,
      redirectUri,
      codeVerifier,
      signal: options.signal,
    });
    return this.#commit('authorization_code', result, authorizedAt);
  }

  /**
   * Gets a new access token with a refresh token, and keeps it. A refresh
   * token in the answer replaces the held one (rotation); without one, the
   * old one stays.
   *
   * Concurrent calls for the same refresh token share one request: every
   * caller gets its result or error, and `onTokens` runs once. With a store
   * that can lock, the refresh also takes the store's lock and first
   * re-reads the stored tokens: when another process refreshed meanwhile,
   * its tokens are used and no request is sent.
   *
   * Once sent, the request is finished whatever happens to its caller: the
   * `timeout` and `signal` end only the wait, and a late answer is still
   * stored — over the login it replaced, never over a newer one or a
   * logout (see {@link settled}).
   *
   * @param refreshToken - defaults to the held (or stored) refresh token; a given one is kept.
   * @throws {NoRefreshTokenError} none given and none held; the login this
   *   Session read from the store is gone from it (logged out in another tab
   *   or process: the Session drops its copy and sends nothing); or the
   *   stored login was removed while the request ran.
   * @throws {RefreshTokenRevokedError} `invalid_grant`: revoked, rotated away
   *   or older than six months. Never retried; the Session forgets it, and
   *   when the store still holds it, marks it refused there (`{ refused }`);
   *   a different refresh token found in the store is used instead.
   * @throws {TimeoutError} no answer within `timeout` (the request goes on).
   * @throws {StoreError} the store failed (the new tokens are kept in memory
   *   and written again on the next call).
   * @throws {LockTimeoutError} another process held the store lock longer than `lockWait`.
   */
  refreshAccessToken(refreshToken?: string, options: RequestOptions = {}): Promise<TokenResponse> {
    try {
      assertSignal(options.signal);
      if (refreshToken !== undefined) assertToken(refreshToken, 'refreshToken');
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    if (signal?.aborted === true) {
      return Promise.reject(new AbortedError({ cause: signal.reason }));
    }
    const answer = this.#ready().then(() => {
      const token = refreshToken ?? this.#refreshToken;
      if (token === undefined) throw this.#noRefreshToken('refresh');
      let flight = this.#refreshes.get(token);
      if (flight === undefined) {
        const started = this.#startRefresh(token, token === this.#refreshToken);
        const over = () => {
          if (this.#refreshes.get(token) === started) this.#refreshes.delete(token);
        };
        started.done.then(over, over);
        this.#refreshes.set(token, started);
        flight = started;
      }
      return waitForAnswer(flight, this.#options.timeout);
    });
    return untilAborted(answer, signal);
  }

  /**
   * Resolves once every refresh this Session has started is over: its
   * answer stored (or found superseded by a newer login), or failed. A
   * refresh whose caller stopped waiting (`timeout`, `signal`) goes on
   * until Spotify answers or `refreshHardLimit` passes; await this before
   * the process exits, or a refresh token Spotify rotated meanwhile is lost.
   * Never rejects.
   */
  async settled(): Promise<void> {
    while (this.#refreshes.size > 0) {
      await Promise.allSettled([...this.#refreshes.values()].map((flight) => flight.done));
    }
  }

  /**
   * Gets an app-only access token (client credentials: no user, no refresh
   * token) and keeps it, replacing any user tokens the Session held. The
   * Session (and `toJSON()`, with `grant: 'client_credentials'`) remembers
   * the grant, so `getValidAccessToken()` renews the token the same way.
   *
   * @throws {ConfigurationError} the Session has no `clientSecret`.
   */
  async requestCredentialsToken(options: CredentialsTokenOptions = {}): Promise<TokenResponse> {
    assertSignal(options.signal);
    const result = await clientCredentialsGrant(this.#options.config, {
      scope: options.scope,
      signal: options.signal,
    });
    return this.#commit('client_credentials', result, undefined);
  }

  /**
   * An access token that is valid for at least `skewSeconds` more: the
   * current one, or a fresh one. Loads the store first (once), writes any
   * tokens a failed store write left unsaved, then renews when needed:
   * with the refresh token (single-flight, `onTokens` awaited), or, for an
   * app-only token, with client credentials.
   *
   * @throws {NoRefreshTokenError} the token expired and there is nothing to renew it with.
   * @throws the errors of `refreshAccessToken()` / `requestCredentialsToken()`.
   */
  async getValidAccessToken(options: ValidAccessTokenOptions = {}): Promise<string> {
    assertSignal(options.signal);
    const { signal } = options;
    await untilAborted(this.#ready(), signal);
    if (!this.isExpired(options.skewSeconds ?? DEFAULT_SKEW_SECONDS)) {
      return this.#accessToken as string;
    }
    if (this.#refreshToken === undefined && this.#appOnly) {
      if (!this.#options.config.confidential) throw this.#noRefreshToken('app-only');
      this.#credentialsFlight ??= this.requestCredentialsToken().finally(() => {
        this.#credentialsFlight = undefined;
      });
      return (await untilAborted(this.#credentialsFlight, signal)).accessToken;
    }
    if (this.#refreshToken === undefined) throw this.#noRefreshToken('expired');
    return (await this.refreshAccessToken(undefined, { signal })).accessToken;
  }

  /** The current access token, if any (with a store, after `load()`). */
  getAccessToken(): string | undefined {
    return this.#accessToken;
  }

  /** The current refresh token, if any (store it for later). */
  getRefreshToken(): string | undefined {
    return this.#refreshToken;
  }

  /** When the access token expires, in Unix seconds, if known. */
  getTokenExpiration(): number | undefined {
    return this.#expiresAt;
  }

  /**
   * When the refresh token stops working, in Unix seconds (like
   * `getTokenExpiration()`): the user's original authorization
   * (`toJSON().authorizedAt`) plus `refreshTokenLifetimeSeconds`, however
   * often it was refreshed or rotated since. Then Spotify refuses it and the
   * user must log in again. `undefined` when unknown: no refresh token, or
   * tokens from before `authorizedAt` was recorded (their next login records it).
   */
  getRefreshTokenExpiresAt(): number | undefined {
    const authorizedAt = this.#authorizedAt;
    return authorizedAt === undefined || this.#refreshToken === undefined
      ? undefined
      : authorizedAt + this.#options.refreshTokenLifetimeSeconds;
  }

  /** The granted scopes (a copy); empty when unknown. */
  getScope(): string[] {
    return [...(this.#scope ?? [])];
  }

  /** Sets (or with `undefined`, clears) the access token. Does not call `onTokens` or write the store. */
  setAccessToken(accessToken: string | undefined): void {
    if (accessToken !== undefined) assertToken(accessToken, 'accessToken');
    this.#accessToken = accessToken;
    this.#touch();
  }

  /**
   * Sets (or with `undefined`, clears) the refresh token. Does not call `onTokens` or write
   * the store. A different refresh token than the one held makes `authorizedAt` unknown (it
   * may come from another login): restore whole logins with `tokens` or `fromJSON()`.
   */
  setRefreshToken(refreshToken: string | undefined): void {
    if (refreshToken !== undefined) {
      assertToken(refreshToken, 'refreshToken');
      this.#appOnly = false;
      this.#refused = false;
    }
    if (refreshToken !== this.#refreshToken) this.#authorizedAt = undefined;
    this.#refreshToken = refreshToken;
    this.#touch();
  }

  /** Sets when the access token expires, in Unix seconds (not milliseconds). */
  setTokenExpiration(expiresAt: number | undefined): void {
    this.#expiresAt =
      expiresAt === undefined ? undefined : parseSessionTokens({ expiresAt }).expiresAt;
    this.#touch();
  }

  /** Sets the granted scopes (array or space-separated string). */
  setScope(scope: readonly Scope[] | string): void {
    this.#scope = normaliseScopes(scope, 'scope');
    this.#touch();
  }

  /**
   * `true` when there is no access token, or it expires within `skewSeconds`.
   * An access token with no known expiration counts as valid (Spotify's 401
   * will tell).
   * @param skewSeconds - margin for clock skew and request time. @default 60
   */
  isExpired(skewSeconds = DEFAULT_SKEW_SECONDS): boolean {
    return !isAccessTokenValid(
      this.#accessToken,
      this.#expiresAt,
      this.#options.now(),
      skewSeconds,
    );
  }

  /**
   * The tokens as a plain object (only the fields that are set), for
   * `JSON.stringify`, storage, and `Session.fromJSON()`. It holds secrets.
   */
  toJSON(): SessionTokens {
    const tokens: SessionTokens = {};
    if (this.#accessToken !== undefined) tokens.accessToken = this.#accessToken;
    if (this.#refreshToken !== undefined) tokens.refreshToken = this.#refreshToken;
    if (this.#expiresAt !== undefined) tokens.expiresAt = this.#expiresAt;
    if (this.#scope !== undefined) tokens.scope = [...this.#scope];
    if (this.#authorizedAt !== undefined) tokens.authorizedAt = this.#authorizedAt;
    if (this.#appOnly) tokens.grant = 'client_credentials';
    return tokens;
  }

  /** Records a change of the held tokens; tokens set here count as loaded (the store is not read over them). */
  #touch(): void {
    this.#version += 1;
  }

  /** Takes `tokens` as the held tokens (no write, no callback). */
  #apply(tokens: SessionTokens): void {
    this.#refused = tokens.refused !== undefined;
    this.#accessToken = tokens.accessToken;
    this.#refreshToken = tokens.refreshToken;
    this.#expiresAt = tokens.expiresAt;
    this.#scope = tokens.scope === undefined ? undefined : [...tokens.scope];
    this.#authorizedAt = tokens.authorizedAt;
    this.#appOnly = tokens.grant === 'client_credentials' && tokens.refreshToken === undefined;
    this.#warnIfLoginExpiring();
  }

  /**
   * Calls `onLoginExpiring` (soon, not within this call) when less than the margin of the
   * login remains, once per authorization.
   */
  #warnIfLoginExpiring(): void {
    const { onLoginExpiring, loginExpiringMarginSeconds, now } = this.#options;
    const expiresAt = this.getRefreshTokenExpiresAt();
    // NaN (no comparison holds) when the end is unknown.
    const remaining = Number(expiresAt) - Math.floor(now() / 1000);
    if (
      onLoginExpiring &&
      remaining < loginExpiringMarginSeconds &&
      this.#warnedFor !== this.#authorizedAt
    ) {
      this.#warnedFor = this.#authorizedAt;
      Promise.resolve({ expiresAt: expiresAt as number, remaining: Math.max(0, remaining) })
        .then(onLoginExpiring)
        .catch(() => {});
    }
  }

  #replace(tokens: SessionTokens): void {
    this.#apply(tokens);
    this.#touch();
  }

  #noRefreshToken(situation: NoRefreshTokenSituation): NoRefreshTokenError {
    const store = this.#options.store;
    const where =
      store === undefined ? 'the Session holds none' : `none is stored under "${store.key}"`;
    const login =
      'send the user through authorization again (getAuthorizeUrl(), then requestAccessToken(code))';
    if (situation === 'app-only') {
      return new NoRefreshTokenError(
        'The app-only (client credentials) access token expired and this Session cannot renew it: it has no clientSecret. Pass clientSecret to new Session() (on a server) to renew app tokens.',
      );
    }
    if (situation === 'logged-out') {
      return new NoRefreshTokenError(
        `The login stored under "${store?.key}" is gone (logged out in another tab or process), so this Session dropped its copy instead of refreshing it: ${login}.`,
      );
    }
    if (situation === 'removed') {
      const what =
        store === undefined
          ? 'The Session’s tokens were'
          : `The login stored under "${store.key}" was`;
      return new NoRefreshTokenError(
        `${what} removed or replaced while this refresh was under way, so its answer was not kept: ${login}.`,
      );
    }
    if (this.#refused) {
      return new NoRefreshTokenError(
        `Spotify refused the refresh token (revoked, rotated away or six months old) and there is no other (${where}): ${login}.`,
      );
    }
    if (situation === 'expired' && this.#accessToken !== undefined) {
      return new NoRefreshTokenError(
        `The access token expired and there is no refresh token to renew it (${where}): ${login}, or call requestCredentialsToken() for an app-only token.`,
      );
    }
    if (situation === 'expired') {
      return new NoRefreshTokenError(
        `No access token yet (${where}): log the user in (getAuthorizeUrl(), then requestAccessToken(code)), give a refresh token (setRefreshToken() or refreshAccessToken(token)), or call requestCredentialsToken() for an app-only token.`,
      );
    }
    return new NoRefreshTokenError(
      `No refresh token (${where}): pass one to refreshAccessToken(), call setRefreshToken(), or authorize the user first.`,
    );
  }

  /**
   * The store's part of this Session, loaded with the first call that needs it (an
   * `import()`: a Session without a store never loads it); `undefined` without a store.
   */
  #storeSync(): Promise<StoreSync> | undefined {
    const settings = this.#options.store;
    if (settings === undefined) return undefined;
    this.#store ??= import('./_session-store.js').then(
      ({ StoreSync }) =>
        (this.#sync = new StoreSync(settings, {
          parseSessionTokens,
          refreshTokenFingerprint,
          SpotifyError,
          StoreError,
          version: () => this.#version,
          replace: (tokens) => this.#replace(tokens),
          adopt: (stored, used) => this.#adopt(stored, used),
          exchange: (replaces, target, onSent) => this.#exchange(replaces, target, onSent),
          noRefreshToken: (situation) => this.#noRefreshToken(situation),
        })),
      (cause: unknown) => {
        this.#store = undefined;
        throw new NetworkError(
          'The store support of spotify-session (a module it loads on first use) could not be loaded: check the connection and try again, or reload the page if the app was updated meanwhile',
          { cause },
        );
      },
    );
    return this.#store;
  }

  /** Loads the store once, then writes tokens a failed write left behind. */
  #ready(): Promise<void> {
    return this.#storeSync()?.then((sync) => sync.ready()) ?? Promise.resolve();
  }

  /** Starts one refresh, shared by every caller of the same refresh token until it is over. */
  #startRefresh(refreshToken: string, adoptable: boolean): Flight {
    let markSent: () => void = () => {};
    const sent = new Promise<void>((resolve) => {
      markSent = resolve;
    });
    const done = this.#refresh(refreshToken, adoptable, markSent);
    // Callers hear of a failure through their own wait; settled() never rejects.
    done.catch(() => {});
    return { done, sent };
  }

  /**
   * One refresh: with a store, coordinated through it (see `StoreSync.refresh`); without
   * one, its answer is kept over the login it replaces. `adoptable`: the token is the one
   * held, so stored tokens another process wrote since supersede it; a refresh token the
   * caller passed explicitly is used as given.
   */
  async #refresh(
    refreshToken: string,
    adoptable: boolean,
    onSent: () => void,
  ): Promise<TokenResponse> {
    const sync = this.#storeSync();
    if (sync !== undefined) return (await sync).refresh(refreshToken, adoptable, onSent);
    const replaces = { used: refreshToken, refreshToken: this.#refreshToken, refused: undefined };
    return this.#exchange(replaces, undefined, onSent);
  }

  /**
   * Sends the refresh request and keeps its answer, however late it comes within
   * `refreshHardLimit`: written by compare-and-set through `target` (the store), or, without
   * a store, kept while the Session still holds the login it replaces. A superseded answer,
   * or a refused token the store has replaced, continues with what the store holds.
   */
  async #exchange(
    replaces: Replaces,
    target: RefreshTarget | undefined,
    onSent: () => void,
  ): Promise<TokenResponse> {
    const { used } = replaces;
    // The login's original authorization, carried into the answer (never guessed for a refresh token it did not issue).
    const authorizedAt = used === this.#refreshToken ? this.#authorizedAt : undefined;
    let result: TokenEndpointResult;
    try {
      const request = refreshTokenGrant(this.#options.refreshConfig, { refreshToken: used });
      onSent();
      result = await request;
    } catch (error) {
      if (!(error instanceof RefreshTokenRevokedError)) throw error;
      const stored = await target?.refused(used);
      const adopted = this.#adopt(stored, used);
      if (adopted === undefined) {
        await this.#dropRevoked(used);
        throw error;
      }
      return adopted.response ?? this.#continue(adopted.refreshToken, target, onSent);
    }
    const answer = this.#answer('refresh_token', result, authorizedAt, this.#scope ?? [], used);
    const superseded =
      target === undefined
        ? this.#superseded(replaces)
        : await target.save(answer.tokens, replaces);
    if (superseded === undefined) return this.#deliver(answer);
    const adopted = this.#adopt(superseded.stored, used);
    if (adopted === undefined) {
      this.#replace(superseded.stored ?? {});
      throw this.#noRefreshToken('removed');
    }
    return adopted.response ?? this.#continue(adopted.refreshToken, target, onSent);
  }

  /** Refreshes again with the refresh token just read from the store (or held). */
  #continue(
    refreshToken: string,
    target: RefreshTarget | undefined,
    onSent: () => void,
  ): Promise<TokenResponse> {
    return this.#exchange({ used: refreshToken, refreshToken, refused: undefined }, target, onSent);
  }

  /**
   * Without a store, a refresh's answer is kept while the Session still holds the login it
   * replaces (the refresh token it spent, or the one held when it was sent); `{ stored }`
   * (what the Session holds) when a newer login or a logout came first.
   */
  #superseded({ used, refreshToken }: Replaces): Superseded | undefined {
    const held = this.#refreshToken;
    const current =
      held === undefined ? refreshToken === undefined : held === used || held === refreshToken;
    return current ? undefined : { stored: this.toJSON() };
  }

  /**
   * Takes the stored tokens when another process changed them: a different
   * refresh token (rotated), or a different access token that is still
   * valid. Returns the answer to give (valid access token) or the refresh
   * token to use; `undefined` when the stored tokens are no news.
   */
  #adopt(stored: SessionTokens | undefined, usedRefreshToken: string): Adopted | undefined {
    if (stored === undefined) return undefined;
    const rotated = stored.refreshToken !== undefined && stored.refreshToken !== usedRefreshToken;
    const valid = isAccessTokenValid(stored.accessToken, stored.expiresAt, this.#options.now());
    const refreshed = valid && stored.accessToken !== this.#accessToken;
    if (!rotated && !refreshed) return undefined;
    this.#replace(stored);
    const refreshToken = stored.refreshToken ?? usedRefreshToken;
    if (!valid) return { response: undefined, refreshToken };
    const now = Math.floor(this.#options.now() / 1000);
    const expiresAt = stored.expiresAt ?? now + DEFAULT_EXPIRES_IN_SECONDS;
    const response: TokenResponse = {
      accessToken: stored.accessToken as string,
      tokenType: 'Bearer',
      expiresIn: Math.max(0, expiresAt - now),
      expiresAt,
      scope: [...(stored.scope ?? [])],
    };
    if (rotated) response.refreshToken = refreshToken;
    return { response, refreshToken };
  }

  /**
   * Spotify says: discard a refused refresh token; keeping it would only
   * repeat the failure. `onTokens` hears of it, so no copy kept through it
   * goes stale (the store was settled by `RefreshTarget.refused`). Failures here
   * are not reported over the `RefreshTokenRevokedError`: the dropped
   * token is dead either way.
   */
  async #dropRevoked(refreshToken: string): Promise<void> {
    if (this.#refreshToken !== refreshToken) return;
    this.#refreshToken = undefined;
    this.#authorizedAt = undefined;
    this.#refused = true;
    if (this.#sync !== undefined) this.#sync.unsaved = undefined;
    this.#touch();
    const { onTokens } = this.#options;
    if (onTokens !== undefined) {
      try {
        await onTokens(this.toJSON(), { grant: 'refresh_token', rotated: false, revoked: true });
      } catch {
        // See above: the RefreshTokenRevokedError is what the caller must act on.
      }
    }
  }

  /** New tokens from a token endpoint answer, and what to answer the caller. */
  #answer(
    grant: Grant,
    result: TokenEndpointResult,
    authorizedAt: number | undefined,
    fallbackScope: string[] = [],
    usedRefreshToken?: string,
  ): Answer {
    const expiresAt = Math.floor(this.#options.now() / 1000 + result.expiresIn);
    const scope =
      result.scope === undefined ? [...fallbackScope] : result.scope.split(/\s+/).filter(Boolean);
    const response: TokenResponse = {
      accessToken: result.accessToken,
      tokenType: result.tokenType,
      expiresIn: result.expiresIn,
      expiresAt,
      scope,
    };
    if (result.refreshToken !== undefined) response.refreshToken = result.refreshToken;
    const refreshToken =
      grant === 'client_credentials' ? undefined : (result.refreshToken ?? usedRefreshToken);
    const rotated =
      grant === 'refresh_token' &&
      result.refreshToken !== undefined &&
      result.refreshToken !== usedRefreshToken;
    const tokens: SessionTokens = { accessToken: result.accessToken, expiresAt, scope: [...scope] };
    if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
    if (authorizedAt !== undefined) tokens.authorizedAt = authorizedAt;
    if (grant === 'client_credentials') tokens.grant = 'client_credentials';
    return { grant, tokens, response, rotated };
  }

  /** Keeps and stores the tokens of a code exchange or app token (a new login: written as is). */
  async #commit(
    grant: Grant,
    result: TokenEndpointResult,
    authorizedAt: number | undefined,
  ): Promise<TokenResponse> {
    const answer = this.#answer(grant, result, authorizedAt);
    await (await this.#storeSync())?.write(answer.tokens);
    return this.#deliver(answer);
  }

  /**
   * Keeps stored (or, without a store, accepted) tokens, then calls
   * `onTokens`, and only then answers. The new tokens are held even when
   * `onTokens` fails: after a rotation they are the only valid ones.
   */
  async #deliver({ grant, tokens, response, rotated }: Answer): Promise<TokenResponse> {
    const { onTokens } = this.#options;
    if (onTokens !== undefined) {
      try {
        await onTokens(tokens, { grant, rotated, revoked: false });
      } catch (cause) {
        this.#replace(tokens);
        throw new TokenCallbackError({ cause });
      }
    }
    this.#replace(tokens);
    return response;
  }
}

/** A refresh under way, shared by the callers of one refresh token. */
interface Flight {
  /** Settles when the refresh is over: its answer stored (or superseded), or failed. */
  done: Promise<TokenResponse>;
  /** Resolves once the token request is sent (never, when none was needed). */
  sent: Promise<void>;
}

/** New tokens from one answer, on their way to the store and `onTokens`. */
interface Answer {
  grant: Grant;
  tokens: SessionTokens;
  response: TokenResponse;
  rotated: boolean;
}

/**
 * A caller's wait for a shared refresh: its answer, or `TimeoutError` once
 * `timeout` ms have passed since the request was sent (or since this caller
 * came, if later). The refresh itself goes on and stores its answer.
 */
function waitForAnswer(flight: Flight, timeout: number): Promise<TokenResponse> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let over = false;
    const finish = () => {
      over = true;
      clearTimeout(timer);
    };
    flight.sent.then(() => {
      if (over) return;
      timer = setTimeout(() => {
        finish();
        reject(new TimeoutError(timeout));
      }, timeout);
    });
    flight.done.then(
      (response) => {
        finish();
        resolve(response);
      },
      (error: unknown) => {
        finish();
        reject(error);
      },
    );
  });
}

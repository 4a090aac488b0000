import {
  type AuthorizationServer,
  allowInsecureRequests,
  authorizationCodeGrantRequest,
  type Client,
  type ClientAuth,
  clientCredentialsGrantRequest,
  customFetch,
  None,
  nopkce,
  processAuthorizationCodeResponse,
  processClientCredentialsResponse,
  processRefreshTokenResponse,
  refreshTokenGrantRequest,
  skipStateCheck,
  type TokenEndpointRequestOptions,
  type TokenEndpointResponse,
  validateAuthResponse,
} from 'oauth4webapi';
import {
  createCustomFetch,
  createDeadline,
  type FetchLike,
  type Grant,
  type TransportRecord,
  toSpotifyError,
  untilSignal,
} from './_transport.js';
import { validateAccountsUrl, validateRedirectUri } from './_urls.js';
import { type CallbackInput, getCodeFromCallback } from './callback.js';
import {
  AbortedError,
  ConfigurationError,
  InvalidArgumentError,
  NoRefreshTokenError,
  RefreshTokenRevokedError,
  TokenCallbackError,
} from './errors/index.js';
import {
  assertCodeVerifier,
  generateCodeChallenge,
  generateCodeVerifier,
  generateState,
  isCodeChallenge,
} from './pkce.js';
import type { Scope } from './scopes.js';
import { parseSessionTokens, type SessionTokens } from './tokens.js';

/** Spotify's Accounts service. */
export const DEFAULT_ACCOUNTS_URL = 'https://accounts.spotify.com';
/** Milliseconds a token request may take before it fails with `TimeoutError`. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * Lifetime assumed when a token response has no `expires_in` (Spotify always
 * sends one; its access tokens last one hour).
 */
export const DEFAULT_EXPIRES_IN_SECONDS = 3600;

/** Why `onTokens` was called. */
export interface TokensEvent {
  /** The grant that produced the tokens. */
  grant: Grant;
  /** `true` when Spotify returned a new refresh token that replaces the old one. */
  rotated: boolean;
}

/**
 * Persists tokens. Awaited before the method that obtained them resolves.
 *
 * @param tokens - everything the Session now holds, as `toJSON()` returns it.
 */
export type OnTokens = (tokens: SessionTokens, event: TokensEvent) => void | Promise<void>;

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
   * code flows. Checked against Spotify's rules at construction: `https://`,
   * `http://127.0.0.1:PORT/…` or `http://[::1]:PORT/…`, or an app scheme
   * (`myapp://callback`). `localhost` and other plain-http hosts throw
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
   * body) before it fails with `TimeoutError`.
   * @default 10_000
   */
  timeout?: number | undefined;
  /**
   * Clock in milliseconds since the epoch, for expiry and `Retry-After`
   * dates. Replace it in tests.
   * @default Date.now
   */
  now?: (() => number) | undefined;
  /**
   * Called, and awaited, whenever the tokens change through a request: code
   * exchange, refresh (including a rotated refresh token) and client
   * credentials. The method that got the tokens resolves only after it, so a
   * rotated refresh token is stored before the new access token is used.
   * If it throws, the method rejects with `TokenCallbackError` (`cause` is
   * your error); the Session still holds the new tokens. The `set…()`
   * methods do not call it.
   * @default undefined
   */
  onTokens?: OnTokens | undefined;
  /**
   * Tokens to start from, as `toJSON()` returned them (object or JSON text).
   * Validated: a malformed value throws `InvalidArgumentError`.
   * @default undefined (no tokens)
   */
  tokens?: SessionTokens | string | undefined;
}

/** Per-call options of the token methods. */
export interface RequestOptions {
  /**
   * Cancels the call: it rejects with `AbortedError`. The session `timeout`
   * still applies. For `refreshAccessToken()`, aborting ends your wait only:
   * the shared request goes on and its tokens are stored, because a rotated
   * refresh token would otherwise be lost.
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
  clientId: string;
  clientSecret: string | undefined;
  redirectUri: string | undefined;
  accountsBase: string;
  insecure: boolean;
  fetch: FetchLike;
  timeout: number;
  now: () => number;
  onTokens: OnTokens | undefined;
  tokens: SessionTokens;
}

function assertOptionalString(value: unknown, option: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw new ConfigurationError(option, `${option} must be a non-empty string when given`);
  }
}

/** Every default is resolved here, and every option checked. */
function resolveOptions(options: SessionOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'new Session() needs an options object with clientId');
  }
  if (typeof options.clientId !== 'string' || options.clientId.trim() === '') {
    throw new ConfigurationError(
      'clientId',
      'clientId must be your app’s client ID (a non-empty string)',
    );
  }
  assertOptionalString(options.clientSecret, 'clientSecret');
  const accounts = validateAccountsUrl(options.accountsUrl ?? DEFAULT_ACCOUNTS_URL);
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout <= 0 || timeout > 2_147_483_647) {
    throw new ConfigurationError(
      'timeout',
      'timeout must be a positive whole number of milliseconds',
    );
  }
  for (const name of ['fetch', 'now', 'onTokens'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new ConfigurationError(name, `${name} must be a function`);
    }
  }
  return {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    redirectUri:
      options.redirectUri === undefined ? undefined : validateRedirectUri(options.redirectUri),
    accountsBase: accounts.base,
    insecure: accounts.insecure,
    // Called through globalThis at request time: browsers refuse a detached `fetch`.
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeout,
    now: options.now ?? Date.now,
    onTokens: options.onTokens,
    tokens: options.tokens === undefined ? {} : parseSessionTokens(options.tokens),
  };
}

function normaliseScopes(scope: readonly string[] | string, argument: string): string[] {
  const list = typeof scope === 'string' ? scope.split(/\s+/).filter(Boolean) : [...scope];
  for (const item of list) {
    if (typeof item !== 'string' || item === '' || /\s/.test(item)) {
      throw new InvalidArgumentError(
        argument,
        `${argument} entries must be non-empty scope names without spaces`,
      );
    }
  }
  return list;
}

function assertToken(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string' || value === '' || /\s/.test(value)) {
    throw new InvalidArgumentError(
      argument,
      `${argument} must be a non-empty string without whitespace`,
    );
  }
}

/**
 * `Authorization: Basic base64(client_id:client_secret)`, exactly as Spotify
 * documents it (accounts.md §3). oauth4webapi's `ClientSecretBasic` first
 * form-encodes both parts (RFC 6749 §2.3.1), turning `-` into `%2D`; Spotify
 * documents no such decoding, and an id like `my-app` would then not match.
 */
function spotifyBasicAuth(clientSecret: string): ClientAuth {
  return (_as, client, _body, headers) => {
    let binary = '';
    for (const byte of new TextEncoder().encode(`${client.client_id}:${clientSecret}`)) {
      binary += String.fromCharCode(byte);
    }
    headers.set('authorization', `Basic ${btoa(binary)}`);
  };
}

/** Rejects with `AbortedError` when `signal` fires before `promise` settles. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return untilSignal(promise, signal, (aborted) => new AbortedError({ cause: aborted.reason }));
}

/**
 * Spotify authorization: builds the authorize URL, reads the callback,
 * exchanges codes (with or without PKCE), refreshes and rotates tokens, and
 * gets client-credentials tokens. The OAuth protocol itself is oauth4webapi's.
 *
 * Method names follow the PHP library spotify-web-api-php, so its examples
 * translate line by line.
 *
 * @example
 * ```ts
 * const session = new Session({ clientId, clientSecret, redirectUri });
 * const state = Session.generateState();
 * const url = session.getAuthorizeUrl({ scope: ['user-read-private'], state });
 * // … later, on the callback:
 * await session.requestAccessToken(session.getCodeFromCallback(request.url, state));
 * ```
 */
export class Session {
  readonly #options: ResolvedOptions;
  readonly #as: AuthorizationServer;
  readonly #client: Client;
  readonly #refreshes = new Map<string, Promise<TokenResponse>>();
  #accessToken: string | undefined;
  #refreshToken: string | undefined;
  #expiresAt: number | undefined;
  #scope: string[] | undefined;
  /** The tokens came from client credentials: renew them with that grant, not a refresh. */
  #appOnly = false;
  #credentialsFlight: Promise<TokenResponse> | undefined;

  /**
   * @throws {ConfigurationError} an option cannot work (the message says what to use instead).
   * @throws {InvalidArgumentError} `tokens` is malformed.
   */
  constructor(options: SessionOptions) {
    this.#options = resolveOptions(options);
    const base = this.#options.accountsBase;
    this.#as = {
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/api/token`,
    };
    this.#client = { client_id: this.#options.clientId };
    const { tokens } = this.#options;
    this.#accessToken = tokens.accessToken;
    this.#refreshToken = tokens.refreshToken;
    this.#expiresAt = tokens.expiresAt;
    this.#scope = tokens.scope;
  }

  /** A Session restored from `toJSON()` output (object or JSON text); same as `new Session({ ...options, tokens })`. */
  static fromJSON(
    options: Omit<SessionOptions, 'tokens'>,
    tokens: SessionTokens | string,
  ): Session {
    return new Session({ ...options, tokens });
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
    return this.#options.clientId;
  }

  /** The validated redirect URI, if one was given. */
  getRedirectUri(): string | undefined {
    return this.#options.redirectUri;
  }

  /**
   * The URL to send the user to (`GET /authorize`).
   *
   * @throws {ConfigurationError} the Session has no `redirectUri`.
   * @throws {InvalidArgumentError} a malformed scope, state or challenge, or
   *   no `codeChallenge` on a Session without `clientSecret`.
   */
  getAuthorizeUrl(options: AuthorizeUrlOptions = {}): string {
    const { redirectUri, clientId, clientSecret } = this.#options;
    if (redirectUri === undefined) {
      throw new ConfigurationError(
        'redirectUri',
        'getAuthorizeUrl() needs the Session’s redirectUri: pass it to new Session({ clientId, redirectUri })',
      );
    }
    const url = new URL(this.#as.authorization_endpoint as string);
    const params = url.searchParams;
    params.set('client_id', clientId);
    params.set('response_type', 'code');
    params.set('redirect_uri', redirectUri);
    if (options.scope !== undefined) {
      const scopes = normaliseScopes(options.scope, 'scope');
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
    } else if (clientSecret === undefined) {
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
   * Exchanges an authorization code for tokens and stores them.
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
    const { redirectUri, clientSecret } = this.#options;
    if (codeVerifier !== undefined) assertCodeVerifier(codeVerifier);
    if (clientSecret === undefined && codeVerifier === undefined) {
      throw new InvalidArgumentError(
        'codeVerifier',
        'A Session without clientSecret must pass the PKCE codeVerifier to requestAccessToken(code, codeVerifier)',
      );
    }
    if (redirectUri === undefined) {
      throw new ConfigurationError(
        'redirectUri',
        'requestAccessToken() needs the redirectUri used in the authorize URL: pass it to new Session()',
      );
    }
    const callbackParameters = validateAuthResponse(
      this.#as,
      this.#client,
      new URLSearchParams({ code }),
      skipStateCheck,
    );
    const response = await this.#tokenRequest(
      'authorization_code',
      options.signal,
      (requestOptions) =>
        authorizationCodeGrantRequest(
          this.#as,
          this.#client,
          this.#clientAuth(),
          callbackParameters,
          redirectUri,
          // A confidential app may skip PKCE; nopkce is oauth4webapi's explicit opt-out.
          codeVerifier ?? nopkce,
          requestOptions,
        ),
      (res) => processAuthorizationCodeResponse(this.#as, this.#client, res),
    );
    return this.#store('authorization_code', response, []);
  }

  /**
   * Gets a new access token with a refresh token, and stores it. A refresh
   * token in the answer replaces the stored one (rotation); without one, the
   * old one stays.
   *
   * Concurrent calls for the same refresh token share one request: every
   * caller gets its result or error, and `onTokens` runs once.
   *
   * @param refreshToken - defaults to the stored refresh token; a given one is stored.
   * @throws {NoRefreshTokenError} none given and none stored.
   * @throws {RefreshTokenRevokedError} `invalid_grant`: revoked, rotated away
   *   or older than six months. Never retried; the Session forgets it.
   */
  refreshAccessToken(refreshToken?: string, options: RequestOptions = {}): Promise<TokenResponse> {
    const token = refreshToken ?? this.#refreshToken;
    if (token === undefined) return Promise.reject(new NoRefreshTokenError());
    try {
      assertToken(token, 'refreshToken');
    } catch (error) {
      return Promise.reject(error);
    }
    if (options.signal?.aborted === true) {
      return Promise.reject(new AbortedError({ cause: options.signal.reason }));
    }
    let flight = this.#refreshes.get(token);
    if (flight === undefined) {
      flight = this.#refresh(token).finally(() => this.#refreshes.delete(token));
      this.#refreshes.set(token, flight);
    }
    return options.signal === undefined ? flight : untilAborted(flight, options.signal);
  }

  /**
   * Gets an app-only access token (client credentials: no user, no refresh
   * token) and stores it, replacing any user tokens the Session held.
   *
   * @throws {ConfigurationError} the Session has no `clientSecret`.
   */
  async requestCredentialsToken(options: CredentialsTokenOptions = {}): Promise<TokenResponse> {
    if (this.#options.clientSecret === undefined) {
      throw new ConfigurationError(
        'clientSecret',
        'The client credentials flow needs the app’s clientSecret (keep it on a server)',
      );
    }
    const parameters = new URLSearchParams();
    if (options.scope !== undefined) {
      const scopes = normaliseScopes(options.scope, 'scope');
      if (scopes.length > 0) parameters.set('scope', scopes.join(' '));
    }
    const response = await this.#tokenRequest(
      'client_credentials',
      options.signal,
      (requestOptions) =>
        clientCredentialsGrantRequest(
          this.#as,
          this.#client,
          this.#clientAuth(),
          parameters,
          requestOptions,
        ),
      (res) => processClientCredentialsResponse(this.#as, this.#client, res),
    );
    return this.#store('client_credentials', response, []);
  }

  /**
   * An access token that is valid for at least `skewSeconds` more: the
   * current one, or a fresh one. Refreshes with the stored refresh token
   * (single-flight, `onTokens` awaited); a Session whose token came from
   * `requestCredentialsToken()` asks for a new app token instead.
   *
   * @throws {NoRefreshTokenError} the token expired and there is nothing to renew it with.
   * @throws the errors of `refreshAccessToken()` / `requestCredentialsToken()`.
   */
  async getValidAccessToken(
    options: RequestOptions & {
      /** Margin before expiry. @default 60 */
      skewSeconds?: number | undefined;
    } = {},
  ): Promise<string> {
    const requestOptions = options.signal === undefined ? {} : { signal: options.signal };
    if (!this.isExpired(options.skewSeconds ?? 60) && this.#accessToken !== undefined) {
      return this.#accessToken;
    }
    if (this.#refreshToken === undefined && this.#appOnly) {
      this.#credentialsFlight ??= this.requestCredentialsToken().finally(() => {
        this.#credentialsFlight = undefined;
      });
      const flight = this.#credentialsFlight;
      return (
        options.signal === undefined ? await flight : await untilAborted(flight, options.signal)
      ).accessToken;
    }
    return (await this.refreshAccessToken(undefined, requestOptions)).accessToken;
  }

  /** The current access token, if any. */
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

  /** The granted scopes (a copy); empty when unknown. */
  getScope(): string[] {
    return [...(this.#scope ?? [])];
  }

  /** Sets (or with `undefined`, clears) the access token. Does not call `onTokens`. */
  setAccessToken(accessToken: string | undefined): void {
    if (accessToken !== undefined) assertToken(accessToken, 'accessToken');
    this.#accessToken = accessToken;
  }

  /** Sets (or with `undefined`, clears) the refresh token. Does not call `onTokens`. */
  setRefreshToken(refreshToken: string | undefined): void {
    if (refreshToken !== undefined) assertToken(refreshToken, 'refreshToken');
    this.#refreshToken = refreshToken;
  }

  /** Sets when the access token expires, in Unix seconds (not milliseconds). */
  setTokenExpiration(expiresAt: number | undefined): void {
    if (expiresAt !== undefined) {
      const checked = parseSessionTokens({ expiresAt }).expiresAt;
      this.#expiresAt = checked;
      return;
    }
    this.#expiresAt = undefined;
  }

  /** Sets the granted scopes (array or space-separated string). */
  setScope(scope: readonly Scope[] | string): void {
    this.#scope = normaliseScopes(scope, 'scope');
  }

  /**
   * `true` when there is no access token, or it expires within `skewSeconds`.
   * An access token with no known expiration counts as valid (Spotify's 401
   * will tell).
   * @param skewSeconds - margin for clock skew and request time. @default 60
   */
  isExpired(skewSeconds = 60): boolean {
    if (this.#accessToken === undefined) return true;
    if (this.#expiresAt === undefined) return false;
    return this.#options.now() / 1000 + skewSeconds >= this.#expiresAt;
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
    return tokens;
  }

  #clientAuth(): ClientAuth {
    const { clientSecret } = this.#options;
    // accounts.md §3: confidential apps use HTTP Basic; public (PKCE) clients
    // send client_id in the body, on the code exchange and on refresh alike.
    return clientSecret === undefined ? None() : spotifyBasicAuth(clientSecret);
  }

  async #refresh(refreshToken: string): Promise<TokenResponse> {
    try {
      const response = await this.#tokenRequest(
        'refresh_token',
        undefined,
        (requestOptions) =>
          refreshTokenGrantRequest(
            this.#as,
            this.#client,
            this.#clientAuth(),
            refreshToken,
            requestOptions,
          ),
        (res) => processRefreshTokenResponse(this.#as, this.#client, res),
      );
      return await this.#store('refresh_token', response, this.#scope ?? [], refreshToken);
    } catch (error) {
      // Spotify says: discard it. Keeping it would only repeat the failure.
      if (error instanceof RefreshTokenRevokedError && this.#refreshToken === refreshToken) {
        this.#refreshToken = undefined;
      }
      throw error;
    }
  }

  async #tokenRequest(
    grant: Grant,
    callerSignal: AbortSignal | undefined,
    send: (options: TokenEndpointRequestOptions) => Promise<Response>,
    processResponse: (response: Response) => Promise<TokenEndpointResponse>,
  ): Promise<TokenEndpointResponse> {
    if (callerSignal !== undefined && !(callerSignal instanceof AbortSignal)) {
      throw new InvalidArgumentError('signal', 'signal must be an AbortSignal');
    }
    if (callerSignal?.aborted === true) throw new AbortedError({ cause: callerSignal.reason });
    const { timeout, now, fetch, insecure, accountsBase } = this.#options;
    const deadline = createDeadline(timeout, callerSignal);
    const record: TransportRecord = { sent: false, status: undefined };
    try {
      const response = await send({
        signal: deadline.signal,
        [customFetch]: createCustomFetch(fetch, now, record),
        // Only ever true for a loopback accountsUrl (checked at construction).
        [allowInsecureRequests]: insecure,
      });
      return await processResponse(response);
    } catch (error) {
      throw toSpotifyError(error, {
        grant,
        deadline,
        callerSignal,
        timeoutMs: timeout,
        record,
        origin: new URL(accountsBase).origin,
      });
    } finally {
      deadline.dispose();
    }
  }

  async #store(
    grant: Grant,
    response: TokenEndpointResponse,
    fallbackScope: string[],
    usedRefreshToken?: string,
  ): Promise<TokenResponse> {
    const expiresIn = response.expires_in ?? DEFAULT_EXPIRES_IN_SECONDS;
    const expiresAt = Math.floor(this.#options.now() / 1000 + expiresIn);
    const scope =
      typeof response.scope === 'string'
        ? response.scope.split(/\s+/).filter(Boolean)
        : [...fallbackScope];
    const result: TokenResponse = {
      accessToken: response.access_token,
      // oauth4webapi lowercases token_type; Spotify (and relays of its answer) say `Bearer`.
      tokenType: response.token_type === 'bearer' ? 'Bearer' : response.token_type,
      expiresIn,
      expiresAt,
      scope,
    };
    if (response.refresh_token !== undefined) result.refreshToken = response.refresh_token;
    const refreshToken =
      grant === 'client_credentials' ? undefined : (response.refresh_token ?? usedRefreshToken);
    const rotated =
      grant === 'refresh_token' &&
      response.refresh_token !== undefined &&
      response.refresh_token !== usedRefreshToken;
    const commit = () => {
      this.#appOnly = grant === 'client_credentials';
      this.#accessToken = result.accessToken;
      this.#refreshToken = refreshToken;
      this.#expiresAt = expiresAt;
      this.#scope = [...scope];
    };
    const { onTokens } = this.#options;
    if (onTokens === undefined) {
      commit();
      return result;
    }
    const tokens: SessionTokens = { accessToken: result.accessToken, expiresAt, scope: [...scope] };
    if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
    try {
      await onTokens(tokens, { grant, rotated });
    } catch (cause) {
      // The new tokens are kept: after a rotation they are the only valid ones.
      commit();
      throw new TokenCallbackError({ cause });
    }
    commit();
    return result;
  }
}

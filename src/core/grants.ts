/**
 * Stateless token-endpoint functions, one per OAuth grant Spotify supports,
 * named after the specs (RFC 6749 §4.1, §6, §4.4). They take a client
 * configuration resolved once ({@link resolveClientConfig}) and hold no
 * tokens: the `Session` builds on them, and a server can call them per
 * request without creating a `Session`.
 *
 * oauth4webapi builds the requests (client authentication, endpoint and
 * transport-security checks); `tokenResult` checks the answers; `_http.ts`
 * is the transport (one deadline over the whole exchange, bounded body reads).
 */
import {
  type AuthorizationServer,
  allowInsecureRequests,
  type Client,
  type ClientAuth,
  customFetch,
  genericTokenEndpointRequest,
  None,
} from 'oauth4webapi';
import {
  assertFunction,
  assertMilliseconds,
  assertPkce,
  assertSignal,
  assertToken,
  isJsonObject,
} from './_assert.js';
import {
  errorFromResponse,
  type FetchLike,
  parseJson,
  type SendOptions,
  sendRequest,
  sendWebRequest,
} from './_http.js';
import { validateAccountsUrl } from './_urls.js';
import {
  ConfigurationError,
  InvalidArgumentError,
  InvalidResponseError,
  OAuthError,
  RefreshTokenRevokedError,
} from './errors/index.js';

/** Spotify's Accounts service. */
export const DEFAULT_ACCOUNTS_URL = 'https://accounts.spotify.com';
/** Milliseconds a token request may take before it fails with `TimeoutError`. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * Lifetime assumed when a token response has no `expires_in` (Spotify always
 * sends one; its access tokens last one hour).
 */
export const DEFAULT_EXPIRES_IN_SECONDS = 3600;
/**
 * Largest `expires_in` believed, in seconds (one day; Spotify sends 3600).
 * Believing less than the truth only refreshes early; believing more would
 * keep using a dead token.
 */
export const MAX_EXPIRES_IN_SECONDS = 86_400;

/** The grant a token request is for. */
export type Grant = 'authorization_code' | 'refresh_token' | 'client_credentials';

/** Options of {@link resolveClientConfig}. */
export interface ClientConfigOptions {
  /** Your app's client ID from Spotify's developer dashboard. Required. */
  clientId: string;
  /**
   * Your app's client secret, sent with HTTP Basic authentication. Leave it
   * out for a public (PKCE) client, which sends `client_id` in the body.
   * @default undefined (public client)
   */
  clientSecret?: string | undefined;
  /**
   * Base URL of the Accounts service (`/api/token` is appended). Plain http
   * is allowed only for loopback hosts (emulators, test servers).
   * @default 'https://accounts.spotify.com'
   */
  accountsUrl?: string | undefined;
  /**
   * The `fetch` used for every request.
   * @default globalThis.fetch
   */
  fetch?: FetchLike | undefined;
  /**
   * Milliseconds a token request may take in total (connection, headers and
   * body) before it fails with `TimeoutError`.
   * @default 10_000
   */
  timeout?: number | undefined;
  /**
   * Clock in milliseconds since the epoch, for `Retry-After` dates.
   * @default Date.now
   */
  now?: (() => number) | undefined;
}

/** A client configuration resolved and checked once by {@link resolveClientConfig}. */
export interface ClientConfig {
  /** The app's client ID. */
  readonly clientId: string;
  /** The Accounts base URL, without a trailing slash. */
  readonly accountsUrl: string;
  /** `true` when a client secret is configured (HTTP Basic); `false` for a public client. */
  readonly confidential: boolean;
}

/** A successful answer of the token endpoint, as Spotify sent it. */
export interface TokenEndpointResult {
  /** The access token. */
  accessToken: string;
  /** `Bearer`. */
  tokenType: string;
  /**
   * Seconds the access token is valid for: a whole number in
   * `[0, MAX_EXPIRES_IN_SECONDS]` (3600 when Spotify sent none).
   */
  expiresIn: number;
  /** Granted scopes, space-separated as sent; `undefined` when the answer had none. */
  scope: string | undefined;
  /** Present on a code exchange, and on a refresh that rotated the refresh token. */
  refreshToken: string | undefined;
}

interface Internals {
  readonly as: AuthorizationServer;
  readonly client: Client;
  readonly auth: ClientAuth;
  readonly fetch: FetchLike;
  readonly timeout: number;
  readonly now: () => number;
  readonly insecure: boolean;
  /** Sends a built request and reads the whole answer (see `_http.ts`). */
  readonly send: typeof sendWebRequest;
  /** Builds one token request and sends it with `send`: oauth4webapi, or a replay of it. */
  readonly request: (
    internals: Internals,
    grant: Grant,
    parameters: URLSearchParams,
    send: (url: string, init: RequestInit) => Promise<Response>,
  ) => Promise<unknown>;
}

/**
 * Replays token requests oauth4webapi has built once (internal; the token server uses
 * `createTokenRequestReplay` from `_token-request-replay.ts`).
 */
export interface TokenRequestReplay {
  /** The request for `grant` with `parameters`, when one of the same shape was learned. */
  request(
    grant: Grant,
    parameters: URLSearchParams,
  ): { url: string; init: RequestInit } | undefined;
  /** Wraps the `fetch` oauth4webapi calls, to learn the request it builds. */
  learn(
    grant: Grant,
    parameters: URLSearchParams,
    send: (url: string, init: RequestInit) => Promise<Response>,
  ): (url: string, init: RequestInit) => Promise<Response>;
}

/**
 * Internal: `config` with token requests replayed by `replay` — the same requests, minus
 * oauth4webapi's per-call work (a server sends thousands of identical-but-one-value ones).
 */
export function withTokenRequestReplay(
  config: ClientConfig,
  replay: TokenRequestReplay,
): ClientConfig {
  const internals: Internals = {
    ...internalsOf(config),
    // The server's Node upstream is a self-timed fetch: `sendRequest` takes its fast path.
    send: sendRequest,
    request: (internals, grant, parameters, send) => {
      const replayed = replay.request(grant, parameters);
      return replayed === undefined
        ? buildRequest(internals, grant, parameters, replay.learn(grant, parameters, send))
        : send(replayed.url, replayed.init);
    },
  };
  const copy = { ...config };
  Object.defineProperty(copy, INTERNALS, { value: internals });
  return Object.freeze(copy);
}

const INTERNALS = Symbol('spotify-session.ClientConfig');

type ResolvedConfig = ClientConfig & { readonly [INTERNALS]: Internals };

/**
 * `Authorization: Basic base64(client_id:client_secret)`, exactly as Spotify
 * documents it. oauth4webapi's `ClientSecretBasic` first form-encodes both
 * parts (RFC 6749 §2.3.1), turning `-` into `%2D`; Spotify documents no such
 * decoding, and an id like `my-app` would then not match. Computed once.
 */
function spotifyBasicAuth(clientId: string, clientSecret: string): ClientAuth {
  let binary = '';
  for (const byte of new TextEncoder().encode(`${clientId}:${clientSecret}`)) {
    binary += String.fromCharCode(byte);
  }
  const header = `Basic ${btoa(binary)}`;
  return (_as, _client, _body, headers) => {
    headers.set('authorization', header);
  };
}

/**
 * Checks and resolves a client configuration once, for the grant functions.
 *
 * @throws {ConfigurationError} an option cannot work; the error names it.
 */
export function resolveClientConfig(options: ClientConfigOptions): ClientConfig {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'resolveClientConfig() needs an options object');
  }
  if (typeof options.clientId !== 'string' || options.clientId.trim() === '') {
    throw new ConfigurationError(
      'clientId',
      'clientId must be your app’s client ID (a non-empty string)',
    );
  }
  const { clientSecret } = options;
  if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret === '')) {
    throw new ConfigurationError('clientSecret', 'clientSecret must be a non-empty string');
  }
  const accounts = validateAccountsUrl(options.accountsUrl ?? DEFAULT_ACCOUNTS_URL);
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  assertMilliseconds(timeout, 'timeout');
  assertFunction(options.fetch, 'fetch');
  assertFunction(options.now, 'now');
  const internals: Internals = {
    as: { issuer: accounts.base, token_endpoint: `${accounts.base}/api/token` },
    client: { client_id: options.clientId },
    // Public (PKCE) clients send client_id in the body, on the exchange and on refresh alike.
    auth: clientSecret === undefined ? None() : spotifyBasicAuth(options.clientId, clientSecret),
    // Looked up at request time: browsers refuse a detached `fetch`.
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeout,
    now: options.now ?? Date.now,
    insecure: accounts.insecure,
    send: sendWebRequest,
    request: buildRequest,
  };
  const config: ClientConfig = {
    clientId: options.clientId,
    accountsUrl: accounts.base,
    confidential: clientSecret !== undefined,
  };
  // Hidden: logging or spreading the config shows no function and no credential.
  Object.defineProperty(config, INTERNALS, { value: internals, enumerable: false });
  return Object.freeze(config);
}

function internalsOf(config: ClientConfig): Internals {
  const internals = (config as Partial<ResolvedConfig> | null)?.[INTERNALS];
  if (internals === undefined) {
    throw new InvalidArgumentError(
      'config',
      'config must come from resolveClientConfig({ clientId, … })',
    );
  }
  return internals;
}

/** Scope names from an array or a space-separated string. */
export function normaliseScopes(scope: readonly string[] | string, argument: string): string[] {
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

/** A token fit for a header and for storage: visible ASCII only (RFC 6750 §2.1 b64token and more). */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/**
 * `expires_in` as a whole number of seconds within `[0, MAX_EXPIRES_IN_SECONDS]`.
 * Spotify's numeric strings are accepted; anything negative or non-numeric is refused.
 */
function saneExpiresIn(value: unknown, status: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (Number.isNaN(number) || number < 0) {
    throw new InvalidResponseError(
      status,
      'The token response has an unusable expires_in (not a non-negative number)',
    );
  }
  return Math.min(Math.floor(number), MAX_EXPIRES_IN_SECONDS);
}

function oauthError(
  grant: Grant,
  status: number,
  body: Record<string, unknown>,
  error: string,
): OAuthError {
  const description = body.error_description;
  const init = {
    error,
    errorDescription: typeof description === 'string' ? description : undefined,
    status,
    body,
  };
  return grant === 'refresh_token' && error === 'invalid_grant'
    ? new RefreshTokenRevokedError(init)
    : new OAuthError(init);
}

/**
 * oauth4webapi's `customFetch`: sends through `_http.ts` and settles
 * everything that is not a usable 200 here, as this library's errors:
 *
 * - an OAuth error body on any 4xx (whatever its Content-Type, with or
 *   without `WWW-Authenticate`) → `OAuthError` / `RefreshTokenRevokedError`;
 * - 429 → `RateLimitError`; any other non-2xx → `HTTPError`;
 * - a 2xx that is not a 200 JSON object → `InvalidResponseError`.
 *
 * A 200's JSON object is handed back through `answer`; {@link tokenResult} checks it.
 */
function transport(
  internals: Internals,
  grant: Grant,
  signal: AbortSignal | undefined,
  answer: { body?: Record<string, unknown>; status?: number },
): (url: string, init: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const options: SendOptions = { fetch: internals.fetch, timeout: internals.timeout, signal };
    const sent = await internals.send(url, init, options);
    const { status, text } = sent;
    const parsed = parseJson(text);
    const body = isJsonObject(parsed) ? parsed : undefined;
    if (status === 200) {
      if (body === undefined) {
        throw new InvalidResponseError(status, 'The token response is not a JSON object');
      }
      answer.body = body;
      answer.status = status;
      return sent.response;
    }
    if (status >= 200 && status < 300) {
      throw new InvalidResponseError(
        status,
        `The token endpoint answered HTTP ${status} instead of 200`,
      );
    }
    if (status >= 400 && status < 500 && status !== 429) {
      if (body !== undefined && typeof body.error === 'string' && body.error !== '') {
        throw oauthError(grant, status, body, body.error);
      }
    }
    throw errorFromResponse(sent, internals.now());
  };
}

/**
 * Checks a 200 answer of the token endpoint (RFC 6749 §5.1): the checks of
 * oauth4webapi's token-response processing (string `access_token` and
 * `token_type`, a Bearer or DPoP type, string `refresh_token` and `scope`
 * when present, usable `expires_in`), plus visible-ASCII tokens. That
 * processing is not called: it carries OpenID Connect ID-token validation
 * (JWT parsing and claim checks) that Spotify's answers never need, and
 * that would double the weight of a browser bundle. `id_token` is ignored.
 */
function tokenResult(body: Record<string, unknown>, status: number): TokenEndpointResult {
  const unusable = (problem: string) =>
    new InvalidResponseError(status, `Unusable token response: ${problem}`);
  const expiresIn = saneExpiresIn(body.expires_in, status) ?? DEFAULT_EXPIRES_IN_SECONDS;
  const { access_token: accessToken, refresh_token: refreshToken, scope } = body;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw unusable('access_token must be a non-empty string');
  }
  if (typeof body.token_type !== 'string' || body.token_type === '') {
    throw unusable('token_type must be a non-empty string');
  }
  const tokenType = body.token_type.toLowerCase();
  if (tokenType !== 'bearer' && tokenType !== 'dpop') {
    throw unusable('token_type must be Bearer');
  }
  if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken === '')) {
    throw unusable('refresh_token must be a non-empty string when present');
  }
  if (scope !== undefined && typeof scope !== 'string') {
    throw unusable('scope must be a string when present');
  }
  if (!TOKEN_PATTERN.test(accessToken)) {
    throw new InvalidResponseError(status, 'The access token contains unusable characters');
  }
  if (refreshToken !== undefined && !TOKEN_PATTERN.test(refreshToken)) {
    throw new InvalidResponseError(status, 'The refresh token contains unusable characters');
  }
  return {
    accessToken,
    // Spotify (and relays of its answer) say `Bearer`; any casing is accepted (RFC 6749 §5.1).
    tokenType: tokenType === 'bearer' ? 'Bearer' : tokenType,
    expiresIn,
    scope,
    refreshToken,
  };
}

/** oauth4webapi builds the token request and sends it through `send` ({@link transport}). */
function buildRequest(
  internals: Internals,
  grant: Grant,
  parameters: URLSearchParams,
  send: (url: string, init: RequestInit) => Promise<Response>,
): Promise<Response> {
  return genericTokenEndpointRequest(
    internals.as,
    internals.client,
    internals.auth,
    grant,
    parameters,
    {
      [customFetch]: send,
      // Only ever true for a loopback accountsUrl (checked when resolved).
      [allowInsecureRequests]: internals.insecure,
    },
  );
}

/**
 * One token request. oauth4webapi's generic request function serves all
 * three grants (its grant-specific ones add only authorization-response
 * checks that do not apply here); `grant_type` goes after `parameters`.
 */
async function tokenRequest(
  config: ClientConfig,
  grant: Grant,
  signal: AbortSignal | undefined,
  parameters: URLSearchParams,
): Promise<TokenEndpointResult> {
  const internals = internalsOf(config);
  assertSignal(signal);
  const answer: { body?: Record<string, unknown>; status?: number } = {};
  await internals.request(
    internals,
    grant,
    parameters,
    transport(internals, grant, signal, answer),
  );
  return tokenResult(answer.body as Record<string, unknown>, answer.status as number);
}

/** Parameters of {@link authorizationCodeGrant}. */
export interface AuthorizationCodeGrantParams {
  /** The `code` from the callback. */
  code: string;
  /** The exact redirect URI sent to `/authorize`. */
  redirectUri: string;
  /**
   * The PKCE verifier; required for a public client, optional for a confidential one.
   * @default undefined (no PKCE)
   */
  codeVerifier?: string | undefined;
  /** Cancels the request (`AbortedError`). @default undefined */
  signal?: AbortSignal | undefined;
}

/**
 * Exchanges an authorization code for tokens (RFC 6749 §4.1.3, with PKCE
 * per RFC 7636 when `codeVerifier` is given).
 *
 * @throws {InvalidArgumentError} a malformed code, redirect URI or verifier,
 *   or no verifier for a public client.
 * @throws {OAuthError} Spotify refused (`invalid_grant` for a used or expired code).
 * @throws {RateLimitError | HTTPError | InvalidResponseError | TimeoutError | AbortedError | NetworkError}
 */
export function authorizationCodeGrant(
  config: ClientConfig,
  params: AuthorizationCodeGrantParams,
): Promise<TokenEndpointResult> {
  return Promise.resolve().then(() => {
    const { code, redirectUri, codeVerifier, signal } = params;
    assertToken(code, 'code');
    assertToken(redirectUri, 'redirectUri');
    internalsOf(config);
    assertPkce(
      config.confidential,
      codeVerifier,
      'A public client (no clientSecret) must send the PKCE codeVerifier with the code',
    );
    const parameters = new URLSearchParams({ redirect_uri: redirectUri, code });
    // A confidential app may skip PKCE (RFC 7636 is optional for it).
    if (codeVerifier !== undefined) parameters.set('code_verifier', codeVerifier);
    return tokenRequest(config, 'authorization_code', signal, parameters);
  });
}

/** Parameters of {@link refreshTokenGrant}. */
export interface RefreshTokenGrantParams {
  /** The refresh token to use. */
  refreshToken: string;
  /** Cancels the request (`AbortedError`). @default undefined */
  signal?: AbortSignal | undefined;
}

/**
 * Gets a new access token with a refresh token (RFC 6749 §6). No redirect
 * URI is involved. When the result has a `refreshToken`, it replaces the one
 * used (rotation): store it before using the new access token.
 *
 * @throws {RefreshTokenRevokedError} `invalid_grant`: the refresh token is
 *   revoked, rotated away or too old. Never retry it; authorize again.
 * @throws {OAuthError | RateLimitError | HTTPError | InvalidResponseError | TimeoutError | AbortedError | NetworkError}
 */
export function refreshTokenGrant(
  config: ClientConfig,
  params: RefreshTokenGrantParams,
): Promise<TokenEndpointResult> {
  return Promise.resolve().then(() => {
    const { refreshToken, signal } = params;
    assertToken(refreshToken, 'refreshToken');
    return tokenRequest(
      config,
      'refresh_token',
      signal,
      new URLSearchParams({ refresh_token: refreshToken }),
    );
  });
}

/** Parameters of {@link clientCredentialsGrant}. */
export interface ClientCredentialsGrantParams {
  /**
   * Scopes to send. Spotify grants no user scopes to app tokens.
   * @default undefined (no `scope` parameter)
   */
  scope?: readonly string[] | string | undefined;
  /** Cancels the request (`AbortedError`). @default undefined */
  signal?: AbortSignal | undefined;
}

/**
 * Gets an app-only access token (RFC 6749 §4.4): no user, no refresh token.
 *
 * @throws {ConfigurationError} the configuration has no client secret.
 * @throws {OAuthError | RateLimitError | HTTPError | InvalidResponseError | TimeoutError | AbortedError | NetworkError}
 */
export function clientCredentialsGrant(
  config: ClientConfig,
  params: ClientCredentialsGrantParams = {},
): Promise<TokenEndpointResult> {
  return Promise.resolve().then(() => {
    internalsOf(config);
    if (!config.confidential) {
      throw new ConfigurationError(
        'clientSecret',
        'The client credentials flow needs the app’s clientSecret (keep it on a server)',
      );
    }
    const parameters = new URLSearchParams();
    if (params.scope !== undefined) {
      const scopes = normaliseScopes(params.scope, 'scope');
      if (scopes.length > 0) parameters.set('scope', scopes.join(' '));
    }
    return tokenRequest(config, 'client_credentials', params.signal, parameters);
  });
}

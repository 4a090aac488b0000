import {
  abortableSleep,
  assertSignal,
  type FetchLike,
  type HttpResponse,
  isRedirect,
  parseJson,
  parseRetryAfter,
  redirectNotice,
  sendRequest,
  untilAborted,
} from '../core/_http.js';
import {
  ConfigurationError,
  DEFAULT_TIMEOUT_MS,
  InvalidArgumentError,
  NetworkError,
  NoRefreshTokenError,
  RateLimitError,
  type Session,
} from '../core/index.js';
import { assertBaseUrl, assertFunction, assertMilliseconds } from '../core/internal.js';
import type { CallOptions } from './_generated/params.js';
import type { Resources } from './_generated/resources.js';
import type { PrivateUserObject } from './_generated/types.js';
import { createGuard, explainWithdrawn, type RequestGuard } from './_guard.js';
import { createResources } from './_operations.js';
import {
  type PageItem,
  type PageSource,
  type PaginateOptions,
  type Paginator,
  paginatePages,
  resolveMax,
  toPaginator,
} from './_paginate.js';
import type { ApiRequestOptions, Requester } from './_requester.js';
import {
  DEFAULT_MAX_RETRY_AFTER_SECONDS,
  DEFAULT_RETRY_LIMIT,
  defaultBackoff,
  isIdempotent,
  isTransientStatus,
  type ResolvedRetry,
  type RetryOptions,
} from './_retry.js';
import { WebAPIError } from './errors/index.js';

/** Spotify's Web API. */
export const DEFAULT_API_URL = 'https://api.spotify.com/v1';
/** Seconds before expiry at which the client refreshes a token before using it. */
export const DEFAULT_REFRESH_SKEW_SECONDS = 60;
/**
 * Largest Web API answer read. Full pages of playlist items run to a few
 * hundred KiB; this bound only stops a runaway body.
 */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const MAX_ERROR_BODY_TEXT = 1024;

/** An HTTP method the Web API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Runs before each attempt (retries included) with the request about to be
 * sent, `Authorization` header set. Return a new `Request` to send that
 * instead, a `Response` to answer without the network, or nothing.
 */
export type BeforeRequestHook = (
  request: Request,
) => Request | Response | undefined | Promise<Request | Response | undefined>;

/**
 * Runs after each attempt with the request and its answer (errors included,
 * before any retry decision). Return a `Response` to use instead, or nothing.
 * The body is yours to read: each hook gets its own copy.
 */
export type AfterResponseHook = (
  request: Request,
  response: Response,
) => Response | undefined | Promise<Response | undefined>;

/** Functions called around every request, in order (for logging, tracing, tests). */
export interface SpotifyWebAPIHooks {
  /** @default [] */
  beforeRequest?: readonly BeforeRequestHook[] | undefined;
  /** @default [] */
  afterResponse?: readonly AfterResponseHook[] | undefined;
}

/** Options of {@link SpotifyWebAPI}. */
export interface SpotifyWebAPIOptions {
  /**
   * Keep the Session's access token fresh: refresh it before a call when it
   * expires within `refreshSkew` seconds, and once after a 401, then send the
   * request once more. A client-credentials Session gets a new app token
   * instead. Without a Session there is nothing to refresh.
   * @default true (when a Session is given)
   */
  autoRefresh?: boolean | undefined;
  /**
   * Retry 429 answers (after `Retry-After`, when at most `retry.maxRetryAfter`),
   * and 5xx answers and network failures of GET, PUT and DELETE (never POST)
   * with exponential backoff. `false` throws at the first failure (the one
   * retry after a refreshed token belongs to `autoRefresh`).
   * @default true
   */
  autoRetry?: boolean | undefined;
  /**
   * Base URL of the Web API: the emulator (`${emulatorUrl}/v1`), a proxy, a
   * test server. Plain http is allowed for loopback hosts only.
   * @default 'https://api.spotify.com/v1'
   */
  apiUrl?: string | undefined;
  /**
   * The `fetch` every request goes through.
   * @default globalThis.fetch
   */
  fetch?: FetchLike | undefined;
  /**
   * Milliseconds one attempt may take (connection, answer and body) before it
   * fails with `TimeoutError`. Timeouts are not retried.
   * @default 10_000
   */
  timeout?: number | undefined;
  /**
   * How retries behave; see {@link RetryOptions}.
   * @default { limit: 2, maxRetryAfter: 60, backoff: exponential with jitter }
   */
  retry?: RetryOptions | undefined;
  /**
   * Functions run around every attempt, like ky's hooks.
   * @default {}
   */
  hooks?: SpotifyWebAPIHooks | undefined;
  /**
   * ISO 3166-1 alpha-2 country code (or `from_token`) sent as `market` by every
   * operation that takes one, unless the call names its own.
   * @default undefined (Spotify's default: the user's country, or none)
   */
  market?: string | undefined;
  /**
   * Seconds before expiry at which `autoRefresh` renews the token before a call.
   * @default 60
   */
  refreshSkew?: number | undefined;
  /**
   * `SpotifyWebAPI` only: refuse a call to an operation of the Web API that needs a scope the
   * Session's login was not granted, before sending it, with `WebAPIError`
   * (`kind: 'insufficient_scope'`, `missingScopes`). Only when the granted scopes are known
   * (the Session's `getScope()` is not empty), never for app (client-credentials) tokens.
   * @default true
   */
  checkScopes?: boolean | undefined;
}

interface ResolvedOptions {
  autoRefresh: boolean | undefined;
  autoRetry: boolean;
  base: string;
  /** The path part of `base` (`/v1`), cut from request paths in errors. */
  basePath: string;
  fetch: FetchLike;
  timeout: number;
  retry: ResolvedRetry;
  beforeRequest: readonly BeforeRequestHook[];
  afterResponse: readonly AfterResponseHook[];
  market: string | undefined;
  refreshSkew: number;
}

interface PreparedRequest {
  method: HttpMethod;
  url: string;
  /** For errors: the path below the base, without the query. */
  path: string;
  headers: Record<string, string>;
  body: BodyInit | undefined;
  signal: AbortSignal | undefined;
}

const METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'DELETE'];

/** A renewal after a 401, and the token it produced (once it has). */
interface Renewal {
  staleToken: string;
  done: Promise<void>;
  fresh: string | undefined;
  /** When `fresh` arrived (ms since the epoch). */
  at: number;
  /** Whether the API has answered a request made with `fresh` with anything but 401. */
  accepted: boolean;
}

/**
 * Milliseconds after a renewal made for a 401 during which a 401 for the token it produced,
 * before the API has accepted that token once, fails the call instead of refreshing again.
 * A token Spotify has just issued is good for an hour: refused at once, it will be refused
 * after every refresh too. A token that worked and then gets a 401 (revoked, or expired by
 * an emulator's clock) is refreshed as usual.
 */
const REFUSED_AFTER_RENEWAL_MS = 5_000;

const REFUSED_AFTER_RENEWAL =
  'The token refreshed after a 401 was refused too, so the client did not refresh again: check that apiUrl and accountsUrl belong together and that no proxy drops Authorization';

/** `apiUrl` checked by core's base-URL rules (https, or plain http to loopback), without a trailing slash. */
function resolveApiUrl(value: unknown): string {
  return assertBaseUrl(value, 'apiUrl', DEFAULT_API_URL).base;
}

function resolveNonNegative(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(option, `${option} must be a finite number ≥ 0`);
  }
  return value;
}

function resolveHooks<T>(value: unknown, option: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((hook) => typeof hook === 'function')) {
    throw new ConfigurationError(option, `${option} must be an array of functions`);
  }
  return [...value] as T[];
}

/** Every default is resolved here, and every option checked. */
function resolveOptions(options: SpotifyWebAPIOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError(
      'options',
      'new SpotifyWebAPI(options, session) takes an options object first ({} for the defaults)',
    );
  }
  for (const name of ['autoRefresh', 'autoRetry', 'checkScopes'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new ConfigurationError(name, `${name} must be true or false`);
    }
  }
  assertFunction(options.fetch, 'fetch');
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  assertMilliseconds(timeout, 'timeout');
  const retry = options.retry ?? {};
  const limit = retry.limit ?? DEFAULT_RETRY_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ConfigurationError('retry.limit', 'retry.limit must be a whole number ≥ 0');
  }
  if (retry.backoff !== undefined && typeof retry.backoff !== 'function') {
    throw new ConfigurationError(
      'retry.backoff',
      'retry.backoff must be a function (retry) => milliseconds',
    );
  }
  const market = options.market;
  if (
    market !== undefined &&
    (typeof market !== 'string' || !/^([A-Z]{2}|from_token)$/.test(market))
  ) {
    throw new ConfigurationError(
      'market',
      'market must be an ISO 3166-1 alpha-2 country code such as "SE", or "from_token"',
    );
  }
  const hooks = options.hooks ?? {};
  const base = resolveApiUrl(options.apiUrl ?? DEFAULT_API_URL);
  return {
    autoRefresh: options.autoRefresh,
    autoRetry: options.autoRetry ?? true,
    base,
    basePath: new URL(base).pathname.replace(/\/$/, ''),
    // Called through globalThis at request time: browsers refuse a detached `fetch`.
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeout,
    retry: {
      limit,
      maxRetryAfter: resolveNonNegative(
        retry.maxRetryAfter,
        'retry.maxRetryAfter',
        DEFAULT_MAX_RETRY_AFTER_SECONDS,
      ),
      backoff: retry.backoff ?? defaultBackoff,
    },
    beforeRequest: resolveHooks<BeforeRequestHook>(hooks.beforeRequest, 'hooks.beforeRequest'),
    afterResponse: resolveHooks<AfterResponseHook>(hooks.afterResponse, 'hooks.afterResponse'),
    market,
    refreshSkew: resolveNonNegative(
      options.refreshSkew,
      'refreshSkew',
      DEFAULT_REFRESH_SKEW_SECONDS,
    ),
  };
}

/**
 * The request URL for `path`: below `base`, starting with `/`, or a full URL under `base`
 * (a `next` link). The one check that keeps every request (`request()`, generated
 * operations, `paginate()`'s links) and its token under the API's base path: the URL parser
 * would resolve `..` (also as `%2e%2e`), read `\` as `/` and drop tabs and line breaks, so
 * `/../__emulator/stats` would reach another path of the API's host. A segment that
 * decodes to `..` through an encoded slash (`..%2f`) is refused too, for servers that decode
 * before they resolve.
 *
 * @throws {InvalidArgumentError} (`path`) for any of these, naming the path.
 */
function urlUnderBase(path: unknown, base: string, basePath: string): URL {
  let rest: string;
  if (typeof path === 'string' && path.startsWith('/') && !path.startsWith('//')) rest = path;
  else if (typeof path === 'string' && (path.startsWith(`${base}/`) || path.startsWith(`${base}?`)))
    rest = path.slice(base.length);
  else {
    throw new InvalidArgumentError(
      'path',
      `path must start with "/" (e.g. "/me/player"), or be a URL under ${base}`,
    );
  }
  const pathPart = rest.split(/[?#]/, 1)[0] as string;
  const url = new URL(base + rest);
  if (
    /[\t\n\r]/.test(rest) ||
    /[\\]|(^|\/|%2f|%5c)(\.|%2e){1,2}(\/|%2f|%5c|$)/i.test(pathPart) ||
    // What the rule above promises, checked on the parsed URL too.
    url.origin !== base.slice(0, base.length - basePath.length) ||
    !(url.pathname === basePath || url.pathname.startsWith(`${basePath}/`))
  ) {
    throw new InvalidArgumentError(
      'path',
      `The path ${JSON.stringify(pathPart)} could leave ${base} with your token (a "." or ".." segment, also as %2e, a backslash, a tab or a line break): give the path below apiUrl, e.g. "/me/player", ids through encodeURIComponent`,
    );
  }
  return url;
}

function encodeBody(body: unknown, headers: Record<string, string>): BodyInit | undefined {
  if (body === undefined) return undefined;
  if (
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && body instanceof Blob)
  ) {
    return body as BodyInit;
  }
  headers['content-type'] ??= 'application/json';
  return JSON.stringify(body);
}

/** A 2xx body: JSON when it parses, else the text (plain-text snapshot ids), `undefined` when empty. */
function successBody(response: HttpResponse): unknown {
  if (response.text === '') return undefined;
  const parsed = parseJson(response.text);
  return parsed === undefined ? response.text : parsed;
}

function toWebAPIError(
  request: PreparedRequest,
  response: HttpResponse,
  cause?: unknown,
  detail: string | undefined = isRedirect(response.response)
    ? redirectNotice(response.response, 'apiUrl')
    : undefined,
): WebAPIError {
  const parsed = response.text === '' ? undefined : parseJson(response.text);
  let message: string | undefined;
  let reason: string | undefined;
  const error = (parsed as { error?: unknown } | undefined)?.error;
  if (typeof error === 'object' && error !== null) {
    const fields = error as { message?: unknown; reason?: unknown };
    if (typeof fields.message === 'string' && fields.message !== '') message = fields.message;
    if (typeof fields.reason === 'string' && fields.reason !== '') reason = fields.reason;
  }
  return new WebAPIError(
    {
      status: response.status,
      message,
      reason,
      method: request.method,
      path: request.path,
      headers: response.headers,
      body: parsed ?? response.text.slice(0, MAX_ERROR_BODY_TEXT),
      response: response.response,
      detail,
    },
    cause === undefined ? undefined : { cause },
  );
}

/** Statuses whose Response may not carry a body. */
function isNullBodyStatus(status: number): boolean {
  return status === 101 || status === 204 || status === 205 || status === 304;
}

async function readHookResponse(response: Response): Promise<HttpResponse> {
  return {
    status: response.status,
    headers: response.headers,
    text: await response.clone().text(),
    response,
  };
}

/** The guard of each `SpotifyWebAPI` (see `_guard.ts`); a `SpotifyWebAPIBase` has none. */
const guards = new WeakMap<SpotifyWebAPIBase, RequestGuard>();

/**
 * The Web API client without the resource groups: `me()` and `request()`,
 * with the same auth, refresh and retries as {@link SpotifyWebAPI}, which
 * extends it with `api.albums`, `api.player`, … and `paginate()`. Nothing
 * here references the generated operation table or the pager, so a browser
 * bundle that needs only these methods leaves them out (about 2 kB gz; see
 * docs/benchmarks.md, "Bundle size").
 */
export class SpotifyWebAPIBase implements Requester {
  readonly #options: ResolvedOptions;
  #session: Session | undefined;
  #accessToken: string | undefined;
  /** The one renewal after a 401, shared by every call that saw the same stale token. */
  #renewal: Renewal | undefined;

  /**
   * @param options - see {@link SpotifyWebAPIOptions}; `{}` for the defaults.
   * @param session - the Session whose access token authorizes the calls.
   * @throws {ConfigurationError} an option cannot work (the message says why).
   */
  constructor(options: SpotifyWebAPIOptions = {}, session?: Session) {
    this.#options = resolveOptions(options);
    if (session !== undefined) this.setSession(session);
  }

  /**
   * Authorizes calls with this Session's tokens (refreshed as needed with
   * `autoRefresh`). Replaces any token given to `setAccessToken()`.
   */
  setSession(session: Session): this {
    if (typeof session !== 'object' || session === null || !('getValidAccessToken' in session)) {
      throw new InvalidArgumentError(
        'session',
        'setSession() needs a Session from spotify-session',
      );
    }
    this.#session = session;
    this.#accessToken = undefined;
    return this;
  }

  /** The Session in use, if any. */
  getSession(): Session | undefined {
    return this.#session;
  }

  /**
   * Authorizes calls with a bare access token. Nothing refreshes it: a 401
   * throws `WebAPIError` (`kind: 'invalid_token'`). Replaces any Session.
   */
  setAccessToken(accessToken: string): this {
    if (typeof accessToken !== 'string' || accessToken === '' || /\s/.test(accessToken)) {
      throw new InvalidArgumentError(
        'accessToken',
        'accessToken must be a non-empty string without whitespace',
      );
    }
    this.#accessToken = accessToken;
    this.#session = undefined;
    return this;
  }

  /** `GET /me`: the current user's profile (needs a user's token, not an app token). */
  me(options: CallOptions = {}): Promise<PrivateUserObject> {
    return this.request<PrivateUserObject>('GET', '/me', options);
  }

  /**
   * Sends one Web API request with the client's auth, refresh and retries,
   * and returns the answer's JSON (`undefined` for an empty body, the text
   * for a non-JSON body such as a plain-text snapshot id).
   *
   * @param path - below `apiUrl`, starting with `/` (`/me/player`), or a full
   *   URL under `apiUrl` (a `next` link).
   * @throws {WebAPIError} an error status (see `kind`).
   * @throws {RateLimitError} 429 with no retry left, or a `Retry-After` over the cap.
   * @throws the core errors `TimeoutError`, `AbortedError`, `NetworkError`,
   *   `InvalidResponseError`, and the Session's refresh errors
   *   (`RefreshTokenRevokedError`, `OAuthError`, `NoRefreshTokenError`).
   */
  async request<T = unknown>(
    method: HttpMethod,
    path: string,
    options: ApiRequestOptions = {},
  ): Promise<T> {
    const request = this.#prepare(method, path, options);
    return (await this.#send(request)) as T;
  }

  #prepare(method: HttpMethod, path: string, options: ApiRequestOptions): PreparedRequest {
    if (!METHODS.includes(method)) {
      throw new InvalidArgumentError('method', 'method must be GET, POST, PUT or DELETE');
    }
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options', 'options must be an object');
    }
    assertSignal(options.signal);
    const { base, basePath, market } = this.#options;
    const url = urlUnderBase(path, base, basePath);
    const { query } = options;
    if (query !== undefined) {
      for (const [name, value] of Object.entries(query)) {
        const chosen = value === undefined && name === 'market' ? market : value;
        if (chosen === undefined) continue;
        url.searchParams.set(
          name,
          Array.isArray(chosen) ? chosen.join(',') : String(chosen as string | number | boolean),
        );
      }
    }
    const headers: Record<string, string> = {};
    if (options.headers !== undefined) {
      for (const [name, value] of Object.entries(options.headers)) {
        headers[name.toLowerCase()] = value;
      }
    }
    const body = encodeBody(options.body, headers);
    return {
      method,
      url: url.href,
      path: url.pathname.slice(basePath.length) || '/',
      headers,
      body,
      signal: options.signal,
    };
  }

  async #send(request: PreparedRequest): Promise<unknown> {
    const { retry, autoRetry } = this.#options;
    const { signal, method } = request;
    let retries = 0;
    let renewed = false;
    const guard = guards.get(this);
    for (;;) {
      const token = await this.#currentToken(signal);
      const waited = await guard?.before(
        method,
        request.path,
        this.#session,
        autoRetry ? retry.maxRetryAfter : 0,
        signal,
      );
      if (waited === true) continue;
      let response: HttpResponse;
      try {
        response = await this.#attempt(request, token);
      } catch (error) {
        if (
          error instanceof NetworkError &&
          autoRetry &&
          isIdempotent(method) &&
          retries < retry.limit
        ) {
          retries += 1;
          await abortableSleep(retry.backoff(retries), signal);
          continue;
        }
        throw error;
      }
      const { status } = response;
      const renewal = this.#renewal;
      if (status !== 401 && renewal?.fresh === token) renewal.accepted = true;
      if (status >= 200 && status < 300) return successBody(response);

      if (status === 401 && this.#refusedAfterRenewal(token)) {
        throw toWebAPIError(request, response, undefined, REFUSED_AFTER_RENEWAL);
      }
      if (status === 401 && !renewed && this.#refreshing()) {
        renewed = true;
        try {
          await this.#renewAfter401(token, signal);
        } catch (error) {
          // Nothing to renew with (a bare access token in the Session): the 401 is the news.
          if (error instanceof NoRefreshTokenError) {
            throw toWebAPIError(request, response, error);
          }
          throw error;
        }
        continue;
      }
      if (status === 429) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'), Date.now());
        if (retryAfter !== undefined) await guard?.rateLimited(this.#session, retryAfter);
        const { maxRetryAfter } = retry;
        if (
          autoRetry &&
          retries < retry.limit &&
          (retryAfter === undefined || retryAfter <= maxRetryAfter)
        ) {
          retries += 1;
          // No Retry-After (a proxy, an empty quota answer): back off instead.
          await abortableSleep(
            retryAfter === undefined ? retry.backoff(retries) : retryAfter * 1000,
            signal,
          );
          continue;
        }
        throw new RateLimitError(
          { retryAfter, headers: response.headers },
          { cause: toWebAPIError(request, response) },
        );
      }
      if (isTransientStatus(status) && autoRetry && isIdempotent(method) && retries < retry.limit) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'), Date.now());
        if (retryAfter === undefined || retryAfter <= retry.maxRetryAfter) {
          retries += 1;
          await abortableSleep(
            retryAfter === undefined ? retry.backoff(retries) : retryAfter * 1000,
            signal,
          );
          continue;
        }
      }
      throw toWebAPIError(request, response);
    }
  }

  #refreshing(): boolean {
    return this.#session !== undefined && this.#options.autoRefresh !== false;
  }

  async #currentToken(signal: AbortSignal | undefined): Promise<string> {
    const session = this.#session;
    if (session === undefined) {
      if (this.#accessToken !== undefined) return this.#accessToken;
      throw new ConfigurationError(
        'session',
        'SpotifyWebAPI has no access token: pass a Session (new SpotifyWebAPI({}, session)) or call setAccessToken(token)',
      );
    }
    if (this.#refreshing()) {
      const options: { skewSeconds: number; signal?: AbortSignal } = {
        skewSeconds: this.#options.refreshSkew,
      };
      if (signal !== undefined) options.signal = signal;
      return session.getValidAccessToken(options);
    }
    const token = session.getAccessToken();
    if (token === undefined) {
      throw new ConfigurationError(
        'session',
        'The Session has no access token: log the user in (requestAccessToken) or set autoRefresh: true with a refresh token',
      );
    }
    return token;
  }

  /**
   * After a 401: renew the token once for every call that used `staleToken`.
   * Calls whose 401 arrives after the renewal just retry with the new token;
   * calls that arrive while it runs wait for it; a failed renewal fails them
   * all with the same error, instead of each trying again.
   */
  async #renewAfter401(staleToken: string, signal: AbortSignal | undefined): Promise<void> {
    const session = this.#session as Session;
    if (session.getAccessToken() !== staleToken) return;
    if (this.#renewal?.staleToken !== staleToken) {
      const renewal: Renewal = {
        staleToken,
        done: Promise.resolve(),
        fresh: undefined,
        at: 0,
        accepted: false,
      };
      renewal.done = (
        session.getRefreshToken() !== undefined
          ? session.refreshAccessToken()
          : (() => {
              // No refresh token: an app (client-credentials) token, which the
              // Session renews with a new token request once it counts as expired.
              session.setTokenExpiration(0);
              return session.getValidAccessToken();
            })()
      ).then(() => {
        renewal.fresh = session.getAccessToken();
        renewal.at = Date.now();
      });
      this.#renewal = renewal;
    }
    await untilAborted(this.#renewal.done, signal);
  }

  /**
   * Whether a 401 for `token` is final: `token` is the one a renewal after a 401 produced
   * less than {@link REFUSED_AFTER_RENEWAL_MS} ago, and the API has never accepted it.
   * Refreshing again would not help (the API is not the one that issued the token) and
   * would only rotate the refresh token once more per call.
   */
  #refusedAfterRenewal(token: string): boolean {
    const renewal = this.#renewal;
    return (
      renewal?.fresh === token &&
      !renewal.accepted &&
      Date.now() - renewal.at < REFUSED_AFTER_RENEWAL_MS
    );
  }

  /** One exchange, through the hooks when there are any. */
  async #attempt(request: PreparedRequest, token: string): Promise<HttpResponse> {
    const { fetch, timeout, beforeRequest, afterResponse } = this.#options;
    const headers = { ...request.headers, authorization: `Bearer ${token}` };
    const send = { fetch, timeout, signal: request.signal, maxBodyBytes: MAX_RESPONSE_BYTES };
    if (beforeRequest.length === 0 && afterResponse.length === 0) {
      const init: RequestInit = { method: request.method, headers };
      if (request.body !== undefined) init.body = request.body;
      return sendRequest(request.url, init, send);
    }
    let outgoing = new Request(request.url, {
      method: request.method,
      headers,
      body: request.body ?? null,
    });
    let result: HttpResponse | undefined;
    for (const hook of beforeRequest) {
      const returned = await hook(outgoing);
      if (returned instanceof Response) {
        result = await readHookResponse(returned);
        break;
      }
      if (returned instanceof Request) outgoing = returned;
    }
    if (result === undefined) {
      const init: RequestInit = { method: outgoing.method, headers: outgoing.headers };
      if (outgoing.body !== null) init.body = await outgoing.clone().arrayBuffer();
      result = await sendRequest(outgoing.url, init, send);
    }
    for (const hook of afterResponse) {
      // A browser's opaque redirect (status 0) cannot be rebuilt; it has no body to copy.
      const view =
        result.status === 0
          ? result.response
          : new Response(isNullBodyStatus(result.status) ? null : result.text, {
              status: result.status,
              statusText: result.response.statusText,
              headers: result.headers,
            });
      const returned = await hook(outgoing, view);
      if (returned instanceof Response) result = await readHookResponse(returned);
    }
    return result;
  }
}

// The resource groups (`api.albums`, `api.player`, …) are attached in the
// constructor from the generated table; this merge gives them their types.
export interface SpotifyWebAPI extends Resources {}

/**
 * Spotify's Web API, typed, with automatic token refresh and honest retries.
 *
 * Hand it a {@link Session} (it refreshes the Session's tokens as needed) or
 * a bare access token (`setAccessToken`). Every operation of the Web API is a
 * method of a resource group (`api.albums`, `api.playlists`, `api.player`, …);
 * `request()` reaches anything else, `paginate()` walks pages.
 *
 * @example
 * ```ts
 * import { Session } from 'spotify-session';
 * import { SpotifyWebAPI } from 'spotify-session/api';
 *
 * declare const clientId: string, clientSecret: string, refreshToken: string;
 * const session = new Session({ clientId, clientSecret });
 * session.setRefreshToken(refreshToken);
 * const api = new SpotifyWebAPI({ autoRefresh: true }, session);
 * const me = await api.me();
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor assigns every member of Resources
export class SpotifyWebAPI extends SpotifyWebAPIBase {
  readonly #apiUrl: string;

  /**
   * @param options - see {@link SpotifyWebAPIOptions}; `{}` for the defaults.
   * @param session - the Session whose access token authorizes the calls.
   * @throws {ConfigurationError} an option cannot work (the message says why).
   */
  constructor(options: SpotifyWebAPIOptions = {}, session?: Session) {
    super(options, session);
    // Checked by super() already; kept here to rebase `next` links.
    this.#apiUrl = resolveApiUrl(options.apiUrl ?? DEFAULT_API_URL);
    guards.set(this, createGuard(options.checkScopes !== false));
    Object.assign(this, createResources(this));
  }

  /**
   * Sends one Web API request like {@link SpotifyWebAPIBase.request}, with the checks of the
   * operation at that path: a scope the login lacks refuses it before sending
   * (`checkScopes`), a wait Spotify asked this app for is shared with every client on the
   * Session's store, and a withdrawn endpoint's 403 or 404 becomes `kind: 'withdrawn'`
   * naming its replacement.
   *
   * @throws {WebAPIError} an error status (see `kind`), or a missing scope before sending.
   * @throws {RateLimitError} 429 with no retry left, a `Retry-After` over the cap, or a wait
   *   recorded by another client that lasts longer than the cap (nothing sent).
   */
  override async request<T = unknown>(
    method: HttpMethod,
    path: string,
    options: ApiRequestOptions = {},
  ): Promise<T> {
    try {
      return await super.request<T>(method, path, options);
    } catch (error) {
      throw explainWithdrawn(error);
    }
  }

  /**
   * Every item of a paged answer, page after page, following `next` links
   * (offset and cursor pages alike).
   *
   * @param first - a path to GET (`/me/tracks`), with `options.query`; name
   *   the item type yourself (`paginate<SavedTrackObject>(…)`).
   * @example
   * ```ts
   * import { SpotifyWebAPI } from 'spotify-session/api';
   * declare const api: SpotifyWebAPI;
   * let count = 0;
   * for await (const _item of api.paginate('/me/tracks', { query: { limit: 50 }, max: 500 })) {
   *   count++;
   * }
   * ```
   */
  paginate<T = unknown>(
    first: string,
    options?: PaginateOptions & Pick<ApiRequestOptions, 'query'>,
  ): Paginator<T>;
  /**
   * Every item of a paged answer, page after page, following `next` links
   * (offset and cursor pages alike).
   *
   * @param first - the first page or its promise (e.g.
   *   `api.playlists.items.list(id, { limit: 50 })`), or an answer holding
   *   one page under one key (a search for one type); items are typed from it.
   * @example
   * ```ts
   * import { SpotifyWebAPI } from 'spotify-session/api';
   * declare const api: SpotifyWebAPI, playlistId: string;
   * const first = api.playlists.items.list(playlistId, { limit: 50 });
   * const names: string[] = [];
   * for await (const entry of api.paginate(first, { max: 500 })) {
   *   names.push(entry.item?.name ?? '(unavailable)');
   * }
   * ```
   */
  paginate<A extends object>(
    first: A | Promise<A>,
    options?: PaginateOptions,
  ): Paginator<PageItem<A>>;
  paginate<T = unknown>(
    first: string | PageSource<T> | Promise<PageSource<T>>,
    options: PaginateOptions & Pick<ApiRequestOptions, 'query'> = {},
  ): Paginator<T> {
    assertSignal(options.signal);
    const { signal, query } = options;
    const max = resolveMax(options.max);
    let load: () => Promise<unknown>;
    if (typeof first === 'string') {
      load = () => this.request('GET', first, { query, signal });
    } else {
      const page = Promise.resolve(first);
      // Reported when iterated; not an unhandled rejection if the loop never starts.
      page.catch(() => {});
      load = () => page;
    }
    return toPaginator(
      paginatePages<T>(
        load,
        (next, nextSignal) =>
          this.request('GET', rebaseLink(this.#apiUrl, next), { signal: nextSignal }),
        max,
        signal,
      ),
    );
  }
}

/** A `next` link from api.spotify.com, rebased onto `apiUrl` (a proxy, the emulator). */
function rebaseLink(base: string, link: string): string {
  if (link.startsWith(`${base}/`) || link.startsWith(`${base}?`)) return link;
  if (link.startsWith(`${DEFAULT_API_URL}/`)) return `${base}${link.slice(DEFAULT_API_URL.length)}`;
  return link; // #prepare refuses it: the token never goes to another host
}

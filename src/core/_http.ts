/**
 * The one HTTP layer every part that talks to Spotify stands on (core's
 * grants, the token server, the Web API client): a fetch under one deadline
 * that covers the body read, a bounded body reader, `Retry-After` parsing,
 * mapping of an unexpected answer to a typed error, and base64url.
 *
 * Web-standard globals only.
 */

import {
  AbortedError,
  HTTPError,
  InvalidResponseError,
  NetworkError,
  RateLimitError,
  type SpotifyError,
  TimeoutError,
} from './errors/index.js';

// base64url lives apart so that `tokens.ts` (and the CLI's `token`) loads it without the HTTP layer.
export { base64urlDecode, base64urlEncode, sha256Base64url } from './_base64url.js';

/** The `fetch` shape this library calls (the global `fetch` fits). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Marks a {@link SelfTimedFetch}: a {@link FetchLike} that can also read a whole answer under
 * a deadline of its own. With no caller signal, {@link sendRequest} then runs no timer, signal
 * or race, builds no `Response` with a body and reads no web stream (a Node upstream client
 * saves tens of microseconds per call that way).
 */
export const SELF_TIMED = Symbol.for('spotify-session.self-timed-fetch');

/** An answer a {@link SelfTimedFetch} read whole. */
export interface WholeAnswer {
  /** Status and headers, in a `Response` that carries no body. */
  response: Response;
  /** The body (empty for none); longer than `maxBodyBytes` when the answer was, then cut. */
  body: Uint8Array;
}

/**
 * A {@link FetchLike} marked {@link SELF_TIMED}. Called with a deadline (milliseconds) as
 * third argument, it settles within it, rejecting with a `TimeoutError` `DOMException` once it
 * passes, and answers a {@link WholeAnswer}: the body as bytes beside a bodiless `Response`.
 * It stops reading a body once it is longer than `maxBodyBytes`.
 */
export interface SelfTimedFetch extends FetchLike {
  (
    input: string,
    init: RequestInit,
    timeout: number,
    maxBodyBytes?: number | undefined,
  ): Promise<WholeAnswer>;
  readonly [SELF_TIMED]: true;
}

/** Largest body read when {@link SendOptions.maxBodyBytes} is not given. */
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** Largest `Retry-After` believed, in seconds (one day). */
const DEFAULT_RETRY_AFTER_CAP_SECONDS = 86_400;

/** Options of {@link sendRequest}. */
export interface SendOptions {
  /** The fetch to call. */
  fetch: FetchLike | SelfTimedFetch;
  /** Milliseconds for the whole exchange: connection, headers and the body read. */
  timeout: number;
  /** The caller's signal; aborting rejects with `AbortedError`. @default undefined */
  signal?: AbortSignal | undefined;
  /** Largest body read; a longer body is an `InvalidResponseError`. @default 65_536 */
  maxBodyBytes?: number | undefined;
}

/** An answer read whole by {@link sendRequest}. */
export interface HttpResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** The body text, fully read under the deadline and the size bound (`''` for no body). */
  text: string;
  /** The response, its body already read into `text` (a `Response` without one from a {@link SelfTimedFetch}). */
  response: Response;
}

const decoder = new TextDecoder();

/** Why the exchange stopped early; mapped to an error at one place. */
type Stop = { kind: 'timeout' | 'aborted'; reason: unknown };

/** A short reason from a failed fetch (undici hides it in `cause`: `ECONNREFUSED`, …). */
function networkReason(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as unknown) : undefined;
  for (const candidate of [cause, error]) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const { code, message } = candidate as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (candidate !== error && typeof message === 'string' && message !== '') return message;
  }
  return error instanceof Error && error.message !== '' ? error.message : 'unknown reason';
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the server';
  }
}

/**
 * Sends one request and reads its whole body, under one deadline and a size
 * bound. Never throws for an HTTP status: the caller decides what a status
 * means (see {@link errorFromResponse}). `init.signal` is replaced by the
 * deadline's own: pass the caller's signal as `options.signal`.
 *
 * Redirects are never followed (`redirect: 'manual'`, whatever `init` says): Spotify's
 * endpoints do not redirect, and following one would carry the `Authorization` header
 * to another path, or re-send a POST body to another origin (307/308) and take that
 * origin's answer for Spotify's. A redirect comes back as the answer; see {@link isRedirect}.
 *
 * A {@link SelfTimedFetch} without a caller signal reads the answer under its own deadline;
 * any other fetch goes through {@link sendWebRequest}.
 *
 * @throws {TimeoutError} no complete answer within `timeout` (headers or body).
 * @throws {AbortedError} the caller's `signal` aborted.
 * @throws {NetworkError} no answer (refused, reset, DNS), or the body broke off.
 * @throws {InvalidResponseError} the body is longer than `maxBodyBytes`.
 */
export async function sendRequest(
  url: string,
  init: RequestInit,
  options: SendOptions,
): Promise<HttpResponse> {
  const { fetch, timeout } = options;
  if (options.signal !== undefined || !(SELF_TIMED in fetch)) {
    return sendWebRequest(url, init, options);
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { response, body } = await fetch(
    url,
    init.redirect === 'manual' ? init : { ...init, redirect: 'manual' },
    timeout,
    maxBodyBytes,
  ).catch((error: unknown) => {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    throw failure(
      error,
      'fetch',
      url,
      timeout,
      timedOut ? { kind: 'timeout', reason: error } : undefined,
    );
  });
  if (body.byteLength > maxBodyBytes) throw tooLarge(response.status, maxBodyBytes);
  return {
    status: response.status,
    headers: response.headers,
    text: decoder.decode(body),
    response,
  };
}

/**
 * {@link sendRequest} for a web `fetch` (a {@link SelfTimedFetch} is called as a plain one):
 * one timer and the caller's signal bound the fetch and the body read. What browsers and
 * Workers run; the self-timed path is the token server's, and stays out of their bundles.
 */
export async function sendWebRequest(
  url: string,
  init: RequestInit,
  options: SendOptions,
): Promise<HttpResponse> {
  const { signal: callerSignal, timeout } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (callerSignal?.aborted === true) throw new AbortedError({ cause: callerSignal.reason });

  const controller = new AbortController();
  let stop: Stop | undefined;
  let rejectStopped: (reason: unknown) => void = () => {};
  // Rejects when the deadline passes or the caller aborts, so every await
  // below ends then even if the fetch implementation ignores its signal.
  const stopped = new Promise<never>((_resolve, reject) => {
    rejectStopped = reject;
  });
  stopped.catch(() => {});
  const halt = (reason: Stop) => {
    if (stop !== undefined) return;
    stop = reason;
    controller.abort(reason.reason);
    rejectStopped(reason);
  };
  const timer = setTimeout(
    () =>
      halt({
        kind: 'timeout',
        reason: new DOMException('The operation timed out.', 'TimeoutError'),
      }),
    timeout,
  );
  const onCallerAbort = () => halt({ kind: 'aborted', reason: callerSignal?.reason });
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true });

  const fail = (error: unknown, phase: 'fetch' | 'body') =>
    failure(error, phase, url, timeout, stop);

  let response: Response;
  try {
    response = await Promise.race([
      options.fetch(url, { ...init, redirect: 'manual', signal: controller.signal }),
      stopped,
    ]);
  } catch (error) {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', onCallerAbort);
    throw fail(error, 'fetch');
  }
  try {
    const text = await readBody(response, maxBodyBytes, stopped);
    return { status: response.status, headers: response.headers, text, response };
  } catch (error) {
    throw fail(error, 'body');
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', onCallerAbort);
  }
}

/** The error for an exchange that failed: stopped by the deadline or the caller, or not. */
function failure(
  error: unknown,
  phase: 'fetch' | 'body',
  url: string,
  timeout: number,
  stop: Stop | undefined,
): SpotifyError {
  if (stop?.kind === 'aborted') return new AbortedError({ cause: stop.reason });
  if (stop?.kind === 'timeout') return new TimeoutError(timeout, { cause: stop.reason });
  if (error instanceof InvalidResponseError) return error;
  const origin = originOf(url);
  return new NetworkError(
    phase === 'fetch'
      ? `No answer from ${origin} (${networkReason(error)})`
      : `The answer from ${origin} broke off (${networkReason(error)})`,
    { cause: error },
  );
}

function tooLarge(status: number, maxBodyBytes: number): InvalidResponseError {
  return new InvalidResponseError(status, `The response body is larger than ${maxBodyBytes} bytes`);
}

/** Reads the body; every wait ends when `stopped` rejects. */
async function readBody(
  response: Response,
  maxBodyBytes: number,
  stopped: Promise<never>,
): Promise<string> {
  const race = <T>(promise: Promise<T>) => Promise.race([promise, stopped]);
  const { status, headers } = response;
  const declared = headers.get('content-length');
  const length = declared === null ? Number.NaN : Number(declared);
  // A body of known length and no content coding, within the bound, is read in one call:
  // fetch implementations that hold the answer already (the token server's Node client)
  // then skip the web-stream reads. A coded body may decode to far more than its length,
  // so it is read chunk by chunk below.
  if (Number.isInteger(length) && length <= maxBodyBytes && !headers.has('content-encoding')) {
    const bytes = new Uint8Array(await race(response.arrayBuffer()));
    if (bytes.byteLength > maxBodyBytes) throw tooLarge(status, maxBodyBytes);
    return decoder.decode(bytes);
  }
  const body = response.body;
  if (body === null) return '';
  if (length > maxBodyBytes) {
    body.cancel().catch(() => {});
    throw tooLarge(status, maxBodyBytes);
  }
  const reader = body.getReader();
  try {
    let first: Uint8Array | undefined;
    let chunks: Uint8Array[] | undefined;
    let size = 0;
    for (;;) {
      const { done, value } = await race(reader.read());
      if (done) break;
      size += value.byteLength;
      if (size > maxBodyBytes) throw tooLarge(status, maxBodyBytes);
      // Almost every body arrives in one chunk: no copy then.
      if (first === undefined) first = value;
      else if (chunks === undefined) chunks = [first, value];
      else chunks.push(value);
    }
    if (first === undefined) return '';
    if (chunks === undefined) return decoder.decode(first);
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return decoder.decode(bytes);
  } catch (error) {
    // Not awaited: cancelling one branch of a tee'd (cloned) body waits for the other.
    reader.cancel().catch(() => {});
    throw error;
  }
}

/**
 * Seconds to wait from a `Retry-After` value (RFC 9110 §10.2.3): delta-seconds
 * or an HTTP-date, clamped to `[0, capSeconds]`; `undefined` when absent or
 * unreadable (`1e+23`, `-5`, `1.5` and free text are unreadable).
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
  capSeconds: number = DEFAULT_RETRY_AFTER_CAP_SECONDS,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    // Long digit strings lose precision but stay huge: the cap handles them.
    return Math.min(Number(text), capSeconds);
  }
  // An HTTP-date always names the weekday and GMT; Date.parse alone accepts far more.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, Math.ceil((date - nowMs) / 1000)), capSeconds);
}

/** `JSON.parse`, but `undefined` instead of a throw. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether an answer is a redirect that {@link sendRequest} did not follow: a 3xx other than
 * `304 Not Modified` (the answer to a conditional request), or what a browser hands back
 * for one under `redirect: 'manual'` (an opaque redirect, status 0, no headers).
 */
export function isRedirect(response: Response): boolean {
  const { status } = response;
  return response.type === 'opaqueredirect' || (status >= 300 && status < 400 && status !== 304);
}

/**
 * Why a redirect was not followed and what to check, for an error message. The target is
 * shown without its query, fragment or credentials.
 */
export function redirectNotice(response: Response, setting: 'apiUrl' | 'accountsUrl'): string {
  let target = response.headers.get('location') ?? '';
  try {
    const url = new URL(target);
    target = url.origin + url.pathname;
  } catch {
    target = target.split(/[?#]/, 1)[0] as string;
  }
  return `Spotify never redirects, so the redirect${target && ` to ${target}`} was not followed: check ${setting} and any proxy`;
}

/**
 * The error for an answer of the token endpoint the caller cannot use: 429 →
 * `RateLimitError` (with the capped `Retry-After`), any other status → `HTTPError`
 * (status, headers, parsed body or text, the raw response kept non-enumerable; a
 * redirect says so, see {@link redirectNotice}).
 */
export function errorFromResponse(response: HttpResponse, nowMs: number): SpotifyError {
  const { status, headers } = response;
  if (status === 429) {
    return new RateLimitError({
      retryAfter: parseRetryAfter(headers.get('retry-after'), nowMs),
      headers,
    });
  }
  const parsed = response.text === '' ? undefined : parseJson(response.text);
  return new HTTPError({
    status,
    headers,
    body: parsed ?? response.text,
    response: response.response,
    ...(isRedirect(response.response)
      ? {
          message: `Spotify answered HTTP ${status}. ${redirectNotice(response.response, 'accountsUrl')}`,
        }
      : {}),
  });
}

/**
 * Waits `ms` milliseconds; rejects with `AbortedError` (and clears the timer)
 * as soon as `signal` aborts.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) {
    return Promise.reject(new AbortedError({ cause: signal.reason }));
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError({ cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `promise`, or rejects with `AbortedError` once `signal` aborts
 * (the work behind `promise` goes on: it may be shared with other callers).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new AbortedError({ cause: signal.reason }));
    // Handlers go on first, so a later rejection of `promise` is never unhandled.
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

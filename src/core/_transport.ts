import { ResponseBodyError, WWWAuthenticateChallengeError } from 'oauth4webapi';
import {
  AbortedError,
  HTTPError,
  InvalidResponseError,
  NetworkError,
  OAuthError,
  RateLimitError,
  RefreshTokenRevokedError,
  SpotifyError,
  TimeoutError,
} from './errors/index.js';

/** Largest token-endpoint body read; a real one is well under 2 KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The `fetch` shape the Session calls (the global `fetch` fits). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** The grant a token request is for; `refresh_token` turns `invalid_grant` into `RefreshTokenRevokedError`. */
export type Grant = 'authorization_code' | 'refresh_token' | 'client_credentials';

/** One request's abort signal: the caller's signal combined with the timeout. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** `true` once the timeout (not the caller) aborted the request. */
  timedOut(): boolean;
  /** Releases the timer and listeners. */
  dispose(): void;
}

function timeoutSignal(ms: number): { signal: AbortSignal; dispose(): void } {
  if (typeof AbortSignal.timeout === 'function') {
    return { signal: AbortSignal.timeout(ms), dispose() {} };
  }
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation timed out.', 'TimeoutError')),
    ms,
  );
  return { signal: controller.signal, dispose: () => clearTimeout(timer) };
}

function anySignal(signals: AbortSignal[]): { signal: AbortSignal; dispose(): void } {
  if (typeof AbortSignal.any === 'function') {
    return { signal: AbortSignal.any(signals), dispose() {} };
  }
  const controller = new AbortController();
  const listeners: Array<() => void> = [];
  const dispose = () => {
    signals.forEach((signal, index) => {
      const listener = listeners[index];
      if (listener !== undefined) signal.removeEventListener('abort', listener);
    });
  };
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    const listener = () => {
      controller.abort(signal.reason);
      dispose();
    };
    listeners.push(listener);
    signal.addEventListener('abort', listener, { once: true });
  }
  return { signal: controller.signal, dispose };
}

/** Combines the session `timeout` with the caller's optional `signal`. */
export function createDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): Deadline {
  const timeout = timeoutSignal(timeoutMs);
  if (callerSignal === undefined) {
    return {
      signal: timeout.signal,
      timedOut: () => timeout.signal.aborted,
      dispose: timeout.dispose,
    };
  }
  const combined = anySignal([callerSignal, timeout.signal]);
  return {
    signal: combined.signal,
    timedOut: () => timeout.signal.aborted && !callerSignal.aborted,
    dispose() {
      combined.dispose();
      timeout.dispose();
    },
  };
}

/** Reads at most `limit` bytes of a body as text; `undefined` when it is longer. */
export async function readLimitedText(
  response: Response,
  limit = MAX_BODY_BYTES,
): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Not awaited: cancelling one branch of a tee'd (cloned) body waits for the other.
      reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP-date
 * (RFC 9110 §10.2.3); `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number.parseInt(text, 10);
  // HTTP-date always names the weekday and GMT; Date.parse alone accepts too much.
  if (!/^[A-Za-z]{3},? .*GMT$/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function jsonResponse(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * Settles with `promise`, or rejects with `onAbort(signal)` (default: the
 * signal's reason) once `signal` aborts, so a timeout or a caller's abort ends
 * the wait even when the work behind `promise` ignores the signal.
 */
export function untilSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort: (signal: AbortSignal) => unknown = (aborted) => aborted.reason,
): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort(signal));
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

/** What the transport saw, for mapping errors after oauth4webapi is done. */
export interface TransportRecord {
  /** `true` once fetch was called. */
  sent: boolean;
  /** HTTP status of the answer, once one arrived. */
  status: number | undefined;
}

/**
 * Wraps `fetch` as oauth4webapi's `customFetch`, and normalises what real
 * Spotify sends where it is looser than oauth4webapi expects:
 *
 * - 429 becomes {@link RateLimitError} (with `Retry-After`), other non-2xx
 *   answers without an OAuth error body become {@link HTTPError};
 * - a 4xx OAuth error body is passed on as JSON whatever its Content-Type and
 *   without a `WWW-Authenticate` header, so oauth4webapi always reports it as a
 *   `ResponseBodyError` (this covers a 415 JSON error and a bare `{"error":"invalid_client"}`);
 * - a 200 body gets `expires_in` as a number when Spotify sent a numeric
 *   string, loses `id_token` (Spotify never sends one; this client does no
 *   OpenID Connect), and is re-served as `application/json`;
 * - bodies are read with a size limit.
 */
export function createCustomFetch(
  fetchImpl: FetchLike,
  now: () => number,
  record: TransportRecord,
): (url: string, init: RequestInit) => Promise<Response> {
  return async (url, init) => {
    record.sent = true;
    const response = await untilSignal(fetchImpl(url, init), init.signal ?? undefined);
    record.status = response.status;
    const text = await readLimitedText(response);
    const { status } = response;
    if (status === 429) {
      throw new RateLimitError(parseRetryAfter(response.headers.get('retry-after'), now()));
    }
    if (status === 200) {
      if (text === undefined) {
        throw new InvalidResponseError(
          status,
          `The token response is larger than ${MAX_BODY_BYTES} bytes`,
        );
      }
      const body = parseJsonObject(text);
      if (body === undefined) {
        throw new InvalidResponseError(status, 'The token response is not a JSON object');
      }
      if (typeof body.expires_in === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(body.expires_in)) {
        body.expires_in = Number(body.expires_in);
      }
      delete body.id_token;
      return jsonResponse(200, body);
    }
    if (status >= 200 && status < 300) {
      throw new InvalidResponseError(
        status,
        `The token endpoint answered HTTP ${status} instead of 200`,
      );
    }
    if (status >= 400 && status < 500 && text !== undefined) {
      const body = parseJsonObject(text);
      if (body !== undefined && typeof body.error === 'string' && body.error !== '') {
        return jsonResponse(status, body);
      }
    }
    throw new HTTPError(status, text ?? `(body larger than ${MAX_BODY_BYTES} bytes)`);
  };
}

/** Context for {@link toSpotifyError}. */
export interface FailureContext {
  grant: Grant;
  deadline: Deadline;
  callerSignal: AbortSignal | undefined;
  timeoutMs: number;
  record: TransportRecord;
  origin: string;
}

/**
 * Maps anything a token request threw onto this library's errors. Causes that
 * could carry secrets (oauth4webapi attaches response bodies with tokens) are
 * not kept; only static descriptions are.
 */
export function toSpotifyError(error: unknown, context: FailureContext): unknown {
  if (error instanceof SpotifyError) return error;
  if (error instanceof ResponseBodyError) {
    const init = {
      error: error.error,
      errorDescription: error.error_description,
      status: error.status,
      body: { ...error.cause } as Record<string, unknown>,
    };
    return context.grant === 'refresh_token' && error.error === 'invalid_grant'
      ? new RefreshTokenRevokedError(init)
      : new OAuthError(init);
  }
  if (error instanceof WWWAuthenticateChallengeError) {
    return new HTTPError(error.status, '');
  }
  if (context.callerSignal?.aborted === true) {
    return new AbortedError({ cause: context.callerSignal.reason });
  }
  if (context.deadline.timedOut()) {
    return new TimeoutError(context.timeoutMs, { cause: context.deadline.signal.reason });
  }
  if (context.record.status !== undefined) {
    const reason = error instanceof Error ? error.message : 'unknown reason';
    return new InvalidResponseError(
      context.record.status,
      `Unusable token response: ${reason.slice(0, 200)}`,
    );
  }
  if (context.record.sent) {
    return new NetworkError(`No answer from ${context.origin}`, { cause: error });
  }
  // Nothing was sent: a broken precondition inside this library, not a network failure.
  return error;
}

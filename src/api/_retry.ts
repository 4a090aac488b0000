/** Retry rules of the Web API client: which answers are retried, and how long to wait. */

/** Options of the client's retries; see `SpotifyWebAPIOptions.retry`. */
export interface RetryOptions {
  /**
   * Retries per request after the first attempt, shared by 429, 5xx and
   * network failures. The one retry after a refreshed token (HTTP 401) does
   * not count.
   * @default 2
   */
  limit?: number | undefined;
  /**
   * Longest `Retry-After`, in seconds, the client waits on a 429 (or 503). A
   * longer one throws `RateLimitError` at once, so a `Retry-After: 3600`
   * never freezes your app for an hour. `SpotifyWebAPI` applies the same cap
   * to a wait another client on the Session's store was told of: longer, it
   * throws `RateLimitError` without sending.
   * @default 60
   */
  maxRetryAfter?: number | undefined;
  /**
   * Milliseconds to wait before retry number `retry` (1, 2, …) of a 5xx or
   * network failure. Your function is used as it is (add your own jitter).
   * @default exponential with jitter: a random wait between half and all of
   *   `min(10_000, 500 × 2^(retry − 1))`
   */
  backoff?: ((retry: number) => number) | undefined;
}

export interface ResolvedRetry {
  limit: number;
  maxRetryAfter: number;
  backoff: (retry: number) => number;
}

export const DEFAULT_RETRY_LIMIT = 2;
export const DEFAULT_MAX_RETRY_AFTER_SECONDS = 60;

/** Exponential backoff with "equal jitter", so clients that failed together do not retry together. */
export function defaultBackoff(retry: number): number {
  const ceiling = Math.min(10_000, 500 * 2 ** Math.max(0, retry - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Methods that may be sent twice with the same effect (RFC 9110 §9.2.2).
 * POST is not: a retried "add items" would add them twice.
 */
export function isIdempotent(method: string): boolean {
  return method === 'GET' || method === 'PUT' || method === 'DELETE';
}

/**
 * Transient server failures. 501 is not one: it means "not implemented" (the
 * emulator's answer for operations it does not emulate) and would fail again.
 */
export function isTransientStatus(status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504;
}

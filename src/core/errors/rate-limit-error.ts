import { SpotifyError } from './spotify-error.js';

/** What {@link RateLimitError} is built from. */
export interface RateLimitErrorInit {
  /** Seconds to wait, from `Retry-After` (already parsed and capped). */
  retryAfter: number | undefined;
  /** The response headers. @default empty `Headers` */
  headers?: Headers | undefined;
  /**
   * What happened, when no 429 answered this request (a wait another request was told of).
   * @default "Spotify answered HTTP 429 (rate limited); retry after N s"
   */
  message?: string | undefined;
}

/**
 * Spotify answered HTTP 429 (too many requests), or, with `spotify-session/api`, a request was
 * not sent because Spotify had told this app to wait and the wait has not passed.
 */
export class RateLimitError extends SpotifyError {
  /** Always 429. */
  readonly status = 429;
  /** Seconds to wait, from `Retry-After`; `undefined` when the header was missing or unreadable. */
  readonly retryAfter: number | undefined;
  /** The response headers. */
  readonly headers: Headers;

  constructor(init: RateLimitErrorInit, options?: { cause?: unknown }) {
    const { retryAfter } = init;
    super(
      'RATE_LIMITED',
      init.message ??
        (retryAfter === undefined
          ? 'Spotify answered HTTP 429 (rate limited) without a usable Retry-After'
          : `Spotify answered HTTP 429 (rate limited); retry after ${retryAfter} s`),
      options,
    );
    this.name = 'RateLimitError';
    this.retryAfter = retryAfter;
    this.headers = init.headers ?? new Headers();
  }
}

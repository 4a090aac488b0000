import { SpotifyError } from './spotify-error.js';

/** Spotify answered HTTP 429. */
export class RateLimitError extends SpotifyError {
  /** Always 429. */
  readonly status = 429;
  /** Seconds to wait, from `Retry-After`; `undefined` when the header was missing or unreadable. */
  readonly retryAfter: number | undefined;

  constructor(retryAfter: number | undefined, options?: { cause?: unknown }) {
    super(
      'RATE_LIMITED',
      retryAfter === undefined
        ? 'Spotify answered HTTP 429 (rate limited) without a usable Retry-After'
        : `Spotify answered HTTP 429 (rate limited); retry after ${retryAfter} s`,
      options,
    );
    this.name = 'RateLimitError';
    this.retryAfter = retryAfter;
  }
}

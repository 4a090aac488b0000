import { SpotifyError } from './spotify-error.js';

/** No answer within the configured `timeout`. */
export class TimeoutError extends SpotifyError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeout: number;

  constructor(timeout: number, options?: { cause?: unknown }) {
    super('TIMEOUT', `Spotify did not answer within ${timeout} ms`, options);
    this.name = 'TimeoutError';
    this.timeout = timeout;
  }
}

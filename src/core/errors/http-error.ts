import { SpotifyError } from './spotify-error.js';

/** Spotify answered with an unexpected HTTP status that is not an OAuth error (typically 5xx). */
export class HTTPError extends SpotifyError {
  /** HTTP status of the response. */
  readonly status: number;
  /** The response body text, cut to 1 KiB (never a request's secret: it is what Spotify sent). */
  readonly bodyText: string;

  constructor(status: number, bodyText: string, options?: { cause?: unknown }) {
    super('HTTP_ERROR', `Spotify answered HTTP ${status}`, options);
    this.name = 'HTTPError';
    this.status = status;
    this.bodyText = bodyText.slice(0, 1024);
  }
}

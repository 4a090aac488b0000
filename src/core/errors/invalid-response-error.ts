import { SpotifyError } from './spotify-error.js';

/** A 2xx answer from Spotify could not be used (not JSON, a required field missing or of the wrong type). */
export class InvalidResponseError extends SpotifyError {
  /** HTTP status of the response. */
  readonly status: number;

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super('INVALID_RESPONSE', message, options);
    this.name = 'InvalidResponseError';
    this.status = status;
  }
}

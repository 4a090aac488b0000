import { SpotifyError } from './spotify-error.js';

/** The caller's `AbortSignal` fired before the request finished; `cause` is the signal's reason. */
export class AbortedError extends SpotifyError {
  constructor(options?: { cause?: unknown }) {
    super('ABORTED', 'The request was aborted by the caller', options);
    this.name = 'AbortedError';
  }
}

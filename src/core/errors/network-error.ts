import { SpotifyError } from './spotify-error.js';

/** The request never got an HTTP answer (DNS, refused or dropped connection); see `cause`. */
export class NetworkError extends SpotifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK_ERROR', message, options);
    this.name = 'NetworkError';
  }
}

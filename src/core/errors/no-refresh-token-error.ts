import { SpotifyError } from './spotify-error.js';

/** A refresh was asked for, but no refresh token was given or stored. */
export class NoRefreshTokenError extends SpotifyError {
  constructor() {
    super(
      'NO_REFRESH_TOKEN',
      'No refresh token: pass one to refreshAccessToken() or call setRefreshToken() first (client-credentials tokens have none)',
    );
    this.name = 'NoRefreshTokenError';
  }
}

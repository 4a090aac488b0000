import { SpotifyError } from './spotify-error.js';

/**
 * A refresh was needed or asked for, but there is no refresh token to do it
 * with. The message says what to do in the situation at hand (authorize the
 * user, pass a refresh token, or configure a client secret for app tokens).
 */
export class NoRefreshTokenError extends SpotifyError {
  constructor(
    message = 'No refresh token: pass one to refreshAccessToken(), call setRefreshToken(), or authorize the user first',
  ) {
    super('NO_REFRESH_TOKEN', message);
    this.name = 'NoRefreshTokenError';
  }
}

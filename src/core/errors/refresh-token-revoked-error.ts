import { OAuthError } from './oauth-error.js';

/**
 * The refresh grant answered `invalid_grant`: the refresh token is unknown,
 * was rotated away, revoked, or is past Spotify's six-month lifetime.
 *
 * It is never retried. Discard the stored refresh token and send the user
 * through authorization again.
 */
export class RefreshTokenRevokedError extends OAuthError {
  constructor(init: ConstructorParameters<typeof OAuthError>[0], options?: { cause?: unknown }) {
    super(init, { ...options, code: 'REFRESH_TOKEN_REVOKED' });
    this.name = 'RefreshTokenRevokedError';
    this.message = `${this.message}. Discard the stored refresh token and ask the user to log in again.`;
  }
}

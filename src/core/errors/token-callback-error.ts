import { SpotifyError } from './spotify-error.js';

/**
 * The `onTokens` callback threw (or rejected) while the Session was handing
 * it new tokens; `cause` is what it threw.
 *
 * The Session still holds the new tokens (after a rotation they are the only
 * valid ones), so read `session.toJSON()` and try persisting again.
 */
export class TokenCallbackError extends SpotifyError {
  constructor(options: { cause: unknown }) {
    super(
      'TOKEN_CALLBACK_FAILED',
      'onTokens failed; the Session holds the new tokens but they were not persisted: store session.toJSON() again',
      options,
    );
    this.name = 'TokenCallbackError';
  }
}

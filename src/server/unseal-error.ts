import { SpotifyError } from '../core/errors/index.js';

/** The one message every unseal failure carries. */
const UNSEAL_ERROR_MESSAGE = 'Invalid or expired refresh token';

/**
 * A sealed refresh token could not be opened.
 *
 * Thrown by {@link Keyring.unseal} for every failure alike — unknown or retired
 * key id, a changed or missing byte, a token sealed for another client, a token
 * older than `maxAge` or dated in the future, garbage, an empty or oversized
 * string — always with the same fixed message and no `cause`. Telling the
 * failures apart would give an attacker an oracle (which key ids exist, which
 * prefix parses), so nothing about the input is revealed; a swap server maps it
 * to `invalid_grant` and the app asks the user to log in again.
 *
 * Its `code` is `'UNSEAL_FAILED'`. Match it with `instanceof UnsealError` or
 * `isSpotifyError(error, 'UNSEAL_FAILED')`.
 */
export class UnsealError extends SpotifyError {
  constructor() {
    super('UNSEAL_FAILED', UNSEAL_ERROR_MESSAGE);
    this.name = 'UnsealError';
  }
}

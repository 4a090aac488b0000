/**
 * Stable, machine-readable error codes. A code never changes once released;
 * match on `error.code` (or `instanceof`, or {@link isSpotifyError}), never
 * on `error.message`.
 */
export type SpotifyErrorCode =
  | 'INVALID_CONFIGURATION'
  | 'INVALID_ARGUMENT'
  | 'AUTHORIZATION_ERROR'
  | 'OAUTH_ERROR'
  | 'REFRESH_TOKEN_REVOKED'
  | 'RATE_LIMITED'
  | 'HTTP_ERROR'
  | 'INVALID_RESPONSE'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'NO_REFRESH_TOKEN'
  | 'TOKEN_CALLBACK_FAILED'
  /** A sealed refresh token could not be opened (the token server's `UnsealError`). */
  | 'UNSEAL_FAILED'
  /** The Web API answered with an error (`WebAPIError` from the Web API client). */
  | 'WEB_API_ERROR'
  /** A `TokenStore` failed to read, write or delete tokens (`StoreError`). */
  | 'STORE_FAILED'
  /** A `TokenStore` lock was not acquired in time (`LockTimeoutError`). */
  | 'LOCK_TIMEOUT';

/**
 * Marks instances of {@link SpotifyError} across copies of this library (two
 * installed versions, or a bundle and a package), where `instanceof` fails.
 */
export const SPOTIFY_ERROR_BRAND: unique symbol = Symbol.for('spotify-session.SpotifyError');

/**
 * Base class of every error this library throws.
 *
 * Messages never contain tokens, codes, verifiers or client secrets, so an
 * error may be logged as it is.
 */
export class SpotifyError extends Error {
  /** Stable identifier of the failure kind. */
  readonly code: SpotifyErrorCode;

  constructor(code: SpotifyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SpotifyError';
    this.code = code;
  }
}

Object.defineProperty(SpotifyError.prototype, SPOTIFY_ERROR_BRAND, { value: true });

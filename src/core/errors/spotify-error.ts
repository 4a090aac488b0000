/**
 * Stable, machine-readable error codes. A code never changes once released;
 * match on `error.code` (or `instanceof`), never on `error.message`.
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
  | 'TOKEN_CALLBACK_FAILED';

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

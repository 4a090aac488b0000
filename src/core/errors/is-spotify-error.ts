import type { AbortedError } from './aborted-error.js';
import type { AuthorizationError } from './authorization-error.js';
import type { ConfigurationError } from './configuration-error.js';
import type { HTTPError } from './http-error.js';
import type { InvalidArgumentError } from './invalid-argument-error.js';
import type { InvalidResponseError } from './invalid-response-error.js';
import type { LockTimeoutError } from './lock-timeout-error.js';
import type { NetworkError } from './network-error.js';
import type { NoRefreshTokenError } from './no-refresh-token-error.js';
import type { OAuthError } from './oauth-error.js';
import type { RateLimitError } from './rate-limit-error.js';
import type { RefreshTokenRevokedError } from './refresh-token-revoked-error.js';
import { SPOTIFY_ERROR_BRAND, type SpotifyError, type SpotifyErrorCode } from './spotify-error.js';
import type { StoreError } from './store-error.js';
import type { TimeoutError } from './timeout-error.js';
import type { TokenCallbackError } from './token-callback-error.js';

/** The class behind each code this package defines in core. */
export interface SpotifyErrorByCode {
  INVALID_CONFIGURATION: ConfigurationError;
  INVALID_ARGUMENT: InvalidArgumentError;
  AUTHORIZATION_ERROR: AuthorizationError;
  OAUTH_ERROR: OAuthError;
  REFRESH_TOKEN_REVOKED: RefreshTokenRevokedError;
  RATE_LIMITED: RateLimitError;
  HTTP_ERROR: HTTPError;
  INVALID_RESPONSE: InvalidResponseError;
  NETWORK_ERROR: NetworkError;
  TIMEOUT: TimeoutError;
  ABORTED: AbortedError;
  NO_REFRESH_TOKEN: NoRefreshTokenError;
  TOKEN_CALLBACK_FAILED: TokenCallbackError;
  STORE_FAILED: StoreError;
  LOCK_TIMEOUT: LockTimeoutError;
}

/** The error type {@link isSpotifyError} narrows to for `code`. */
export type SpotifyErrorFor<C extends SpotifyErrorCode> = C extends keyof SpotifyErrorByCode
  ? SpotifyErrorByCode[C]
  : SpotifyError & { readonly code: C };

/**
 * `true` when `value` is an error from this library, and, when `code` is
 * given, one with that code. Unlike `instanceof`, it also recognises errors
 * from another copy of the library (two installed versions, a bundle).
 *
 * @example
 * ```ts
 * import { isSpotifyError } from 'spotify-session';
 *
 * function describe(error: unknown): string {
 *   if (isSpotifyError(error, 'RATE_LIMITED')) return `retry in ${error.retryAfter ?? 1} s`;
 *   if (isSpotifyError(error)) return error.code;
 *   return 'unexpected';
 * }
 * ```
 */
export function isSpotifyError(value: unknown): value is SpotifyError;
export function isSpotifyError<C extends SpotifyErrorCode>(
  value: unknown,
  code: C,
): value is SpotifyErrorFor<C>;
export function isSpotifyError(value: unknown, code?: SpotifyErrorCode): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<symbol, unknown>)[SPOTIFY_ERROR_BRAND] !== true) return false;
  return code === undefined || (value as { code?: unknown }).code === code;
}
